"""`rcrop.load` against Keras' `img_to_array(load_img(path, color_mode=...))`
of `fixtures/color/` (PNG, JPEG, BMP, GIF, TIFF, WebP), in the stored dtype,
whole and cropped, from paths and from bytes."""

from __future__ import annotations

import numpy
import pytest

import rcrop
from conftest import FIXTURES, assert_same, cases

COLOR = FIXTURES / "color"


def keras_view(case) -> numpy.ndarray:
    """Keras' tensor of the case's image, without its batch axis."""
    return numpy.load(COLOR / case["expected"])[0]


@pytest.mark.parametrize("case", cases("color/cases.tsv"))
def test_load_equals_keras_load_img(case):
    found = rcrop.load(COLOR / case["input"], color_mode=case["mode"])
    assert_same(found, keras_view(case))


@pytest.mark.parametrize("case", cases("color/cases.tsv"))
def test_load_crops_as_cropping2d_and_center_crop(case):
    image = keras_view(case)
    height, width = image.shape[:2]
    path = COLOR / case["input"]
    found = rcrop.load(path, cropping=((1, 2), (3, 0)), color_mode=case["mode"])
    assert_same(found, image[1 : height - 2, 3:width])
    size = (height // 2, width // 3)
    top, left = (height - size[0]) // 2, (width - size[1]) // 2
    centred = rcrop.load(path, center_crop=size, color_mode=case["mode"])
    assert_same(centred, image[top : top + size[0], left : left + size[1]])


def test_load_lays_channels_first_and_casts_as_img_to_array():
    (case,) = (p.values[0] for p in cases("color/cases.tsv") if p.id == "gray8_png_rgb")
    image = keras_view(case)
    found = rcrop.load(COLOR / case["input"], cropping=1, data_format="channels_first")
    assert_same(found, numpy.ascontiguousarray(image[1:-1, 1:-1].transpose(2, 0, 1)))
    as_float = rcrop.load(COLOR / case["input"], dtype="float32")
    assert_same(as_float, image.astype(numpy.float32))


def test_load_reads_bytes_as_it_reads_the_file():
    path = FIXTURES / "images" / "exif_rotated.jpg"
    assert_same(rcrop.load(path.read_bytes(), cropping=2), rcrop.load(path, cropping=2))
    assert_same(rcrop.load(str(path)), rcrop.load(path))


def test_load_raises_os_errors_for_files_it_cannot_read():
    with pytest.raises(FileNotFoundError, match=r"no-such\.png"):
        rcrop.load(FIXTURES / "no-such.png")
    with pytest.raises(IsADirectoryError):
        rcrop.load(FIXTURES)
    with pytest.raises(rcrop.FileError, match=r"<bytes>: not a \.npy file"):
        rcrop.load(b"neither an image nor an array")
    truncated = (FIXTURES / "images" / "exif_rotated.jpg").read_bytes()[:200]
    with pytest.raises(OSError, match="<bytes>"):
        rcrop.load(truncated)
    assert issubclass(rcrop.FileError, OSError)


def test_load_refuses_a_crop_too_large_with_a_value_error():
    with pytest.raises(ValueError, match="a crop must leave"):
        rcrop.load(FIXTURES / "images" / "exif_rotated.jpg", cropping=1000)
    with pytest.raises(ValueError, match="Keras would resize"):
        rcrop.load(FIXTURES / "images" / "exif_rotated.jpg", center_crop=(5000, 5000))


def test_load_decodes_only_the_tiles_and_rows_the_crop_keeps(tmp_path):
    """A tile outside the crop is never decoded: damaged, it stops a whole
    load but not the crop's; a PNG is still read to its end."""
    tifffile = pytest.importorskip("tifffile")
    rng = numpy.random.default_rng(7)
    image = rng.integers(0, 256, size=(64, 64, 3), dtype=numpy.uint8)
    path = tmp_path / "tiled.tif"
    tifffile.imwrite(path, image, tile=(32, 32), compression="zlib", photometric="rgb")
    with tifffile.TiffFile(path) as tif:
        last = tif.pages[0].dataoffsets[-1]
    data = bytearray(path.read_bytes())
    data[last : last + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    with pytest.raises(OSError):
        rcrop.load(path)
    found = rcrop.load(path, cropping=((2, 32), (3, 32)))
    assert_same(found, image[2:32, 3:32])

    png = tmp_path / "cut.png"
    whole = (FIXTURES / "images" / "rgb8.png").read_bytes()
    png.write_bytes(whole[: len(whole) - 20])
    with pytest.raises(OSError):
        rcrop.load(png, cropping=((0, 5), (0, 0)))
