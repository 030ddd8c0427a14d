#!/usr/bin/env python3
"""The benchmark drawn: time and peak memory against size, rcrop beside its peers.

Not part of CI. Run from the repository root with the benchmark venv's Python
(made by `python3 bench/images.py --setup`, with numpy and Pillow), on an
otherwise quiet machine:

    bench/work/venv/bin/python bench/sweep.py --rcrop target/release/rcrop
    bench/work/venv/bin/python bench/sweep.py --replot   # redraw from the last results

Two sweeps, each a Markdown table (time, peak RSS, output size and the
ratios rcrop/tool) on standard output and an SVG chart (time and peak RSS
against size, log-log) in doc/img/:

images  PNG -> PNG, --crop 16, square RGB 8-bit pictures of 1, 4, 16, 64, 256
        and 1000 megapixels (made with vips as bench/huge.py makes them; vips'
        default PNG as input), rcrop beside `vips crop` (its defaults: zlib 6, no
        filter), ImageMagick `convert -quality 65` (zlib 6, adaptive filter) and
        Pillow's `Image.open(p).crop(box).save(out)` (zlib 6, adaptive filter;
        decompression-bomb check off, as anyone cropping such an image must).
        ImageMagick and Pillow get a time limit.
npy     float32 (N, 512, 512, 4) arrays of 16 MiB to 4 GiB, --crop 16,
        channels_last, rcrop beside `cp` of the whole input and NumPy's
        `numpy.save(out, numpy.load(in, mmap_mode='r')[:, 16:-16, 16:-16, :])`.

Tools run round-robin, each under /usr/bin/time; each figure is the fastest of
--runs runs (the machine is shared, and the fastest run is the one least
disturbed), one run at 256 MP and above. Results also go to
bench/work/sweep.json, from which --replot redraws the charts.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import huge
import svgplot

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
RESULTS = WORK / "sweep.json"
IMG = ROOT / "doc" / "img"
C = 16
MEGAPIXELS = [1, 4, 16, 64, 256, 1000]
SIDES = {1: 1000, 4: 2000, 16: 4000, 64: 8000, 256: 16000, 1000: 31624}
NPY_MIB = [16, 64, 256, 1024, 4096]
# One (512, 512, 4) float32 image is 4 MiB.
IMAGE_MIB = 4


def image_tools(rcrop, py, side):
    w = side - 2 * C
    box = f"({C}, {C}, {C + w}, {C + w})"
    pillow = ("from PIL import Image; Image.MAX_IMAGE_PIXELS = None; "
              f"Image.open('in.png').crop({box}).save('out.png')")
    return {
        "rcrop": f"{rcrop} -q --crop {C} in.png out.png",
        "vips": f"vips crop in.png out.png {C} {C} {w} {w}",
        "ImageMagick": f"/usr/bin/convert in.png -crop {w}x{w}+{C}+{C} +repage -quality 65 out.png",
        "Pillow": f"{py} -c \"{pillow}\"",
    }


def npy_tools(rcrop, py):
    numpy = ("import numpy; "
             f"numpy.save('out.npy', numpy.load('in.npy', mmap_mode='r')[:, {C}:-{C}, {C}:-{C}, :])")
    return {
        "rcrop": f"{rcrop} -q --crop {C} in.npy out.npy",
        "cp": "cp in.npy out.npy",
        "NumPy": f"{py} -c \"{numpy}\"",
    }


def round_robin(tools, folder, runs, limit, output):
    """Runs the tools in turn, runs times; returns {tool: fastest [wall, cpu, rss, bytes]
    or {"error": ...}} and deletes each output after its run."""
    best = {}
    for _ in range(runs):
        for tool, command in tools.items():
            if "error" in best.get(tool, {}):
                continue
            print(f"sweep: {tool}", file=sys.stderr)
            limited = limit if tool in ("ImageMagick", "Pillow") else None
            wall, cpu, rss, error = huge.timed(command, folder, limited)
            out = folder / output
            size = out.stat().st_size if out.exists() else 0
            out.unlink(missing_ok=True)
            if error:
                best[tool] = {"error": error, "wall": wall, "rss": rss}
            elif tool not in best or wall < best[tool]["wall"]:
                best[tool] = {"wall": wall, "cpu": cpu, "rss": rss, "bytes": size}
    return best


def sweep_images(rcrop, py, runs, max_mp, limit, parent, save):
    """Runs the image sweep into a new dict; calls save(it) after each size."""
    results = {}
    for mp in [m for m in MEGAPIXELS if m <= max_mp]:
        side = SIDES[mp]
        folder = Path(tempfile.mkdtemp(prefix="sweep-", dir=parent))
        try:
            if huge.free_bytes(folder) < 4 * side * side * 3 + 2 * huge.GIB:
                print(f"sweep: {mp} MP skipped: not enough free space in {folder}", file=sys.stderr)
                break
            print(f"sweep: {mp} MP: making the picture", file=sys.stderr)
            tw, th, reps = huge.tile_shape(side, side)
            tile = huge.make_tile(folder, tw, th)
            huge.vips("replicate", tile, "in.png", reps, reps, cwd=folder)
            tile.unlink()
            n = runs if mp < 256 else 1
            results[mp] = round_robin(image_tools(rcrop, py, side), folder, n, limit, "out.png")
            results[mp]["input"] = {"bytes": (folder / "in.png").stat().st_size, "side": side, "runs": n}
            save(results)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return results


def write_npy(path, count):
    """A float32 (count, 512, 512, 4) array of seeded noise, written an image at a time."""
    import numpy as np

    rng = np.random.default_rng(0)
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 512, 512, 4), }" % count
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    with open(path, "wb") as out:
        out.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
        block = rng.standard_normal((512, 512, 4), dtype=np.float32)
        for i in range(count):
            out.write((block + np.float32(i)).tobytes())


def sweep_npy(rcrop, py, runs, max_mib, parent):
    results = {}
    folder = Path(tempfile.mkdtemp(prefix="sweep-npy-", dir=parent))
    try:
        for mib in [m for m in NPY_MIB if m <= max_mib]:
            if huge.free_bytes(folder) < 3 * mib * 2**20 + 2 * huge.GIB:
                print(f"sweep: {mib} MiB skipped: not enough free space in {folder}", file=sys.stderr)
                break
            print(f"sweep: {mib} MiB .npy: making the array", file=sys.stderr)
            write_npy(folder / "in.npy", mib // IMAGE_MIB)
            subprocess.run(["cat", "in.npy"], cwd=folder, stdout=subprocess.DEVNULL, check=True)
            results[mib] = round_robin(npy_tools(rcrop, py), folder, runs, None, "out.npy")
            results[mib]["input"] = {"bytes": (folder / "in.npy").stat().st_size, "runs": runs}
            (folder / "in.npy").unlink()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return results


def table(title, results, unit, tools):
    """A Markdown table: per size and tool, time, peak RSS, output; ratios rcrop/tool."""
    print(f"\n## {title}\n")
    print(f"| {unit} | tool | wall s | CPU s | peak RSS MiB | output MB | rcrop/tool wall | rcrop/tool RSS |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size, row in results.items():
        base = row.get("rcrop", {})
        for tool in tools:
            r = row.get(tool)
            if r is None:
                continue
            if "error" in r:
                print(f"| {size} | {tool} | failed after {r['wall']:.1f} s, {r['rss']:.0f} MiB: "
                      f"{huge.md(r['error'])} | | | | | |")
                continue
            ratios = "| | |"
            if tool != "rcrop" and "wall" in base and "error" not in base:
                ratios = f"| {base['wall'] / r['wall']:.2f} | {base['rss'] / r['rss']:.2f} |"
            print(f"| {size} | {tool} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['rss']:.0f} "
                  f"| {r['bytes'] / 1e6:.1f} {ratios}")


def summary(results, unit, tools):
    """One row per size: each tool's time and peak RSS, and its time over rcrop's."""
    print(f"\n| {unit} | " + " | ".join(tools) + " |")
    print("| ---: |" + " --- |" * len(tools))
    for size, row in results.items():
        base = row.get("rcrop", {})
        cells = []
        for tool in tools:
            r = row.get(tool, {})
            if "error" in r:
                cells.append(f"failed after {r['wall']:.1f} s")
            elif r:
                ratio = f" ({r['wall'] / base['wall']:.1f}× rcrop)" if tool != "rcrop" and "bytes" in base else ""
                cells.append(f"{r['wall']:.2f} s, {r['rss']:.0f} MiB{ratio}")
            else:
                cells.append("")
        print(f"| {size} | " + " | ".join(cells) + " |")


def series(results, tools, key):
    """{tool: [(size, value)]} of the runs that succeeded."""
    return {t: [(float(s), row[t][key]) for s, row in results.items() if t in row and "error" not in row[t]]
            for t in tools}


def draw(results):
    IMG.mkdir(parents=True, exist_ok=True)
    images, npy = results.get("images", {}), results.get("npy", {})
    if images:
        tools = ["rcrop", "vips", "ImageMagick", "Pillow"]
        svgplot.write(IMG / "sweep-images.svg", "PNG → PNG, --crop 16", "megapixels",
                      series(images, tools, "wall"), series(images, tools, "rss"))
    if npy:
        tools = ["rcrop", "cp", "NumPy"]
        svgplot.write(IMG / "sweep-npy.svg", ".npy float32, --crop 16, channels_last", "MiB",
                      series(npy, tools, "wall"), series(npy, tools, "rss"))


def report(results):
    meta = results["meta"]
    print(f"rcrop sweep, {meta['date']}, {meta['machine']}")
    print(f"versions: {meta['versions']}")
    print(f"method: fastest of {meta['runs']} round-robin runs below 256 MP, one run from 256 MP; "
          f"ImageMagick and Pillow limited to {meta['limit']} s")
    if results.get("images"):
        tools = ["rcrop", "vips", "ImageMagick", "Pillow"]
        table("PNG -> PNG, --crop 16 (square RGB 8-bit)", results["images"], "MP", tools)
        summary(results["images"], "MP", tools)
    if results.get("npy"):
        tools = ["rcrop", "cp", "NumPy"]
        table(".npy float32 (N, 512, 512, 4), --crop 16, channels_last", results["npy"], "MiB", tools)
        summary(results["npy"], "MiB", tools)


def first_line(command):
    out = subprocess.run(command, shell=True, capture_output=True, text=True).stdout.strip().splitlines()
    return out[0] if out else "?"


def main():
    parser = argparse.ArgumentParser(description="rcrop against its peers from 1 to 1000 megapixels")
    parser.add_argument("--rcrop", type=Path, help="the rcrop binary (default: build one with cargo)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sweeps", default="images,npy", help="comma-separated, of images, npy")
    parser.add_argument("--max-mp", type=int, default=1000)
    parser.add_argument("--max-mib", type=int, default=4096, help="npy: largest array, MiB")
    parser.add_argument("--peer-timeout", type=int, default=300, help="seconds ImageMagick and Pillow may run")
    parser.add_argument("--tmp", type=Path, default=WORK, help="where the inputs are made")
    parser.add_argument("--replot", action="store_true", help="redraw and reprint the last results; run nothing")
    args = parser.parse_args()
    if args.replot:
        results = json.loads(RESULTS.read_text())
        report(results)
        draw(results)
        return
    if args.runs < 1:
        sys.exit("sweep: --runs needs a positive integer")
    sweeps = set(args.sweeps.split(","))
    if sweeps - {"images", "npy"}:
        sys.exit(f"sweep: unknown sweep {', '.join(sorted(sweeps - {'images', 'npy'}))}")
    missing = [p for p in ["/usr/bin/time", "/usr/bin/convert", "/usr/bin/vips"] if not os.access(p, os.X_OK)]
    if missing:
        sys.exit(f"sweep: missing {', '.join(missing)}: run 'python3 bench/images.py --setup' first")
    WORK.mkdir(parents=True, exist_ok=True)
    rcrop = WORK / "sweep-rcrop"
    if args.rcrop:
        shutil.copy(args.rcrop, rcrop)
    else:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
        shutil.copy(target / "release" / "rcrop", rcrop)
    py = sys.executable
    args.tmp.mkdir(parents=True, exist_ok=True)
    model = first_line("awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo")
    results = {"meta": {
        "date": first_line("date -u +%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores, {model}, Linux {os.uname().release}",
        "versions": "; ".join([
            f"{first_line(f'{rcrop} --version')} at {first_line(f'git -C {ROOT} describe --always --dirty')}",
            first_line("vips --version"), first_line("/usr/bin/convert -version"),
            first_line(f"{py} -c 'import PIL, numpy; print(\"Pillow\", PIL.__version__, \"NumPy\", numpy.__version__)'")]),
        "runs": args.runs, "limit": args.peer_timeout}}
    started = time.perf_counter()
    if "npy" in sweeps:
        results["npy"] = sweep_npy(rcrop, py, args.runs, args.max_mib, args.tmp)
        RESULTS.write_text(json.dumps(results, indent=1))
    if "images" in sweeps:
        def save(images):
            results["images"] = images
            RESULTS.write_text(json.dumps(results, indent=1))

        sweep_images(rcrop, py, args.runs, args.max_mp, args.peer_timeout, args.tmp, save)
    results["meta"]["seconds"] = round(time.perf_counter() - started)
    RESULTS.write_text(json.dumps(results, indent=1))
    report(results)
    print(f"\nsweep: {results['meta']['seconds']} s in all")
    draw(results)


if __name__ == "__main__":
    main()
