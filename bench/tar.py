#!/usr/bin/env python3
"""Benchmark a tar shard cropped into a tar shard against the same members
cropped as a folder of files. Not part of CI.

    python3 -m venv /tmp/benchenv && /tmp/benchenv/bin/pip install pillow numpy
    cargo build --release                   # and GNU time at /usr/bin/time
    /tmp/benchenv/bin/python bench/tar.py [--samples 200] [--runs 5] [--rcrop PATH]

Makes, once, in bench/work/tar/ (git-ignored): a WebDataset shard of
SAMPLES samples, each a 1024×768 JPEG (Pillow, quality 90), a 256×192 PNG,
a (1, 64, 64, 3) float32 .npy, a .json and a .cls; and a folder holding
the same JPEG, PNG and .npy members as files. Then times, `--crop 16`:
- shard: `rcrop shard.tar out.tar` (one member at a time, one thread);
- folder -j 1: `rcrop -j 1 --out-dir out/ folder/*`, the same members,
  one thread, the fair comparison;
- folder -j 2: the same on two threads.
Prints the median wall time and peak memory of each, and the ratio of the
shard to the folder on one thread (the target is at most 1.2).
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
WORK = os.path.join(ROOT, "bench", "work", "tar")


def make(samples):
    shard = os.path.join(WORK, f"shard_{samples}.tar")
    folder = os.path.join(WORK, f"folder_{samples}")
    if os.path.exists(shard) and os.path.isdir(folder):
        return shard, folder
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(20261206)
    base = rng.integers(0, 256, size=(768, 1024, 3), dtype=np.uint8)
    with tarfile.open(shard, "w", format=tarfile.PAX_FORMAT) as tar:
        for index in range(samples):
            key = f"{index:06d}"
            pixels = np.roll(base, index * 7, axis=1)
            jpg, png, npy = io.BytesIO(), io.BytesIO(), io.BytesIO()
            Image.fromarray(pixels).save(jpg, "JPEG", quality=90)
            Image.fromarray(pixels[::4, ::4]).save(png, "PNG")
            np.save(npy, rng.standard_normal((1, 64, 64, 3)).astype(np.float32))
            members = {
                f"{key}.cls": f"{index % 10}\n".encode(),
                f"{key}.jpg": jpg.getvalue(),
                f"{key}.json": json.dumps({"key": key}).encode(),
                f"{key}.npy": npy.getvalue(),
                f"{key}.png": png.getvalue(),
            }
            for name, data in members.items():
                entry = tarfile.TarInfo(name)
                entry.size, entry.mtime = len(data), 1700000000
                tar.addfile(entry, io.BytesIO(data))
                if not name.endswith((".cls", ".json")):
                    with open(os.path.join(folder, name), "wb") as f:
                        f.write(data)
    return shard, folder


def timed(cmd, runs):
    """Median wall seconds and the largest peak RSS (MiB, GNU time's %M)
    over `runs` runs."""
    walls, peak = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], check=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        walls.append(time.perf_counter() - start)
        peak = max(peak, int(done.stderr.split()[-1]))
    return statistics.median(walls), peak / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rcrop", default=os.path.join(ROOT, "target", "release", "rcrop"))
    args = parser.parse_args()
    shard, folder = make(args.samples)
    out = os.path.join(WORK, "out")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    inputs = sorted(os.path.join(folder, n) for n in os.listdir(folder))
    crop = [args.rcrop, "--crop", "16"]
    rows = [
        ("shard", crop + [shard, os.path.join(out, "out.tar")]),
        ("folder -j 1", crop + ["-j", "1", "--out-dir", out] + inputs),
        ("folder -j 2", crop + ["-j", "2", "--out-dir", out] + inputs),
    ]
    size = os.path.getsize(shard) / 2**20
    print(f"{args.samples} samples, shard {size:.1f} MiB, --crop 16, median of {args.runs}")
    print(f"{'run':<12} {'seconds':>8} {'peak MiB':>9}")
    results = {}
    for name, cmd in rows:
        results[name] = timed(cmd, args.runs)
        print(f"{name:<12} {results[name][0]:>8.3f} {results[name][1]:>9.1f}")
    ratio = results["shard"][0] / results["folder -j 1"][0]
    verdict = "PASS" if ratio <= 1.2 else "FAIL"
    print(f"shard / folder -j 1: {ratio:.2f}× (target ≤ 1.2×): {verdict}")


if __name__ == "__main__":
    main()
