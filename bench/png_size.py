#!/usr/bin/env python3
"""PNG size and speed: rcrop's PNG writer against libpng (through libvips and
ImageMagick) and Pillow, on a large image and a batch.

Not part of CI. Run from the repository root, once the peers and the venv are
installed (`python3 bench/images.py --setup`):

    python3 bench/png_size.py [--runs N] [--batch N] [--only large,batch]

The script re-runs itself with the venv's Python (numpy and Pillow).

Inputs, made at run time in bench/work/png_size/ (git-ignored) and reused:
  synth   8000x6000 RGB, bench/images.py's picture: a seeded random field
          upscaled bicubically (32 px cells), plus uniform noise of +-6
  smooth  8000x6000 RGB, a smoother field (250 px cells) plus Gaussian
          noise of sigma 2, as a large photograph's shading and sensor noise
  batch   N (default 200) 1024x768 RGB pictures of the synth kind

Every tool crops 16 px off each side and writes a PNG:
  rcrop            --crop 16 (--png-compression default)
  vips (defaults)  vips crop: zlib 6, no filtering
  vips filter=all  [compression=6,filter=all]: libpng's adaptive filtering
  convert -q 65    zlib 6 (tens digit), adaptive filtering (units digit 5)
  pillow           optimize=False, compress_level=6

Prints median wall time, CPU time, peak RSS and output bytes per tool, and
verdicts: rcrop's output no larger than the smallest zlib-6 peer's with
adaptive filtering, and rcrop's time on a large image at most half of
vips' at its defaults.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work" / "png_size"
VENV = ROOT / "bench" / "work" / "venv"
PY = VENV / "bin" / "python"
RCROP = WORK / "rcrop"
C = 16
PILLOW = (
    "import sys; from PIL import Image\n"
    "for src in sys.argv[2:]:\n"
    "    im = Image.open(src); w, h = im.size\n"
    "    out = sys.argv[1] + '/' + src.rsplit('/', 1)[-1]\n"
    f"    im.crop(({C}, {C}, w - {C}, h - {C})).save(out, optimize=False, compress_level=6)\n"
)


def picture(width, height, seed, cell, noise):
    """A seeded RGB picture: a random field upscaled bicubically, plus noise."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    small = rng.random((height // cell + 2, width // cell + 2, 3)) * 255
    field = Image.fromarray(small.astype(np.uint8)).resize((width, height), Image.BICUBIC)
    if noise == "uniform":
        grain = rng.integers(-6, 7, (height, width, 3))
    else:
        grain = np.rint(rng.normal(0, 2, (height, width, 3)))
    pixels = np.asarray(field, dtype=np.int16) + grain
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def make(path, width, height, seed, cell, noise):
    if not path.exists():
        print(f"bench: making {path.relative_to(ROOT)}", file=sys.stderr)
        path.parent.mkdir(parents=True, exist_ok=True)
        picture(width, height, seed, cell, noise).save(path, compress_level=1)


def timed(command, out_dir):
    """Runs a shell command under GNU time; returns wall, CPU, peak RSS (MiB), output bytes."""
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%e %U %S %M", "sh", "-c", command],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=WORK,
    )
    if result.returncode != 0:
        sys.exit(f"bench: failed: {command}\n{result.stderr}")
    wall, user, system, rss = result.stderr.strip().splitlines()[-1].split()
    size = sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file())
    return float(wall), float(user) + float(system), int(rss) / 1024, size


def tools(inputs, width, height):
    """The commands, OUT standing for each tool's output folder."""
    w, h = width - 2 * C, height - 2 * C
    each = "for f in {}; do {}; done".format(inputs, "{}")
    return {
        "rcrop": f"{RCROP} --crop {C} --out-dir OUT {inputs}",
        "vips (defaults)": each.format(f'vips crop $f "OUT/$(basename $f)" {C} {C} {w} {h}'),
        "vips filter=all": each.format(
            f'vips crop $f "OUT/$(basename $f)[compression=6,filter=all]" {C} {C} {w} {h}'),
        "convert -q 65": each.format(
            f'/usr/bin/convert $f -crop {w}x{h}+{C}+{C} +repage -quality 65 "OUT/$(basename $f)"'),
        "pillow": f'{PY} -c "{PILLOW}" OUT {inputs}',
    }


def run(name, commands, runs):
    """Runs the tools interleaved; prints the table; returns medians by tool."""
    samples = {tool: [] for tool in commands}
    for i in range(runs):
        for tool, command in commands.items():
            print(f"bench: {name}: run {i + 1}/{runs}: {tool}", file=sys.stderr)
            out = "out/" + "".join(c if c.isalnum() else "-" for c in tool)
            samples[tool].append(timed(command.replace("OUT", out), WORK / out))
    median = {t: [statistics.median(s[k] for s in samples[t]) for k in range(4)] for t in commands}
    rcrop = median["rcrop"]
    print(f"\n## {name} ({runs} runs, medians; load average before: {load()})\n")
    print("| tool | wall s | CPU s | peak RSS MiB | output bytes | rcrop/tool wall | rcrop/tool size |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for tool, (wall, cpu, rss, size) in median.items():
        print(f"| {tool} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {size:,.0f} "
              f"| {rcrop[0] / wall:.2f} | {rcrop[3] / size:.4f} |")
    return median


def load():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def verdicts(median, large):
    libpng = min(("vips filter=all", "convert -q 65"), key=lambda t: median[t][3])
    rcrop = median["rcrop"]
    found = []
    size = rcrop[3] / median[libpng][3]
    found.append(verdict(f"no larger than the smallest libpng peer ({libpng})", size <= 1,
                         f"{size:.4f}x its size"))
    if large:
        ratio = rcrop[0] / median["vips (defaults)"][0]
        found.append(verdict("at most 0.5x the time of vips at its defaults", ratio <= 0.5,
                             f"{ratio:.2f}x its time"))
    return found


def verdict(label, ok, detail):
    print(f"verdict: rcrop {label}: {'PASS' if ok else 'FAIL'} ({detail})")
    return ok


def ensure_venv():
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not PY.exists():
        sys.exit("bench: no venv at bench/work/venv: run 'python3 bench/images.py --setup' first")
    os.execv(PY, [str(PY), __file__, *sys.argv[1:]])


def main():
    parser = argparse.ArgumentParser(description="rcrop's PNG sizes and speed against libpng and Pillow")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=200, help="pictures in the batch")
    parser.add_argument("--only", default="large,batch")
    args = parser.parse_args()
    if args.runs < 1 or args.batch < 1:
        sys.exit("bench: --runs and --batch need positive integers")
    ensure_venv()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    WORK.mkdir(parents=True, exist_ok=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    shutil.copy(target / "release" / "rcrop", RCROP)
    print(f"rcrop PNG benchmark; {os.cpu_count()} cores; peers: vips "
          f"{subprocess.run(['vips', '--version'], capture_output=True, text=True).stdout.strip()}, "
          f"/usr/bin/convert, Pillow {__import__('PIL').__version__}")
    found = []
    if "large" in args.only:
        for name, cell, noise in [("synth", 32, "uniform"), ("smooth", 250, "gaussian")]:
            make(WORK / name / f"{name}.png", 8000, 6000, 0, cell, noise)
            median = run(f"one 8000x6000 PNG, {name}", tools(f"{name}/{name}.png", 8000, 6000), args.runs)
            found += verdicts(median, large=True)
    if "batch" in args.only:
        for i in range(args.batch):
            make(WORK / f"batch{args.batch}" / f"img{i:04d}.png", 1024, 768, i, 32, "uniform")
        median = run(f"{args.batch} PNG 1024x768", tools(f"batch{args.batch}/*.png", 1024, 768), args.runs)
        found += verdicts(median, large=False)
    print(f"\n{sum(found)} PASS, {len(found) - sum(found)} FAIL")


if __name__ == "__main__":
    main()
