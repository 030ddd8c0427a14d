"""The `rcrop` command the package installs (and `python -m rcrop`): the
command line run through the extension module, with its output, exit
statuses and signal handling; and the GIL released while rcrop works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy
import pytest

import rcrop
from conftest import FIXTURES

DEMO = FIXTURES / "npy" / "demo_f4_c.npy"


def test_the_command_crops_as_the_binary_does(tmp_path, command):
    run = subprocess.run([command, "--crop", "2", DEMO, tmp_path / "out.npy"], capture_output=True)
    assert run.returncode == 0, run.stderr
    golden = FIXTURES / "npy" / "demo_f4_c_crop2_expected.npy"
    assert (tmp_path / "out.npy").read_bytes() == golden.read_bytes()


def test_the_command_and_the_module_say_one_version(command):
    for argv in ([command], [sys.executable, "-m", "rcrop"]):
        run = subprocess.run([*argv, "--version"], capture_output=True, text=True, check=True)
        assert run.stdout == f"rcrop {rcrop.__version__}\n"


def test_the_command_writes_its_report_to_standard_output(command):
    run = subprocess.run(
        [command, "--crop", "2", "--dry-run", "--report", "json", DEMO, "o.npy"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.count("\n") == 2 and '"output_shape":[2,4,4,3]' in run.stdout


@pytest.mark.parametrize(
    "args, status, message",
    [
        (["--crop", "2", "--bogus"], 2, "unexpected argument '--bogus'"),
        (["--crop", "x", "in.npy", "out.npy"], 2, "non-negative integer"),
        (["--crop", "2", "no-such.npy", "out.npy"], 1, "no-such.npy: cannot open"),
        (["--crop", "4", str(DEMO), "out.npy"], 1, "a crop must leave"),
    ],
)
def test_the_command_exits_with_the_documented_status(tmp_path, command, args, status, message):
    run = subprocess.run([command, *args], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == status
    assert message in run.stderr
    assert not (tmp_path / "out.npy").exists()


def default_signals() -> None:
    """The default action of the signals sent, as from an interactive shell:
    a test run started in the background by a shell without job control
    inherits SIGINT ignored, and rcrop keeps an ignored signal ignored."""
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


@pytest.mark.skipif(os.name != "posix", reason="signals and FIFOs are POSIX")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_the_command_dies_by_the_signal_and_leaves_no_temporary_file(tmp_path, command, sig):
    fifo = tmp_path / "in.npy"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    out.mkdir()
    child = subprocess.Popen(
        [command, "--crop", "1", fifo, out / "o.npy"],
        stderr=subprocess.PIPE,
        preexec_fn=default_signals,
    )
    with open(fifo, "wb") as writer:
        data = DEMO.read_bytes()
        writer.write(data[: len(data) // 2])
        writer.flush()
        deadline = time.monotonic() + 30
        while not any(out.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert any(out.iterdir()), "rcrop made no temporary file"
        child.send_signal(sig)
        child.wait(timeout=30)
    assert child.returncode == -sig
    assert list(out.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="FIFOs are POSIX")
def test_rcrop_releases_the_gil_while_it_works(tmp_path):
    """rcrop blocks reading a FIFO on one thread while the other thread,
    running Python, opens the FIFO to write it: with the GIL held, neither
    would move."""
    fifo = tmp_path / "in.npy"
    os.mkfifo(fifo)
    numpy.save(tmp_path / "src.npy", numpy.zeros((1, 6, 6, 1), dtype=numpy.uint8))
    script = f"""
import threading, rcrop
from pathlib import Path
worker = threading.Thread(target=rcrop.crop_file, args=({str(fifo)!r}, {str(tmp_path / "o.npy")!r}),
                          kwargs={{"cropping": 1}})
worker.start()
Path({str(fifo)!r}).write_bytes(Path({str(tmp_path / "src.npy")!r}).read_bytes())
worker.join()
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert numpy.load(tmp_path / "o.npy").shape == (1, 4, 4, 1)
