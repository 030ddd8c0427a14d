"""The huge-image and size-sweep workloads of bench/images.py.

huge   one 30000x30000 RGB PNG (not interlaced) and the same picture as a tiled
       TIFF (256x256 tiles, LZW), cropped 16 px off each side by rcrop, by
       vips (at its defaults, and for the PNG also with adaptive filtering), and
       by ImageMagick and Pillow, which get a time limit and are reported with
       the reason when they refuse or fail
sizes  rcrop alone, --crop 16, on PNG, TIFF (strips and tiles), BMP, PPM and
       .npy -> PNG / PNG -> .npy, at 1, 10, 100 and 1000 megapixels: wall time and
       peak RSS of each, as a Markdown table

Inputs are made at run time in a temporary folder (under bench/work/images,
git-ignored, or --tmp) and deleted as soon as their rows are done; nothing is
committed. The picture is made with vips, never held whole in Python: smooth
fields of color with fine grain (a 1/32 scale field of random colors and
per-pixel noise, upscaled 4x with a cubic kernel, so the grain spans a few
pixels), like a photograph in how it compresses (its PNG with adaptive
filtering is about a third of its raw size; vips' default unfiltered PNG, the
input here, about 0.9). Above 12000 pixels a side the picture is a tile of
half the size repeated 2x2; a row of the tile is wider than deflate's 32 KiB
window, so the repetition doesn't help any compressor. BMP and .npy inputs,
which vips doesn't write, are written a block of rows at a time from the tile.
"""

import mmap
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

C = 16
HUGE = 30000
# Square-ish RGB sizes of the sweep, even, and multiples of 8 on the repeated side.
SIZES = {1: (1000, 1000), 10: (3164, 3164), 100: (10000, 10000), 1000: (31624, 31624)}
GIB = 2**30


def vips(*args, cwd):
    subprocess.run(["vips", *map(str, args)], check=True, cwd=cwd, stdout=subprocess.DEVNULL)


def make_tile(folder, width, height):
    """A width x height 8-bit RGB picture in vips' format (tile.v); returns its path."""
    assert width % 4 == 0 and height % 4 == 0
    work = folder / "gen"
    work.mkdir()
    sw, sh = width // 4, height // 4
    fw, fh = sw // 32 + 2, sh // 32 + 2
    for band in range(3):
        vips("gaussnoise", f"f{band}.v", fw, fh, "--mean", 128, "--sigma", 60, "--seed", band + 1, cwd=work)
        vips("gaussnoise", f"n{band}.v", sw, sh, "--mean", 0, "--sigma", 6, "--seed", band + 11, cwd=work)
    vips("bandjoin", "f0.v f1.v f2.v", "f.v", cwd=work)
    vips("resize", "f.v", "fields.v", 32, "--kernel", "cubic", cwd=work)
    vips("extract_area", "fields.v", "fc.v", 0, 0, sw, sh, cwd=work)
    vips("bandjoin", "n0.v n1.v n2.v", "n.v", cwd=work)
    vips("add", "fc.v", "n.v", "sum.v", cwd=work)
    vips("cast", "sum.v", "small.v", "uchar", cwd=work)
    vips("resize", "small.v", "../tile.v", 4, "--kernel", "cubic", cwd=work)
    shutil.rmtree(work)
    return folder / "tile.v"


def tile_shape(width, height):
    """The tile and how many times it repeats across and down."""
    reps = 2 if max(width, height) > 12000 else 1
    return width // reps, height // reps, reps


class Tile:
    """The pixels of a tile.v (vips' format: a 64-byte header, then the pixels)."""

    def __init__(self, path, width, height):
        import numpy as np

        self.width, self.height = width, height
        self.file = open(path, "rb")
        self.map = mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_READ)
        self.pixels = np.frombuffer(self.map, np.uint8, width * height * 3, 64).reshape(height, width, 3)

    def rows(self, top, bottom, reps):
        """Rows top..bottom (at most one tile's height apart) of the picture repeated reps x reps."""
        import numpy as np

        start, stop = top % self.height, (bottom - 1) % self.height + 1
        block = self.pixels[start:stop]
        return np.tile(block, (1, reps, 1)) if reps > 1 else block

    def close(self):
        del self.pixels
        self.map.close()
        self.file.close()


def blocks(height, tile_height, step=256):
    """(top, bottom) row ranges of at most step rows that never straddle a tile's edge."""
    top = 0
    while top < height:
        bottom = min(top + step, height, (top // tile_height + 1) * tile_height)
        yield top, bottom
        top = bottom


def write_npy(tile, reps, path):
    height, width = tile.height * reps, tile.width * reps
    header = "{'descr': '|u1', 'fortran_order': False, 'shape': (1, %d, %d, 3), }" % (height, width)
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    with open(path, "wb") as out:
        out.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
        for top, bottom in blocks(height, tile.height):
            out.write(tile.rows(top, bottom, reps).tobytes())


def write_bmp(tile, reps, path):
    """A 24-bit bottom-up BMP with a BITMAPINFOHEADER."""
    import numpy as np

    height, width = tile.height * reps, tile.width * reps
    stride = (width * 3 + 3) // 4 * 4
    data = stride * height
    with open(path, "wb") as out:
        out.write(b"BM" + (54 + data).to_bytes(4, "little") + bytes(4) + (54).to_bytes(4, "little"))
        out.write((40).to_bytes(4, "little") + width.to_bytes(4, "little") + height.to_bytes(4, "little"))
        out.write((1).to_bytes(2, "little") + (24).to_bytes(2, "little") + bytes(4) + data.to_bytes(4, "little"))
        out.write((2835).to_bytes(4, "little") * 2 + bytes(8))
        for top, bottom in reversed(list(blocks(height, tile.height))):
            rows = tile.rows(top, bottom, reps)[::-1, :, ::-1]
            if stride != width * 3:
                rows = np.pad(rows.reshape(len(rows), -1), ((0, 0), (0, stride - width * 3)))
            out.write(np.ascontiguousarray(rows).tobytes())


# Input kinds: how each is made from the tile. vips writes PNG at its defaults
# (zlib level 6, no filter), TIFF in strips uncompressed (its default, and what
# rcrop writes), tiled TIFF with LZW and the horizontal predictor (deflate took
# four times as long to write).
VIPS_KINDS = {
    "png": ("in.png", ""),
    "strips": ("in-strips.tif", ""),
    "tiles": ("in-tiles.tif", "[tile,tile-width=256,tile-height=256,compression=lzw]"),
    "ppm": ("in.ppm", ""),
}
PY_KINDS = {"bmp": ("in.bmp", write_bmp), "npy": ("in.npy", write_npy)}


def make_input(kind, folder, tile_path, tile, reps):
    if kind in VIPS_KINDS:
        name, options = VIPS_KINDS[kind]
        vips("replicate", tile_path, name + options, reps, reps, cwd=folder)
    else:
        name, writer = PY_KINDS[kind]
        writer(tile, reps, folder / name)
    return folder / name


def free_bytes(folder):
    return shutil.disk_usage(folder).free


def timed(command, cwd, limit=None):
    """Runs a shell command under GNU time (and timeout, with a limit).

    Returns (wall s, CPU s, peak RSS MiB, None) on success, or (wall, cpu, rss,
    error line) when it fails or runs out of time."""
    wrapped = ["/usr/bin/time", "-f", "TIME %U %S %M"]
    if limit:
        wrapped += ["timeout", str(limit)]
    start = time.perf_counter()
    result = subprocess.run([*wrapped, "sh", "-c", command], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, cwd=cwd)
    wall = time.perf_counter() - start
    lines = result.stderr.strip().splitlines()
    stats = [line for line in lines if line.startswith("TIME ")]
    user, system, rss = stats[-1].split()[1:] if stats else ("0", "0", "0")
    error = None
    if result.returncode != 0:
        if limit and result.returncode == 124:
            error = f"stopped after the {limit} s time limit"
        else:
            messages = [line.strip() for line in lines
                        if not line.startswith(("TIME ", "Command exited", "Command terminated"))]
            if any(m.startswith("Traceback") for m in messages):
                messages = messages[-1:]  # a Python exception: its last line says what it is
            error = f"exit {result.returncode}: " + ("; ".join(messages[:3]) or "no message")
    return wall, float(user) + float(system), int(rss) / 1024, error


def cell_error(error, notes, wall=None, rss=None):
    notes.append(error)
    spent = f" after {wall:.2f} s, {rss:.0f} MiB" if wall is not None else ""
    return f"failed [{len(notes)}]{spent}"


def md(text):
    return text.replace("|", "\\|")


def print_notes(notes):
    if notes:
        print()
        for i, note in enumerate(notes, 1):
            print(f"[{i}] {md(note)}")


# -- huge -----------------------------------------------------------------------


def huge_tools(rcrop, py, limit_mib):
    w = h = HUGE - 2 * C
    crop = f"({C}, {C}, {C + w}, {C + h})"
    png = {
        "rcrop": f"{rcrop} -q --crop {C} in.png OUT.png",
        "vips (defaults)": f"vips crop in.png OUT.png {C} {C} {w} {h}",
        "vips (filter=all)": f"vips crop in.png 'OUT.png[compression=6,filter=all]' {C} {C} {w} {h}",
        "convert": f"/usr/bin/convert in.png -crop {w}x{h}+{C}+{C} +repage -quality 65 OUT.png",
        "pillow": f"{py} -c \"from PIL import Image; Image.open('in.png').crop({crop}).save('OUT.png')\"",
    }
    tiff = {
        "rcrop": f"{rcrop} -q --crop {C} in-tiles.tif OUT.tif",
        "vips (defaults)": f"vips crop in-tiles.tif OUT.tif {C} {C} {w} {h}",
        "convert": f"/usr/bin/convert in-tiles.tif -crop {w}x{h}+{C}+{C} +repage -compress none OUT.tif",
        "pillow": f"{py} -c \"from PIL import Image; Image.open('in-tiles.tif').crop({crop}).save('OUT.tif')\"",
    }
    if limit_mib:
        png[f"rcrop --image-limit-mib {limit_mib}"] = png["rcrop"].replace(" -q", f" -q --image-limit-mib {limit_mib}")
        tiff[f"rcrop --image-limit-mib {limit_mib}"] = tiff["rcrop"].replace(" -q", f" -q --image-limit-mib {limit_mib}")
    return png, tiff


def huge_table(name, tools, folder, runs, peer_limit):
    samples = {tool: [] for tool in tools}
    errors = {}
    for i in range(runs):
        for tool, command in tools.items():
            if tool in errors:
                continue
            out = "out-" + re.sub(r"[^A-Za-z0-9]+", "-", tool).strip("-")
            command = command.replace("OUT", out)
            print(f"bench: huge {name}: run {i + 1}/{runs}: {tool}", file=sys.stderr)
            limited = not tool.startswith(("rcrop", "vips"))
            wall, cpu, rss, error = timed(command, folder, peer_limit if limited else None)
            outputs = list(folder.glob(out + ".*"))
            size = sum(p.stat().st_size for p in outputs)
            for p in outputs:
                p.unlink()
            if error:
                errors[tool] = (error, wall, rss)
            else:
                samples[tool].append((wall, cpu, rss, size))
    median = {t: [statistics.median(s[k] for s in samples[t]) for k in range(4)] for t in tools if t not in errors}
    print(f"\n## huge: {name} ({runs} run{'s' * (runs > 1)}, medians)\n")
    print("| tool | wall s | CPU s | peak RSS MiB | output MB | rcrop/tool wall | rcrop/tool RSS | rcrop/tool size |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    # Ratios against rcrop at its defaults, or, if that failed, rcrop with the raised limit.
    base_tool = next((t for t in tools if t.startswith("rcrop") and t in median), None)
    base = median.get(base_tool)
    for tool in tools:
        if tool in errors:
            error, wall, rss = errors[tool]
            print(f"| {tool} | {wall:.1f} | | {rss:.0f} | | | | |")
            continue
        wall, cpu, rss, size = median[tool]
        ratios = (f"| {base[0] / wall:.2f} | {base[2] / rss:.2f} | {base[3] / size:.3f} |"
                  if base and tool != base_tool else "| | | |")
        print(f"| {tool} | {wall:.1f} | {cpu:.1f} | {rss:.0f} | {size / 1e6:.1f} {ratios}")
    if base_tool and base_tool != "rcrop":
        print(f"\nratios against {base_tool}")
    if errors:
        print()
        for tool, (error, _, _) in errors.items():
            print(f"- {tool}: failed: {md(error)}")
    print("\ncommands (in the temporary folder; OUT is each tool's own output name):\n")
    for tool, command in tools.items():
        print(f"- {tool}: `{command}`")
    return median


def run_huge(parent, rcrop, py, runs, peer_limit, limit_mib):
    folder = Path(tempfile.mkdtemp(prefix="huge-", dir=parent))
    try:
        need = 4 * HUGE * HUGE * 3 + 2 * GIB
        if free_bytes(folder) < need:
            print(f"\n## huge: skipped: {free_bytes(folder) / GIB:.1f} GiB free in {folder}, needs {need / GIB:.1f}")
            return
        png, tiff = huge_tools(rcrop, py, limit_mib)
        t0 = time.perf_counter()
        tw, th, reps = tile_shape(HUGE, HUGE)
        tile_path = make_tile(folder, tw, th)
        vips("replicate", tile_path, VIPS_KINDS["png"][0], reps, reps, cwd=folder)
        made_png = time.perf_counter() - t0
        vips("replicate", tile_path, "".join(VIPS_KINDS["tiles"]), reps, reps, cwd=folder)
        tile_path.unlink()
        made = time.perf_counter() - t0
        sizes = {k: (folder / VIPS_KINDS[k][0]).stat().st_size for k in ["png", "tiles"]}
        print(f"\n## huge: {HUGE}x{HUGE} RGB 8-bit ({HUGE * HUGE * 3 / 1e9:.1f} GB decoded), --crop {C}\n")
        print(f"inputs made in {made:.0f} s (PNG {made_png:.0f} s): in.png {sizes['png'] / 1e6:.0f} MB "
              f"(vips defaults: zlib 6, no filter, not interlaced); in-tiles.tif {sizes['tiles'] / 1e6:.0f} MB "
              f"(256x256 tiles, LZW, horizontal predictor)")
        print(f"ImageMagick and Pillow run under `timeout {peer_limit}`; outputs: PNG at zlib 6 "
              "(rcrop: adaptive filter; vips: none at its defaults), TIFF uncompressed in strips")
        huge_table(f"{HUGE}x{HUGE} PNG", png, folder, runs, peer_limit)
        (folder / "in.png").unlink()
        huge_table(f"{HUGE}x{HUGE} tiled TIFF", tiff, folder, runs, peer_limit)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- sizes ----------------------------------------------------------------------

# (row, input kind, output extension)
SWEEP = [
    ("PNG -> PNG", "png", "png"),
    ("PNG -> .npy", "png", "npy"),
    ("TIFF strips -> TIFF", "strips", "tif"),
    ("TIFF tiles -> TIFF", "tiles", "tif"),
    ("BMP -> BMP", "bmp", "bmp"),
    ("PPM -> PPM", "ppm", "ppm"),
    (".npy -> PNG", "npy", "png"),
]


def sweep_command(rcrop, kind, ext):
    name = VIPS_KINDS[kind][0] if kind in VIPS_KINDS else PY_KINDS[kind][0]
    return f"{rcrop} -q --crop {C} {name} out.{ext}"


def probe(folder, rcrop):
    """Which rows rcrop can run at all: refusals on a 64x64 input, by row."""
    work = folder / "probe"
    work.mkdir()
    tile_path = make_tile(work, 64, 64)
    tile = Tile(tile_path, 64, 64)
    refused = {}
    try:
        for kind in dict.fromkeys(k for _, k, _ in SWEEP):
            make_input(kind, work, tile_path, tile, 1)
        for row, kind, ext in SWEEP:
            result = subprocess.run(sweep_command(rcrop, kind, ext), shell=True, cwd=work, capture_output=True, text=True)
            if result.returncode != 0:
                lines = result.stderr.strip().splitlines()
                refused[row] = f"exit {result.returncode}: {lines[-1] if lines else 'no message'}"
    finally:
        tile.close()
        shutil.rmtree(work)
    return refused


def run_sizes(parent, rcrop, runs, max_mp):
    folder = Path(tempfile.mkdtemp(prefix="sizes-", dir=parent))
    sizes = {mp: wh for mp, wh in SIZES.items() if mp <= max_mp}
    cells = {row: {} for row, _, _ in SWEEP}
    notes = []
    timing = {}
    try:
        refused = probe(folder, rcrop)
        for mp, (width, height) in sizes.items():
            t0 = time.perf_counter()
            tw, th, reps = tile_shape(width, height)
            need = 2 * width * height * 3 + 2 * GIB
            if free_bytes(folder) < need:
                for row in cells:
                    cells[row][mp] = cell_error(f"{mp} MP: not run, {free_bytes(folder) / GIB:.1f} GiB free, "
                                                f"needs {need / GIB:.1f}", notes)
                continue
            print(f"bench: sizes: {mp} MP: making the picture", file=sys.stderr)
            tile_path = make_tile(folder, tw, th)
            tile = Tile(tile_path, tw, th)
            made = 0.0
            n = runs if mp < 100 else 1
            try:
                for kind in dict.fromkeys(k for _, k, _ in SWEEP):
                    rows = [(row, ext) for row, k, ext in SWEEP if k == kind and row not in refused]
                    if not rows:
                        continue
                    print(f"bench: sizes: {mp} MP: making the {kind} input", file=sys.stderr)
                    t1 = time.perf_counter()
                    path = make_input(kind, folder, tile_path, tile, reps)
                    made += time.perf_counter() - t1
                    for row, ext in rows:
                        print(f"bench: sizes: {mp} MP: {row}", file=sys.stderr)
                        results = []
                        for _ in range(n):
                            results.append(timed(sweep_command(rcrop, kind, ext), folder))
                            (folder / f"out.{ext}").unlink(missing_ok=True)
                            if results[-1][3]:
                                break
                        failed = next((r for r in results if r[3]), None)
                        if failed:
                            cells[row][mp] = cell_error(f"{row}, {mp} MP: {failed[3]}", notes, failed[0], failed[2])
                        else:
                            wall = statistics.median(r[0] for r in results)
                            rss = statistics.median(r[2] for r in results)
                            cells[row][mp] = f"{wall:.2f} s, {rss:.0f} MiB"
                    path.unlink()
            finally:
                tile.close()
                tile_path.unlink()
            timing[mp] = (time.perf_counter() - t0, made)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\n## sizes: rcrop --crop {C}, RGB 8-bit, wall time and peak RSS"
          f" (median of {runs} below 100 MP, one run from 100 MP)\n")
    print("| input -> output | " + " | ".join(f"{mp} MP ({w}x{h})" for mp, (w, h) in sizes.items()) + " |")
    print("| --- |" + " ---: |" * len(sizes))
    for row, _, _ in SWEEP:
        if row in refused:
            print(f"| {row} | " + " | ".join(["skipped"] * len(sizes)) + " |")
        else:
            print(f"| {row} | " + " | ".join(cells[row].get(mp, "") for mp in sizes) + " |")
    print_notes(notes)
    for row, why in refused.items():
        print(f"- {row}: skipped, rcrop refuses it on a 64x64 input: {md(why)}")
    print("\ncommand of each row, in the temporary folder (`rcrop` is the benchmarked binary):\n")
    for row, kind, ext in SWEEP:
        print(f"- {row}: `{sweep_command('rcrop', kind, ext)}`")
    print("\ninputs: PNG as vips writes it by default (zlib 6, no filter); TIFF strips uncompressed;"
          " TIFF tiles 256x256, LZW with the horizontal predictor; BMP 24-bit bottom-up; PPM binary (P6);"
          " .npy (1, H, W, 3) uint8")
    for mp, (total, made) in timing.items():
        print(f"{mp} MP: {total:.0f} s in all, of which {made:.0f} s making inputs")


# -- tiles ----------------------------------------------------------------------

# (name, width, height, vips save options): tiled and striped TIFF that rcrop
# decodes on every core; the last is 900 MP and needs about 5 GB of disk.
TILED = [
    ("16000x12000 TIFF, 256x256 deflate tiles", 16000, 12000,
     "[tile,tile-width=256,tile-height=256,compression=deflate]"),
    ("16000x12000 TIFF, deflate strips of 128 rows", 16000, 12000, "[compression=deflate]"),
    (f"{HUGE}x{HUGE} TIFF, 256x256 LZW tiles", HUGE, HUGE,
     "[tile,tile-width=256,tile-height=256,compression=lzw]"),
]


def run_tiles(parent, rcrop, runs, max_mp):
    """rcrop beside `vips crop` on compressed TIFF, tiled and in strips, --crop 16,
    runs interleaved: wall time, CPU time, peak RSS and output size of each."""
    folder = Path(tempfile.mkdtemp(prefix="tiles-", dir=parent))
    try:
        tile = None  # (width, height, path, reps) of the picture made last
        for name, width, height, options in TILED:
            if width * height > max_mp * 1_000_000:
                print(f"\n## tiles: {name}: skipped (over --max-mp {max_mp})")
                continue
            if free_bytes(folder) < 3 * width * height * 3:
                print(f"\n## tiles: {name}: skipped: {free_bytes(folder) / GIB:.1f} GiB free in {folder}")
                continue
            if tile is None or tile[:2] != (width, height):
                if tile:
                    tile[2].unlink()
                tw, th, reps = tile_shape(width, height)
                tile = (width, height, make_tile(folder, tw, th), reps)
            vips("replicate", tile[2], "in.tif" + options, tile[3], tile[3], cwd=folder)
            w, h = width - 2 * C, height - 2 * C
            tools = {
                "rcrop": f"{rcrop} -q --crop {C} in.tif OUT.tif",
                "vips crop": f"vips crop in.tif OUT.tif {C} {C} {w} {h}",
            }
            print(f"\n## tiles: {name}, in.tif {(folder / 'in.tif').stat().st_size / 1e6:.0f} MB, "
                  f"vips options `{options}`; outputs uncompressed TIFF in strips")
            huge_table(name, tools, folder, runs, None)
            (folder / "in.tif").unlink()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
