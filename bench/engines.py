#!/usr/bin/env python3
"""Benchmark rcrop on a Dask cluster against the command line's own
parallelism, on the same tar shards. Not part of CI.

    python3 -m venv /tmp/benchenv
    /tmp/benchenv/bin/pip install . pillow numpy "distributed==2026.8.0"
    cargo build --release
    /tmp/benchenv/bin/python bench/engines.py [--shards 8] [--samples 50] [--runs 5]

Makes, once, in bench/work/engines/ (git-ignored): SHARDS WebDataset
shards of SAMPLES samples, each a 1024x768 JPEG (Pillow, quality 90) and
a .json. Then times `--crop 16` of every shard into a folder:
- rcrop -j 2: `target/release/rcrop -j 2 -c 16 --out-dir OUT shards/*.tar`;
- dask 2 workers: a LocalCluster of two worker processes (one thread each,
  started before the clock starts, as a cluster is in use) running
  `client.map(rcrop.crop_file, shards, outputs, cropping=16)`.
Prints the median wall time of each, the throughput in samples a second,
and Dask's throughput as a share of the command line's (the target is at
least 0.8). Both write the same bytes, which it checks.
"""

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import tarfile
import time

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "bench", "work", "engines")
RCROP = os.path.join(ROOT, "target", "release", "rcrop")


def jpeg(seed):
    """A photo-like 1024x768 JPEG: a smooth field with fine noise."""
    rng = np.random.default_rng(seed)
    small = rng.random((26, 34, 3)) * 255
    field = Image.fromarray(small.astype(np.uint8)).resize((1024, 768), Image.BICUBIC)
    pixels = np.asarray(field, dtype=np.int16) + rng.integers(-6, 7, (768, 1024, 3))
    out = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=90)
    return out.getvalue()


def make(shards, samples):
    folder = os.path.join(WORK, f"shards_{shards}x{samples}")
    paths = [os.path.join(folder, f"{i:06d}.tar") for i in range(shards)]
    if all(os.path.exists(p) for p in paths):
        return paths
    os.makedirs(folder, exist_ok=True)
    for s, path in enumerate(paths):
        with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
            for k in range(samples):
                key = f"{s * samples + k:06d}"
                for name, data in [
                    (f"{key}.jpg", jpeg(s * samples + k)),
                    (f"{key}.json", json.dumps({"key": key}).encode()),
                ]:
                    info = tarfile.TarInfo(name)
                    info.size, info.mtime, info.mode = len(data), 1_700_000_000, 0o644
                    tar.addfile(info, io.BytesIO(data))
    return paths


def fresh(folder):
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    return folder


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import rcrop
    from dask.distributed import Client, LocalCluster

    shards = make(args.shards, args.samples)
    cli_out, dask_out = os.path.join(WORK, "out_cli"), os.path.join(WORK, "out_dask")
    times = {"rcrop -j 2": [], "dask 2 workers": []}
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            client.run(lambda: __import__("rcrop"))
            for _ in range(args.runs):
                fresh(cli_out)
                start = time.perf_counter()
                subprocess.run([RCROP, "-q", "-j", "2", "-c", "16", "--out-dir", cli_out, *shards],
                               check=True)
                times["rcrop -j 2"].append(time.perf_counter() - start)
                fresh(dask_out)
                outputs = [os.path.join(dask_out, os.path.basename(s)) for s in shards]
                start = time.perf_counter()
                futures = client.map(rcrop.crop_file, shards, outputs, cropping=16, pure=False)
                client.gather(futures)
                times["dask 2 workers"].append(time.perf_counter() - start)
    for name in os.listdir(cli_out):
        with open(os.path.join(cli_out, name), "rb") as a, open(os.path.join(dask_out, name), "rb") as b:
            assert a.read() == b.read(), f"{name}: the outputs differ"
    samples = args.shards * args.samples
    print(f"{args.shards} shards of {args.samples} samples (1024x768 JPEG + .json), "
          f"--crop 16, median of {args.runs}")
    print("| run | seconds | samples/s |")
    print("| --- | --- | --- |")
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, seconds in medians.items():
        print(f"| {name} | {seconds:.2f} | {samples / seconds:.0f} |")
    share = medians["rcrop -j 2"] / medians["dask 2 workers"]
    print(f"Dask's throughput is {share:.2f}x the command line's (target >= 0.8); "
          "the outputs are byte-identical")


if __name__ == "__main__":
    main()
