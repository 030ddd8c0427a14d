#!/usr/bin/env python3
"""Benchmark rcrop against ImageMagick, libvips and Pillow on image crops.

Not part of CI. Run from the repository root, after `bash bench/npy.sh --setup`
(for the venv) and `apt-get install imagemagick libvips-tools time`:

    bench/work/venv/bin/pip install Pillow==13.0.0
    bench/work/venv/bin/python bench/images.py [--runs N] [--workloads png,jpeg,large]

Workloads (16 px off each side):
  png    200 PNG RGB 1024x768 into an out dir
  jpeg   200 JPEG 1024x768 (quality 90) into an out dir, written at quality 90
  large  one 8000x6000 RGB PNG

Each workload's tools run interleaved, N times (default 3), each under
/usr/bin/time; the table shows medians of wall time, CPU time, peak RSS and
output size, and the ratio of each peer's wall time to rcrop's.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work" / "images"
RCROP = ROOT / "target" / "release" / "rcrop"
C = 16


def make_images(folder, count, width, height, ext, quality=None):
    """Photo-like pictures: smooth fields of colour with fine noise, seeded."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    if len(list(folder.glob(f"*.{ext}"))) == count:
        return
    for i in range(count):
        rng = np.random.default_rng(i)
        small = rng.random((height // 32 + 2, width // 32 + 2, 3)) * 255
        field = Image.fromarray(small.astype(np.uint8)).resize((width, height), Image.BICUBIC)
        pixels = np.asarray(field, dtype=np.int16) + rng.integers(-6, 7, (height, width, 3))
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        path = folder / f"img{i:04d}.{ext}"
        if quality:
            image.save(path, quality=quality)
        else:
            image.save(path)


def timed(command, out_dir):
    """Runs a shell command under GNU time; returns wall, cpu, rss (MiB), output bytes."""
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    fmt = "%e %U %S %M"
    result = subprocess.run(
        ["/usr/bin/time", "-f", fmt, "sh", "-c", command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=WORK,
    )
    if result.returncode != 0:
        sys.exit(f"bench: failed: {command}\n{result.stderr}")
    wall, user, system, rss = result.stderr.strip().splitlines()[-1].split()
    size = sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file())
    return float(wall), float(user) + float(system), int(rss) / 1024, size


def batch_tools(ext, width, height, quality):
    w, h = width - 2 * C, height - 2 * C
    jpeg = ext == "jpg"
    q_rcrop = f"--quality {quality}" if jpeg else ""
    q_magick = f"-quality {quality}" if jpeg else ""
    q_vips = f"[Q={quality}]" if jpeg else ""
    q_pil = f"quality={quality}" if jpeg else ""
    pillow = (
        "import sys; from PIL import Image; "
        "[Image.open(f).crop(({c}, {c}, {c}+{w}, {c}+{h})).save(sys.argv[1] + '/' + f.split('/')[-1], {q}) "
        "for f in sys.argv[2:]]"
    ).format(c=C, w=w, h=h, q=q_pil)
    py = ROOT / "bench" / "work" / "venv" / "bin" / "python"
    return {
        "rcrop": f"{RCROP} -q -c {C} {q_rcrop} --out-dir out/rcrop in_{ext}/*.{ext}",
        "mogrify": f"mogrify -path out/mogrify -crop {w}x{h}+{C}+{C} +repage {q_magick} in_{ext}/*.{ext}",
        "vips": f"for f in in_{ext}/*.{ext}; do vips crop $f out/vips/$(basename $f){q_vips} {C} {C} {w} {h}; done",
        "vips -P2": f"ls in_{ext}/*.{ext} | xargs -P2 -I{{}} sh -c 'vips crop {{}} out/vips-P2/$(basename {{}}){q_vips} {C} {C} {w} {h}'",
        "pillow": f"{py} -c \"{pillow}\" out/pillow in_{ext}/*.{ext}",
    }


def large_tools():
    w, h = 8000 - 2 * C, 6000 - 2 * C
    py = ROOT / "bench" / "work" / "venv" / "bin" / "python"
    return {
        "rcrop": f"{RCROP} -q -c {C} large/big.png out/rcrop/big.png",
        "convert": f"/usr/bin/convert large/big.png -crop {w}x{h}+{C}+{C} +repage out/convert/big.png",
        "vips": f"vips crop large/big.png out/vips/big.png {C} {C} {w} {h}",
        "pillow": f"{py} -c \"from PIL import Image; Image.open('large/big.png').crop(({C}, {C}, {C}+{w}, {C}+{h})).save('out/pillow/big.png')\"",
    }


def run(name, tools, runs):
    samples = {tool: [] for tool in tools}
    for _ in range(runs):
        for tool, command in tools.items():
            samples[tool].append(timed(command, WORK / "out" / tool.replace(" ", "")))
    median = {t: [statistics.median(s[i] for s in samples[t]) for i in range(4)] for t in tools}
    base = median["rcrop"][0]
    print(f"\n## {name} ({runs} runs, medians)\n")
    print("| tool | wall s | CPU s | peak RSS MiB | output MiB | peer wall / rcrop wall |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for tool, (wall, cpu, rss, size) in median.items():
        print(f"| {tool} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {size / 2**20:.1f} | {wall / base:.2f} |")
    peers = [t for t in tools if t != "rcrop"]
    fastest = min(peers, key=lambda t: median[t][0])
    print(f"\nfastest peer: {fastest}; rcrop is {median[fastest][0] / base:.2f}x its speed "
          f"at {median['rcrop'][3] / median[fastest][3]:.2f}x its output size")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workloads", default="png,jpeg,large")
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores; {os.uname().release}")
    for tool in ["/usr/bin/convert -version", "vips --version"]:
        print(subprocess.run(tool, shell=True, capture_output=True, text=True).stdout.splitlines()[0])
    print("settings: rcrop PNG --png-compression default (adaptive filter); ImageMagick, vips and Pillow at their defaults;"
          " JPEG quality 90 everywhere")
    workloads = args.workloads.split(",")
    if "png" in workloads:
        make_images(WORK / "in_png", 200, 1024, 768, "png")
        run("200 PNG 1024x768", batch_tools("png", 1024, 768, None), args.runs)
    if "jpeg" in workloads:
        make_images(WORK / "in_jpg", 200, 1024, 768, "jpg", quality=90)
        run("200 JPEG 1024x768 q90", batch_tools("jpg", 1024, 768, 90), args.runs)
    if "large" in workloads:
        make_images(WORK / "large_tmp", 1, 8000, 6000, "png")
        (WORK / "large").mkdir(exist_ok=True)
        shutil.copy(WORK / "large_tmp" / "img0000.png", WORK / "large" / "big.png")
        run("one 8000x6000 PNG", large_tools(), args.runs)


if __name__ == "__main__":
    main()
