"""Every file rcrop writes is readable by the reference readers, with the
values rcrop's own `.npy` of the same crop holds.

For every output kind and every channel count and sample type it holds
(the codec table of src/raster/formats.rs), a seeded (1, 10, 12, C) array
is cropped by 1 on each side into that kind and into `.npy`, and the file
is read by the reference: Pillow for PNG, JPEG, BMP, WebP, GIF, TGA, QOI,
ICO and PNM; tifffile for TIFF; the OpenEXR library for OpenEXR; NumPy for
`.npy` and `.npz`; farbfeld and Radiance HDR, which none of those reads,
by readers written here from the formats' definitions. Lossless kinds must
give the values exactly — at the reader's precision where Pillow narrows
16-bit samples to 8, while libpng (through imagecodecs) and a PNM reader
written here check those at full depth — and JPEG must give exactly what
rcrop's own decoder gives of the same file (Pillow's pixels) and be near
the source.

    pip install -r tests/python/requirements-readers.txt
    cargo build
    RCROP_BIN=target/debug/rcrop python -m pytest tests/python/test_outputs_readable.py
"""

import os
import subprocess
import zipfile

import imagecodecs
import numpy as np
import OpenEXR
import pytest
import tifffile
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RCROP = os.environ.get("RCROP_BIN", os.path.join(ROOT, "target", "debug", "rcrop"))
H, W = 10, 12

U8, U16, U32 = np.uint8, np.uint16, np.uint32
I8, I16, I32 = np.int8, np.int16, np.int32
F32, F64 = np.float32, np.float64


def layouts(channels, dtypes):
    return [(c, d) for c in channels for d in dtypes]


# Each kind rcrop writes: its extension, the reader, and what it holds.
HOLDS = {
    "png": layouts([1, 2, 3, 4], [U8, U16]),
    "jpg": layouts([1, 3], [U8]),
    # Any number of bands: gray, gray+alpha, RGB(A), and stacks as extra samples.
    "tif": layouts([1, 2, 3, 4, 5, 13], [U8, U16, U32, I8, I16, I32, F32, F64]),
    "bmp": layouts([1, 3, 4], [U8]),
    "webp": layouts([1, 2, 3, 4], [U8]),
    "gif": layouts([3, 4], [U8]),
    "tga": layouts([1, 2, 3, 4], [U8]),
    "qoi": layouts([3, 4], [U8]),
    "ico": layouts([1, 2, 3, 4], [U8, U16]),
    "ff": layouts([4], [U16]),
    "hdr": layouts([3], [F32]),
    "exr": layouts([3, 4], [F32]),
    # PNM is written as P5 or P6 whichever of its extensions names it.
    "pnm": layouts([1, 3], [U8, U16]),
    "pbm": layouts([1, 3], [U8, U16]),
    "pgm": layouts([1, 3], [U8, U16]),
    "ppm": layouts([1, 3], [U8, U16]),
}

# Arrays: every kind of dtype `.npy` holds, in both byte orders.
ARRAY_DTYPES = [
    "|b1",
    "|u1",
    "|i1",
    "<u2",
    ">i2",
    "<u4",
    ">i4",
    "<u8",
    "<i8",
    "<f2",
    ">f4",
    "<f8",
    "<c8",
    ">c16",
    "<M8[s]",
    "<m8[ms]",
    "|S3",
    "<U2",
]

CASES = [(ext, c, np.dtype(d).name) for ext, layouts_ in HOLDS.items() for c, d in layouts_]


def source(ext, channels, dtype, rng):
    """A (1, H, W, C) array of `dtype` the kind holds exactly."""
    shape = (1, H, W, channels)
    dtype = np.dtype(dtype)
    if ext == "gif":
        return gif_source(channels, rng)
    if ext == "hdr":
        return rgbe_source(rng)
    if ext == "jpg":
        # Smooth, so JPEG's loss stays small.
        y, x = np.mgrid[0:H, 0:W]
        planes = [(x * 9 + y * 5 + 40 * c) % 256 for c in range(channels)]
        return np.stack(planes, axis=-1)[None].astype(dtype)
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    return (rng.standard_normal(shape) * 1000).astype(dtype)


def gif_source(channels, rng):
    """At most 256 colors, alpha 0 or 255 and one color where it is 0."""
    palette = rng.integers(0, 256, size=(40, 3), dtype=U8)
    rgb = palette[rng.integers(0, 40, size=(H, W))]
    if channels == 3:
        return rgb[None]
    alpha = np.where(rng.random((H, W)) < 0.3, 0, 255).astype(U8)
    rgba = np.concatenate([rgb, alpha[..., None]], axis=-1)
    rgba[alpha == 0] = 0
    return rgba[None]


def rgbe_source(rng):
    """Float32 RGB every value of which RGBE holds exactly: mantissas with
    the largest at least 128, one exponent a pixel."""
    m = rng.integers(0, 256, size=(H, W, 3)).astype(F64)
    m[..., 0] = rng.integers(128, 256, size=(H, W))
    e = rng.integers(120, 140, size=(H, W, 1))
    return (m * np.exp2(e - 136.0)).astype(F32)[None]


def rcrop(src, out):
    done = subprocess.run(
        [RCROP, "--crop", "1", "-f", "channels_last", src, out], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def pillow(path):
    """The image as Pillow gives it, a palette expanded, (H, W, C)."""
    with Image.open(path) as im:
        im.load()
        if im.mode == "P":
            im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        a = np.asarray(im)
    if a.dtype == np.int32:  # mode I, which Pillow gives 16-bit gray as
        a = a.astype(U16)
    return a if a.ndim == 3 else a[..., None]


def tiff(path):
    a = tifffile.imread(path)
    return a if a.ndim == 3 else a[..., None]


def exr(path):
    with OpenEXR.File(str(path), separate_channels=True) as f:
        ch = f.channels()
        names = [n for n in "RGBA" if n in ch]
        assert set(ch) == set(names), sorted(ch)
        return np.stack([ch[n].pixels for n in names], axis=-1)


def farbfeld(path):
    """farbfeld: the magic, width and height (u32, big-endian), then RGBA
    pixels of big-endian u16."""
    data = open(path, "rb").read()
    assert data[:8] == b"farbfeld", data[:8]
    w, h = np.frombuffer(data[8:16], ">u4")
    pixels = np.frombuffer(data[16:], ">u2")
    assert pixels.size == w * h * 4, (pixels.size, w, h)
    return pixels.reshape(h, w, 4).astype(U16)


def radiance(path):
    """Radiance HDR as its definition reads it: a header to an empty line,
    `-Y H +X W`, then scanlines flat or run-length encoded (new style);
    each RGBE pixel (r, g, b) * 2^(e - 136), 0 where e is 0."""
    data = open(path, "rb").read()
    assert data.startswith(b"#?RADIANCE") or data.startswith(b"#?RGBE"), data[:10]
    head_end = data.index(b"\n\n") + 2
    line_end = data.index(b"\n", head_end)
    words = data[head_end:line_end].split()
    assert words[0] == b"-Y" and words[2] == b"+X", words
    h, w = int(words[1]), int(words[3])
    at = line_end + 1
    rows = []
    for _ in range(h):
        if data[at : at + 2] == b"\x02\x02" and not data[at + 2] & 0x80:
            assert (data[at + 2] << 8 | data[at + 3]) == w
            at += 4
            planes = []
            for _ in range(4):
                plane = bytearray()
                while len(plane) < w:
                    n = data[at]
                    if n > 128:
                        plane += bytes([data[at + 1]]) * (n - 128)
                        at += 2
                    else:
                        plane += data[at + 1 : at + 1 + n]
                        at += 1 + n
                assert len(plane) == w
                planes.append(np.frombuffer(bytes(plane), U8))
            rows.append(np.stack(planes, axis=-1))
        else:
            rows.append(np.frombuffer(data[at : at + 4 * w], U8).reshape(w, 4))
            at += 4 * w
    assert at == len(data), (at, len(data))
    rgbe = np.stack(rows).astype(F64)
    scale = np.where(rgbe[..., 3:] == 0, 0.0, np.exp2(rgbe[..., 3:] - 136))
    return (rgbe[..., :3] * scale).astype(F32)


def png_16(path):
    """A PNG's samples at full depth, by libpng (through imagecodecs)."""
    return png_16_bytes(open(path, "rb").read())


def ico_16(path):
    """An ICO's one PNG entry at full depth: the directory (6 bytes, then
    16 an entry) gives the entry's size and offset."""
    data = open(path, "rb").read()
    size, offset = np.frombuffer(data[6 + 8 : 6 + 16], "<u4")
    return png_16_bytes(data[offset : offset + size])


def png_16_bytes(data):
    a = imagecodecs.png_decode(data)
    return a if a.ndim == 3 else a[..., None]


def pnm_16(path):
    """A P5 or P6 file at full depth: magic, width, height and maximum value
    (whitespace apart), one whitespace byte, then big-endian samples."""
    data = open(path, "rb").read()
    fields, at = [], 0
    while len(fields) < 4:
        while data[at : at + 1].isspace():
            at += 1
        end = at
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[at:end])
        at = end
    magic, w, h, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    assert magic in (b"P5", b"P6") and maxval == 65535, fields
    channels = 1 if magic == b"P5" else 3
    return np.frombuffer(data[at + 1 :], ">u2").reshape(h, w, channels).astype(U16)


READERS = {"tif": tiff, "exr": exr, "ff": farbfeld, "hdr": radiance}
# Pillow narrows 16-bit samples but gray; these read them whole as well.
FULL_16 = {"png": png_16, "ico": ico_16, **{ext: pnm_16 for ext in ["pnm", "pbm", "pgm", "ppm"]}}


PNM = {"pnm", "pbm", "pgm", "ppm"}


def as_read(ext, got, want):
    """`want` as the reader can give it: gray that Pillow gives as RGB(A)
    (WebP) compared with one of its equal channels; 16-bit samples Pillow
    narrows to 8 (of RGB and alpha) compared as Pillow narrows them: a
    PNG's by their high byte, a PNM's rounded from v / 257."""
    if got.shape[-1] != want.shape[-1]:
        assert (got.shape[-1], want.shape[-1]) in [(3, 1), (4, 2)], (got.shape, want.shape)
        assert np.array_equal(got[..., 0], got[..., 1]) and np.array_equal(got[..., 1], got[..., 2])
        got = got[..., [0]] if want.shape[-1] == 1 else got[..., [0, 3]]
    if want.dtype == U16 and got.dtype == U8:
        wide = want.astype(U32)
        want = ((wide * 255 + 32767) // 65535 if ext in PNM else wide >> 8).astype(U8)
    return got, want


@pytest.mark.parametrize("ext,channels,dtype", CASES, ids=[f"{e}-{c}-{d}" for e, c, d in CASES])
def test_every_image_kind_reads_back_as_rcrops_own_crop(tmp_path, ext, channels, dtype):
    rng = np.random.default_rng([channels, len(dtype), len(ext)])
    src = tmp_path / "in.npy"
    np.save(src, source(ext, channels, dtype, rng))
    out, ref = tmp_path / f"out.{ext}", tmp_path / "ref.npy"
    rcrop(src, out)
    rcrop(src, ref)
    want = np.load(ref)[0]
    got = READERS.get(ext, pillow)(out)
    if ext == "jpg":
        own = tmp_path / "own.npy"
        rcrop(out, own)  # rcrop's decode of its own JPEG, cropped by 1 again
        assert np.array_equal(got[1:-1, 1:-1], np.load(own)[0])
        diff = np.abs(got.astype(int) - want.astype(int))
        assert diff.mean() < 2 and diff.max() <= 16, (diff.mean(), diff.max())
        return
    if want.dtype == U16 and ext in FULL_16:
        assert same(FULL_16[ext](out), want)
    got, want = as_read(ext, got, want)
    found, wanted = (got.dtype, got.shape), (want.dtype, want.shape)
    assert found == wanted, (found, wanted)
    assert np.array_equal(got, want, equal_nan=True)


def same(a, b):
    """Equal values of one dtype, NaN (and NaT) equal to itself."""
    nan = a.dtype.kind in "fcmM"
    return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=nan)


@pytest.mark.parametrize("descr", ARRAY_DTYPES)
@pytest.mark.parametrize("order", ["C", "F"])
def test_npy_and_npz_outputs_load_in_numpy_as_the_crop(tmp_path, descr, order):
    rng = np.random.default_rng(len(descr))
    raw = rng.integers(0, 256, size=(1, H, W, 3, np.dtype(descr).itemsize), dtype=U8)
    x = np.asarray(raw.view(descr)[..., 0], order=order)
    if x.dtype.kind in "fc":
        x = (rng.standard_normal(x.shape) * 100).astype(descr)
    src = tmp_path / "in.npy"
    np.save(src, x)
    want = x[:, 1:-1, 1:-1, :]
    rcrop(src, tmp_path / "out.npy")
    got = np.load(tmp_path / "out.npy")
    assert same(got, want)
    archive = tmp_path / "in.npz"
    np.savez(archive, x=x, y=x[..., :2])
    rcrop(archive, tmp_path / "out.npz")
    assert zipfile.ZipFile(tmp_path / "out.npz").testzip() is None
    with np.load(tmp_path / "out.npz") as z:
        assert sorted(z.files) == ["x", "y"]
        assert same(z["x"], want) and same(z["y"], want[..., :2])
