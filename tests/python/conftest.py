"""What the Python tests share: the fixtures, their manifests, and an exact
comparison of arrays."""

from __future__ import annotations

import csv
import os
import shutil
import sys
from pathlib import Path

import numpy
import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def cases(manifest: str) -> list[dict[str, str]]:
    """The rows of a fixtures manifest (a TSV with a header), as pytest
    parameters named by their `name` column."""
    with open(FIXTURES / manifest, newline="") as file:
        rows = list(csv.DictReader(file, delimiter="\t"))
    return [pytest.param(row, id=row["name"]) for row in rows]


def assert_same(found: numpy.ndarray, expected: numpy.ndarray) -> None:
    """Same shape, dtype and bytes: NaNs, signed zeros and padding included."""
    assert found.shape == expected.shape
    assert found.dtype == expected.dtype
    assert numpy.ascontiguousarray(found).tobytes() == numpy.ascontiguousarray(expected).tobytes()


@pytest.fixture(scope="session")
def command() -> str:
    """The `rcrop` command the package installs beside this Python."""
    beside = Path(sys.executable).parent / ("rcrop.exe" if os.name == "nt" else "rcrop")
    found = str(beside) if beside.exists() else shutil.which("rcrop")
    assert found, "the package installed no rcrop command"
    return found
