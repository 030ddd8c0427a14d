#!/usr/bin/env python3
"""Benchmark rcrop against ImageMagick, libvips and Pillow on image crops.

Not part of CI. Run from the repository root:

    python3 bench/images.py --setup      # once: Debian's imagemagick, libvips-tools
                                         # and time; numpy and Pillow in bench/work/venv
    python3 bench/images.py [--runs N] [--workloads png,jpeg,center,large]

The script re-runs itself with the venv's Python.

Workloads (16 px off each side):
  png    200 PNG RGB 1024x768 into an out dir
  jpeg   200 JPEG 1024x768 (quality 90) into an out dir, written at quality 90;
         and the same crop done losslessly (rcrop's default for a crop on the
         block grid) against jpegtran -crop
  center 200 JPEG 1024x768 (quality 90), --center-crop 224,224 into .npy files,
         against Pillow's crop of the same box saved by numpy.save, in two
         processes; the pixels are compared
  large  one 8000x6000 RGB PNG
  huge   one 30000x30000 RGB PNG and the same as a tiled TIFF, made at run time
         (not in the default list; see bench/huge.py)
  sizes  rcrop alone on PNG, TIFF, BMP, PPM and .npy at 1 to 1000 megapixels
         (--max-mp to stop earlier; not in the default list)
  tiles  rcrop beside `vips crop` on a 16000x12000 RGB TIFF in 256x256 deflate
         tiles, the same in deflate strips, and a 30000x30000 one in LZW
         tiles (--max-mp 200 leaves it out; not in the default list)

Each workload's tools run interleaved, N times (default 3), each under
/usr/bin/time; the table shows medians of wall time, CPU time, peak RSS and
output size, and the ratios rcrop/tool of wall time and output size (below 1:
rcrop faster, or smaller), then PASS/FAIL
verdicts: each batch faster than the fastest peer at no larger output, the large
PNG faster than vips. Peers run with settings matched to rcrop's where they can
be (SETTINGS below says which).
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import huge

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work" / "images"
VENV = ROOT / "bench" / "work" / "venv"
PY = VENV / "bin" / "python"
# A copy of target/release/rcrop taken right after the build: another build in
# the same tree can't swap the binary in the middle of the benchmark.
RCROP = WORK / "rcrop"
C = 16

PYPI = ["numpy==2.4.6", "Pillow==13.0.0"]
DEBIAN = ["imagemagick", "libvips-tools", "libjpeg-turbo-progs", "time"]
PEERS = ["/usr/bin/time", "/usr/bin/convert", "/usr/bin/mogrify", "/usr/bin/vips", "/usr/bin/jpegtran"]


def as_root(command):
    if os.geteuid() == 0:
        return command
    if shutil.which("sudo"):
        return ["sudo", *command]
    sys.exit(f"bench: need root (or sudo) to run: {' '.join(command)}")


def setup():
    """Installs the peers from Debian and numpy and Pillow from PyPI into the venv."""
    def installed(package):
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
        return status.stdout.endswith("installed")

    missing = [p for p in DEBIAN if not installed(p)]
    if not PY.exists() and subprocess.run([sys.executable, "-c", "import ensurepip"]).returncode != 0:
        missing.append("python3-venv")
    if missing:
        print(f"bench: installing {' '.join(missing)} with apt-get", file=sys.stderr)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(as_root(["apt-get", "update"]), check=True, env=env)
        subprocess.run(as_root(["apt-get", "install", "-y", *missing]), check=True, env=env)
    if not PY.exists():
        print(f"bench: creating the venv {VENV}", file=sys.stderr)
        subprocess.run(["/usr/bin/python3", "-m", "venv", str(VENV)], check=True)
    print(f"bench: installing {' '.join(PYPI)} into {VENV}", file=sys.stderr)
    subprocess.run([str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q", *PYPI], check=True)


def make_images(folder, count, width, height, ext, quality=None):
    """Photo-like pictures: smooth fields of color with fine noise, seeded."""
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


# Commands write to OUT, which run() replaces with the tool's own folder.
# Settings, matched to rcrop's where the tool lets us (see SETTINGS).
PNG_MAGICK = "-quality 65"  # tens digit: zlib level 6; units digit 5: adaptive filter
PNG_VIPS = "[compression=6,filter=all]"  # libpng/spng picks a filter per row
JPEG_MAGICK = "-quality 90 -sampling-factor 2x2"  # 4:2:0 (ImageMagick's default is 4:4:4 at q >= 90)
JPEG_VIPS = "[Q=90,subsample-mode=on]"  # 4:2:0 (vips' default is 4:4:4 at Q >= 90)

SETTINGS = """settings (matched to rcrop's defaults where the tool allows):
  PNG   rcrop: zlib level 6, adaptive filter (--png-compression default)
        ImageMagick: -quality 65 (zlib 6, adaptive filter; its default 75 is zlib 7)
        vips: [compression=6,filter=all] ("vips (defaults)": compression 6, no filter)
        Pillow: its default, zlib 6 with adaptive filter
  JPEG  quality 90 with 4:2:0 chroma subsampling everywhere: rcrop's and Pillow's
        default; ImageMagick -sampling-factor 2x2, vips subsample-mode=on (both
        default to 4:4:4 at quality 90 and above); Pillow also in two processes
        (each half the files), as rcrop uses both cores
  JPEG lossless: rcrop without --quality (a crop on the block grid is cut in
        the DCT domain) against jpegtran -crop WxH+16+16 -copy all, two at a time"""


def batch_tools(ext, width, height):
    w, h = width - 2 * C, height - 2 * C
    jpeg = ext == "jpg"
    q_rcrop = "--quality 90" if jpeg else ""
    q_magick = JPEG_MAGICK if jpeg else PNG_MAGICK
    q_vips = JPEG_VIPS if jpeg else PNG_VIPS
    q_pil = "quality=90" if jpeg else ""
    pillow = (
        "import sys; from PIL import Image; "
        "[Image.open(f).crop(({c}, {c}, {c}+{w}, {c}+{h})).save(sys.argv[1] + '/' + f.split('/')[-1], {q}) "
        "for f in sys.argv[2:]]"
    ).format(c=C, w=w, h=h, q=q_pil)
    vips_p2 = "ls in_{e}/*.{e} | xargs -P2 -I{{}} sh -c 'vips crop {{}} \"OUT/$(basename {{}}){q}\" {c} {c} {w} {h}'"
    tools = {
        "rcrop": f"{RCROP} -q -c {C} {q_rcrop} --out-dir OUT in_{ext}/*.{ext}",
        "mogrify": f"/usr/bin/mogrify -path OUT -crop {w}x{h}+{C}+{C} +repage {q_magick} in_{ext}/*.{ext}",
        "vips": f"for f in in_{ext}/*.{ext}; do vips crop $f \"OUT/$(basename $f){q_vips}\" {C} {C} {w} {h}; done",
        "vips -P2": vips_p2.format(e=ext, q=q_vips, c=C, w=w, h=h),
        "pillow": f"{PY} -c \"{pillow}\" OUT in_{ext}/*.{ext}",
    }
    if jpeg:
        tools["pillow -P2"] = f"ls in_{ext}/*.{ext} | xargs -P2 -n100 {PY} -c \"{pillow}\" OUT"
    if not jpeg:
        # vips' own default (no PNG filter) is faster and larger: shown too.
        tools["vips -P2 (defaults)"] = vips_p2.format(e=ext, q="", c=C, w=w, h=h)
    return tools


def lossless_tools(width, height):
    w, h = width - 2 * C, height - 2 * C
    jpegtran = f"/usr/bin/jpegtran -crop {w}x{h}+{C}+{C} -copy all -outfile OUT/$(basename {{}}) {{}}"
    return {
        "rcrop": f"{RCROP} -q -c {C} --lossless --out-dir OUT in_jpg/*.jpg",
        "jpegtran -P2": f"ls in_jpg/*.jpg | xargs -P2 -I{{}} sh -c '{jpegtran}'",
    }


CENTER = 224


def center_tools(width, height):
    """--center-crop into .npy, and Pillow's Image.open(p).crop(box) with numpy.save."""
    top, left = (height - CENTER) // 2, (width - CENTER) // 2
    box = f"({left}, {top}, {left + CENTER}, {top + CENTER})"
    pillow = (
        "import sys, numpy; from PIL import Image; "
        f"[numpy.save(sys.argv[1] + '/' + f.split('/')[-1][:-4] + '.npy', numpy.asarray(Image.open(f).crop({box}))) "
        "for f in sys.argv[2:]]"
    )
    return {
        "rcrop": f"{RCROP} -q --center-crop {CENTER},{CENTER} --to npy --out-dir OUT in_jpg/*.jpg",
        "pillow -P2": f"ls in_jpg/*.jpg | xargs -P2 -n100 {PY} -c \"{pillow}\" OUT",
    }


def same_pixels(batches, images):
    """Whether two folders hold the same pixels under the same names: in
    `batches`, arrays of a batch of one image (Keras' layout); in `images`,
    the images alone."""
    import numpy as np

    names = sorted(p.name for p in (WORK / batches).glob("*.npy"))
    if not names or names != sorted(p.name for p in (WORK / images).glob("*.npy")):
        return False
    return all(np.array_equal(np.load(WORK / batches / n)[0], np.load(WORK / images / n)) for n in names)


def large_tools():
    w, h = 8000 - 2 * C, 6000 - 2 * C
    return {
        "rcrop": f"{RCROP} -q -c {C} large/big.png OUT/big.png",
        "convert": f"/usr/bin/convert large/big.png -crop {w}x{h}+{C}+{C} +repage {PNG_MAGICK} OUT/big.png",
        "vips": f"vips crop large/big.png 'OUT/big.png{PNG_VIPS}' {C} {C} {w} {h}",
        "vips (defaults)": f"vips crop large/big.png OUT/big.png {C} {C} {w} {h}",
        "pillow": f"{PY} -c \"from PIL import Image; Image.open('large/big.png').crop(({C}, {C}, {C}+{w}, {C}+{h})).save('OUT/big.png')\"",
    }


def out_name(tool):
    """The output folder of a tool, for OUT in its command: "vips -P2 (defaults)" -> out/vips-P2-defaults."""
    return "out/" + re.sub(r"[^A-Za-z0-9]+", "-", tool).strip("-")


def run(name, tools, runs):
    """Runs the tools interleaved, prints the table; returns the medians by tool."""
    samples = {tool: [] for tool in tools}
    for i in range(runs):
        for tool, command in tools.items():
            print(f"bench: {name}: run {i + 1}/{runs}: {tool}", file=sys.stderr)
            out = out_name(tool)
            samples[tool].append(timed(command.replace("OUT", out), WORK / out))
    median = {t: [statistics.median(s[i] for s in samples[t]) for i in range(4)] for t in tools}
    base = median["rcrop"][0]
    print(f"\n## {name} ({runs} runs, medians)\n")
    print("| tool | wall s | CPU s | peak RSS MiB | output MiB | rcrop/tool wall | rcrop/tool size |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for tool, (wall, cpu, rss, size) in median.items():
        print(f"| {tool} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {size / 2**20:.1f} "
              f"| {base / wall:.2f} | {median['rcrop'][3] / size:.3f} |")
    return median


def verdict(label, ok, detail):
    print(f"verdict: {label}: {'PASS' if ok else 'FAIL'} ({detail})")
    return ok


# Two encoders given the same quality tables, subsampling and Huffman tables
# still round DCT coefficients differently, so their outputs differ by a few
# bytes: sizes within this fraction of each other count as equal.
SAME_SIZE = 0.005


def beats_fastest(median):
    """Faster than the fastest peer, at an output no larger than that peer's."""
    rcrop = median["rcrop"]
    fastest = min((t for t in median if t != "rcrop"), key=lambda t: median[t][0])
    peer = median[fastest]
    size = rcrop[3] / peer[3]
    return verdict(
        f"rcrop faster than the fastest peer ({fastest}) at equal (within {SAME_SIZE:.1%}) or smaller output",
        rcrop[0] < peer[0] and size <= 1 + SAME_SIZE,
        f"{peer[0] / rcrop[0]:.2f}x its speed at {size:.4f}x its size: {rcrop[3]:,} vs {peer[3]:,} bytes",
    )


def ensure_venv():
    """Re-runs this script with the venv's Python, which has numpy and Pillow."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not PY.exists():
        sys.exit("bench: no venv at bench/work/venv: run 'python3 bench/images.py --setup' first")
    os.execv(PY, [str(PY), __file__, *sys.argv[1:]])


def main():
    parser = argparse.ArgumentParser(description="rcrop against ImageMagick, vips and Pillow")
    parser.add_argument("--setup", action="store_true", help="install the peers and the venv, then run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workloads", default="png,jpeg,center,large",
                        help="comma-separated, of png, jpeg, center, large, huge, sizes, tiles")
    parser.add_argument("--rcrop", type=Path, help="benchmark this rcrop binary instead of building one")
    parser.add_argument("--max-mp", type=int, default=1000, help="sizes: largest size, in megapixels (1, 10, 100, 1000)")
    parser.add_argument("--tmp", type=Path, default=WORK, help="huge, sizes: where the inputs are made (default %(default)s)")
    parser.add_argument("--peer-timeout", type=int, default=300, help="huge: seconds ImageMagick and Pillow may run")
    parser.add_argument("--huge-limit-mib", type=int,
                        help="huge: also run rcrop with --image-limit-mib N")
    args = parser.parse_args()
    unknown = set(args.workloads.split(",")) - {"png", "jpeg", "center", "large", "huge", "sizes", "tiles"}
    if unknown:
        sys.exit(f"bench: unknown workload {', '.join(sorted(unknown))}")
    if args.runs < 1:
        sys.exit("bench: --runs needs a positive integer")
    if args.max_mp < 1:
        sys.exit("bench: --max-mp needs at least 1 (megapixel)")
    if args.setup:
        setup()
        sys.argv.remove("--setup")
    ensure_venv()
    missing = [p for p in PEERS if not os.access(p, os.X_OK)]
    if missing:
        sys.exit(f"bench: missing {', '.join(missing)}: run 'python3 bench/images.py --setup' first")
    WORK.mkdir(parents=True, exist_ok=True)
    if args.rcrop:
        shutil.copy(args.rcrop, RCROP)
    else:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
        shutil.copy(target / "release" / "rcrop", RCROP)

    def first_line(command):
        return subprocess.run(command, shell=True, capture_output=True, text=True).stdout.strip().splitlines()[0]

    rev = first_line("git -C '{}' --no-optional-locks describe --always --dirty".format(ROOT))
    model = first_line("awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo")
    ram = first_line("free -g | awk '/^Mem:/ {print $2}'")
    pillow = first_line(f"{PY} -c 'import PIL; print(PIL.__version__)'")
    print(f"rcrop image benchmark, {first_line('date -u +%Y-%m-%d')}")
    print(f"machine: {os.cpu_count()} cores, {model}, {ram} GiB RAM, Linux {os.uname().release}")
    print(f"rcrop:   {first_line(f'{RCROP} --version')} at {rev}")
    print(f"peers:   {first_line('/usr/bin/convert -version')}; {first_line('vips --version')}; Pillow {pillow}")
    print(f"method:  tools interleaved, {args.runs} runs each under /usr/bin/time; medians; warm page cache")
    workloads = args.workloads.split(",")
    if {"png", "jpeg", "large"} & set(workloads):
        print(SETTINGS)
    verdicts = []
    if "png" in workloads:
        make_images(WORK / "in_png", 200, 1024, 768, "png")
        verdicts.append(beats_fastest(run("200 PNG 1024x768", batch_tools("png", 1024, 768), args.runs)))
    if "jpeg" in workloads:
        make_images(WORK / "in_jpg", 200, 1024, 768, "jpg", quality=90)
        median = run("200 JPEG 1024x768 q90", batch_tools("jpg", 1024, 768), args.runs)
        verdicts.append(beats_fastest(median))
        ratio = median["rcrop"][0] / median["pillow -P2"][0]
        verdicts.append(verdict("rcrop at most 1.0x the time of Pillow in two processes", ratio <= 1.0,
                                f"{ratio:.2f}x its time"))
        median = run("200 JPEG 1024x768, lossless crop", lossless_tools(1024, 768), args.runs)
        ratio = median["rcrop"][0] / median["jpegtran -P2"][0]
        verdicts.append(verdict("rcrop's lossless crop at most 1.0x jpegtran's time", ratio <= 1.0,
                                f"{ratio:.2f}x its time"))
    if "center" in workloads:
        make_images(WORK / "in_jpg", 200, 1024, 768, "jpg", quality=90)
        median = run(f"200 JPEG 1024x768, --center-crop {CENTER},{CENTER} to .npy", center_tools(1024, 768), args.runs)
        ratio = median["rcrop"][0] / median["pillow -P2"][0]
        same = same_pixels(out_name("rcrop"), out_name("pillow -P2"))
        verdicts.append(verdict("rcrop at most 0.4x the time of Pillow in two processes, the same pixels",
                                ratio <= 0.4 and same, f"{ratio:.2f}x its time; pixels {'equal' if same else 'DIFFER'}"))
    if "large" in workloads:
        make_images(WORK / "large_tmp", 1, 8000, 6000, "png")
        (WORK / "large").mkdir(exist_ok=True)
        shutil.copy(WORK / "large_tmp" / "img0000.png", WORK / "large" / "big.png")
        median = run("one 8000x6000 PNG", large_tools(), args.runs)
        rcrop = median["rcrop"][0]
        for peer in ["vips", "vips (defaults)"]:
            verdicts.append(verdict(f"rcrop faster than {peer}", rcrop < median[peer][0],
                                    f"{median[peer][0] / rcrop:.2f}x its speed"))
    if "huge" in workloads:
        started = time.perf_counter()
        huge.run_huge(args.tmp, RCROP, PY, args.runs, args.peer_timeout, args.huge_limit_mib)
        print(f"\nhuge workload: {time.perf_counter() - started:.0f} s in all")
    if "sizes" in workloads:
        started = time.perf_counter()
        huge.run_sizes(args.tmp, RCROP, args.runs, args.max_mp)
        print(f"\nsizes workload: {time.perf_counter() - started:.0f} s in all")
    if "tiles" in workloads:
        huge.run_tiles(args.tmp, RCROP, args.runs, args.max_mp)
    if verdicts:
        print(f"\n{sum(verdicts)} PASS, {len(verdicts) - sum(verdicts)} FAIL")


if __name__ == "__main__":
    main()
