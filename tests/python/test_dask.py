"""Crops spread over a real Dask cluster (two worker processes) give the
bytes the command line writes: files with `client.map(rcrop.crop_file, …)`,
and bytes, as an engine holding files in memory passes them, with
`rcrop.crop_bytes`."""

from __future__ import annotations

import subprocess

import pytest
from dask.distributed import Client, LocalCluster

import rcrop
from conftest import FIXTURES

INPUTS = [
    FIXTURES / "images" / "rgb.jpg",
    FIXTURES / "images" / "rgb8.png",
    FIXTURES / "images" / "rgba8.png",
    FIXTURES / "images" / "gray16.png",
    FIXTURES / "images" / "rgb8.tif",
    FIXTURES / "npy" / "demo_f4_c.npy",
    *sorted((FIXTURES / "tar").glob("shard*.tar")),
]


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def test_the_inputs_include_tar_shards():
    assert any(p.suffix == ".tar" for p in INPUTS)


def test_crop_file_on_a_cluster_writes_what_the_command_writes(client, tmp_path, command):
    by_dask = [tmp_path / f"dask_{i}{p.suffix}" for i, p in enumerate(INPUTS)]
    futures = client.map(rcrop.crop_file, INPUTS, by_dask, cropping=1, pure=False)
    records = client.gather(futures)
    assert [r["status"] for r in records] == ["ok"] * len(INPUTS)
    # Each task ran in a worker process, not here.
    assert len(client.scheduler_info()["workers"]) == 2
    for source, found in zip(INPUTS, by_dask):
        expected = tmp_path / f"cli_{found.name}"
        subprocess.run([command, "--crop", "1", source, expected], check=True)
        assert found.read_bytes() == expected.read_bytes(), source.name


def test_crop_bytes_on_a_cluster_gives_what_the_command_writes(client, tmp_path, command):
    data = [p.read_bytes() for p in INPUTS]
    futures = client.map(rcrop.crop_bytes, data, cropping=1, pure=False)
    for source, found in zip(INPUTS, client.gather(futures)):
        expected = subprocess.run(
            [command, "--crop", "1", "-", "-"],
            input=source.read_bytes(),
            capture_output=True,
            check=True,
        ).stdout
        assert found == expected, source.name
