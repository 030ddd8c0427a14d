"""`rcrop.crop_file`, `crop_files` and `crop_bytes`: the command line's job,
with its options as keywords, writing what the `rcrop` command writes and
returning the records its `--report json` prints."""

from __future__ import annotations

import json
import subprocess

import numpy
import pytest

import rcrop
from conftest import FIXTURES, assert_same, cases

DEMO = FIXTURES / "npy" / "demo_f4_c.npy"
JPEG = FIXTURES / "images" / "rgb.jpg"


def command_records(command, *args) -> list[dict]:
    """The per-input records `rcrop --report json ARGS` prints."""
    run = subprocess.run(
        [command, "--report", "json", *map(str, args)], capture_output=True, check=True
    )
    records = [json.loads(line) for line in run.stdout.splitlines()]
    return [r for r in records if r["record"] == "input"]


def test_crop_file_writes_the_golden_and_returns_the_report_record(tmp_path, command):
    out = tmp_path / "out.npy"
    record = rcrop.crop_file(DEMO, out, cropping=2)
    assert out.read_bytes() == (FIXTURES / "npy" / "demo_f4_c_crop2_expected.npy").read_bytes()
    assert record == command_records(command, "--crop", "2", DEMO, out)[0]
    assert record["status"] == "ok" and record["output_shape"] == [2, 4, 4, 3]


@pytest.mark.parametrize(
    "options, flags",
    [
        ({"to": "png", "center_crop": (4, 5)}, ["--to", "png", "--center-crop", "4,5"]),
        ({"cropping": ((1, 2), (3, 4)), "quality": 80}, ["--crop", "1,2:3,4", "--quality", "80"]),
        (
            {"cropping": 2, "color_mode": "grayscale", "to": "npy"},
            ["--crop", "2", "--color-mode", "grayscale", "--to", "npy"],
        ),
        ({"cropping": 8, "lossless": True}, ["--crop", "8", "--lossless"]),
    ],
)
def test_crop_file_options_are_the_command_lines_flags(tmp_path, command, options, flags):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    record = rcrop.crop_file(JPEG, ours / "out", **options)
    command_record = command_records(command, *flags, JPEG, theirs / "out")[0]
    assert (ours / "out").read_bytes() == (theirs / "out").read_bytes()
    assert record["output_shape"] == command_record["output_shape"]
    assert record["jpeg"] == command_record["jpeg"]


def test_crop_files_returns_a_record_an_input_in_order(tmp_path, command):
    inputs = [FIXTURES / "npy" / name for name in ["u1_c_cl.npy", "f4le_f_cf.npy", "b1_c_cl.npy"]]
    records = rcrop.crop_files(
        inputs, tmp_path / "ours", jobs=2, cropping=1, data_format="channels_first"
    )
    theirs = command_records(
        command,
        "--crop",
        "1",
        "--format",
        "channels_first",
        "--out-dir",
        tmp_path / "theirs",
        *inputs,
    )
    assert [r["input"] for r in records] == [str(p) for p in inputs]
    for ours, expected, path in zip(records, theirs, inputs):
        assert ours == {**expected, "output": ours["output"]}
        assert (tmp_path / "ours" / path.name).read_bytes() == (
            tmp_path / "theirs" / path.name
        ).read_bytes()


def test_crop_files_raises_the_first_failure_unless_it_keeps_going(tmp_path):
    inputs = [DEMO, FIXTURES / "no-such.npy", FIXTURES / "npy" / "u1_c_cl.npy"]
    with pytest.raises(FileNotFoundError, match=r"no-such\.npy: cannot open"):
        rcrop.crop_files(inputs, tmp_path / "a", cropping=1, jobs=1)
    records = rcrop.crop_files(inputs, tmp_path / "b", cropping=1, keep_going=True)
    assert [r["status"] for r in records] == ["ok", "failed", "ok"]
    assert "no-such.npy: cannot open" in records[1]["error"]


def test_crop_file_refuses_bad_options_and_crops_in_value_errors(tmp_path):
    with pytest.raises(ValueError, match="unexpected argument '--bogus'"):
        rcrop.crop_file(DEMO, tmp_path / "o.npy", cropping=1, bogus=1)
    with pytest.raises(ValueError, match="a crop must leave"):
        rcrop.crop_file(DEMO, tmp_path / "o.npy", cropping=4)
    with pytest.raises(TypeError, match="out_dir"):
        rcrop.crop_file(DEMO, tmp_path / "o.npy", cropping=1, out_dir=tmp_path)
    assert not (tmp_path / "o.npy").exists()


def test_crop_bytes_gives_the_bytes_crop_file_writes(tmp_path):
    rcrop.crop_file(JPEG, tmp_path / "out.png", cropping=3, to="png")
    assert (
        rcrop.crop_bytes(JPEG.read_bytes(), cropping=3, to="png")
        == (tmp_path / "out.png").read_bytes()
    )
    npy = rcrop.crop_bytes(DEMO.read_bytes(), cropping=2)
    assert npy == (FIXTURES / "npy" / "demo_f4_c_crop2_expected.npy").read_bytes()
    with pytest.raises(rcrop.FileError, match="<bytes>"):
        rcrop.crop_bytes(b"\x89PNG\r\n\x1a\n truncated", cropping=1)


@pytest.mark.parametrize("case", cases("npz/cases.tsv"))
def test_crop_file_crops_npz_members_as_keras_with_key_lists(tmp_path, case):
    keys = [] if case["keys"] == "-" else case["keys"].split(",")
    out = tmp_path / "out.npz"
    record = rcrop.crop_file(
        FIXTURES / "npz" / case["input"],
        out,
        cropping=case["crop"],
        data_format=case["format"],
        key=keys,
    )
    members = dict(pair.split("=") for pair in case["members"].split())
    assert [m["name"] for m in record["members"]] == list(members)
    with numpy.load(out) as archive:
        for member, golden in members.items():
            expected = numpy.load(FIXTURES / "npz" / golden)
            assert_same(archive[member.removesuffix(".npy")], expected)
