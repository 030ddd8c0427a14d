"""`rcrop.crop` against Keras' goldens: the crops of `fixtures/npy/` (every
dtype, both memory orders, both byte orders) and of `fixtures/layers/`
(Cropping1D, Cropping3D, CenterCrop and the layer chosen by rank)."""

from __future__ import annotations

import json

import numpy
import pytest

import rcrop
from conftest import FIXTURES, assert_same, cases


@pytest.mark.parametrize("case", cases("npy/cases.tsv"))
def test_crop_equals_keras_cropping2d(case):
    x = numpy.load(FIXTURES / "npy" / case["input"])
    if case["expected"] == "error":
        with pytest.raises(ValueError):
            rcrop.crop(x, case["crop"], data_format=case["format"])
        return
    expected = numpy.load(FIXTURES / "npy" / case["expected"])
    found = rcrop.crop(x, case["crop"], data_format=case["format"])
    assert_same(found, expected)
    if x.flags.f_contiguous and not x.flags.c_contiguous:
        assert found.flags.f_contiguous


def layer_cases() -> list:
    """The cases of `fixtures/layers/` that crop one `.npy` array with
    the flags `crop` has keywords for."""
    taken = {"--crop", "--layer", "--format", "--center-crop"}
    kept = []
    for param in cases("layers/cases.tsv"):
        case = param.values[0]
        args = json.loads(case["args"])
        flags = set(args[::2])
        if flags <= taken and case["inputs"].endswith(".npy") and " " not in case["inputs"]:
            if case["expected"].startswith(("out:", "exit:")):
                kept.append(param)
    return kept


@pytest.mark.parametrize("case", layer_cases())
def test_crop_equals_keras_layers(case):
    args = dict(zip(*[iter(json.loads(case["args"]))] * 2))
    layer = args.get("--layer")
    cropping = args.get("--crop")
    if "--center-crop" in args:
        layer, cropping = "CenterCrop", tuple(int(n) for n in args["--center-crop"].split(","))
    x = numpy.load(FIXTURES / "layers" / case["inputs"])
    kind, _, expected = case["expected"].partition(":")
    call = lambda: rcrop.crop(x, cropping, layer=layer, data_format=args.get("--format"))  # noqa: E731
    if kind == "exit":
        with pytest.raises(ValueError):
            call()
    else:
        assert_same(call(), numpy.load(FIXTURES / "layers" / expected))


def test_crop_takes_keras_values_and_numpy_ints():
    x = numpy.arange(2 * 9 * 8 * 3, dtype=numpy.int16).reshape(2, 9, 8, 3)
    asymmetric = x[:, 2:6, 1:5, :]
    for cropping in [((2, 3), (1, 3)), [[2, 3], [1, 3]], "2,3:1,3"]:
        assert_same(rcrop.crop(x, cropping), asymmetric)
    assert_same(rcrop.crop(x, (numpy.int64(2), 3)), x[:, 2:7, 3:5, :])


def test_crop_keeps_every_fixed_size_dtype():
    base = numpy.arange(1 * 6 * 5 * 2).reshape(1, 6, 5, 2)
    dtypes = ["?", "i1", ">u2", "<i8", "f2", ">f8", "c16", "U3", "S2", "M8[ns]", "m8[s]", "V3"]
    for dtype in dtypes:
        x = base.astype(dtype)
        assert_same(rcrop.crop(x, (1, 2)), x[:, 1:5, 2:3, :])
    record = numpy.zeros((1, 4, 4, 1), dtype=[("a", "<i4"), ("b", "S3")])
    record["a"] = numpy.arange(16).reshape(1, 4, 4, 1)
    assert_same(rcrop.crop(record, 1), record[:, 1:3, 1:3, :])


def test_crop_copies_strided_views_and_returns_a_new_array():
    x = numpy.arange(2 * 12 * 10 * 3, dtype=numpy.float32).reshape(2, 12, 10, 3)
    view = x[:, ::2, ::-1, :]
    found = rcrop.crop(view, 1)
    assert_same(found, view[:, 1:5, 1:9, :])
    found[...] = -1
    assert (x >= 0).all()


def autocast_cases() -> list:
    """The array cases of `fixtures/autocast/` the function's arguments can
    say: those of the default float32 policy."""
    rows = cases("autocast/cases.tsv")
    return [
        case
        for case in rows
        if case.values[0]["input"].startswith("autocast/")
        and "--config" not in case.values[0]["args"]
    ]


@pytest.mark.parametrize("case", autocast_cases())
def test_autocast_gives_what_keras_gives(case):
    x = numpy.load(FIXTURES / case["input"])
    flag, value = case["args"].split(" ")
    if flag == "--center-crop":
        size = tuple(int(v) for v in value.split(","))
        found = rcrop.crop(x, size, layer="CenterCrop", autocast=True)
    else:
        found = rcrop.crop(x, value, autocast=True)
    assert_same(found, numpy.load(FIXTURES / case["expected"]))


def test_autocast_refuses_what_keras_cannot_cast():
    x = numpy.zeros((1, 4, 4, 1), numpy.complex64)
    with pytest.raises(ValueError, match="dtype <c8 has no such cast"):
        rcrop.crop(x, (2, 2), layer="CenterCrop", autocast=True)
    assert rcrop.crop(x, 1, autocast=True).dtype == numpy.complex64


def test_autocast_casts_floating_results_to_float32_only():
    x = numpy.linspace(0, 1, 1 * 4 * 4 * 1).reshape(1, 4, 4, 1)
    assert rcrop.crop(x, 1).dtype == numpy.float64
    assert_same(rcrop.crop(x, 1, autocast=True), x[:, 1:3, 1:3, :].astype(numpy.float32))
    ints = numpy.zeros((1, 4, 4, 1), dtype=numpy.uint8)
    assert rcrop.crop(ints, 1, autocast=True).dtype == numpy.uint8


def test_crop_refuses_in_value_errors_naming_the_problem():
    x = numpy.zeros((1, 4, 4, 1))
    with pytest.raises(ValueError, match="removes 4 of the 4 rows") as refused:
        rcrop.crop(x, 2)
    # Keras' own sentence, as its layer raises it.
    assert "should be smaller than the corresponding spatial dimension" in str(refused.value)
    with pytest.raises(ValueError, match="non-negative integer"):
        rcrop.crop(x, "a")
    with pytest.raises(ValueError, match="expected a 3D array"):
        rcrop.crop(numpy.zeros((4, 4)), 1)
    with pytest.raises(ValueError, match="needs at least 5 rows"):
        rcrop.crop(x, (5, 5), layer="CenterCrop")
    with pytest.raises(TypeError, match="Python objects"):
        rcrop.crop(numpy.zeros((1, 4, 4, 1), dtype=object), 1)
