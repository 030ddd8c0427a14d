"""Type stubs of the rcrop package: Keras' cropping layers on arrays, image
files and bytes."""

import os
from collections.abc import Iterable
from typing import Any, Literal

import numpy
from numpy.typing import ArrayLike, DTypeLike

__version__: str

PathLike = str | os.PathLike[str]
LayerName = Literal["Cropping1D", "Cropping2D", "Cropping3D", "CenterCrop"]
DataFormat = Literal["channels_last", "channels_first"]
ColorMode = Literal["grayscale", "rgb", "rgba"]
# An int, a tuple of ints or of pairs (Keras' `cropping=`), or the
# command line's spec string.
Cropping = int | tuple[Any, ...] | list[Any] | str

class FileError(OSError):
    """A file rcrop cannot read as what it claims to be, or an output it
    cannot write."""

def crop(
    x: ArrayLike,
    cropping: Cropping | tuple[int, int],
    *,
    layer: LayerName | None = None,
    data_format: DataFormat | None = None,
    autocast: bool = False,
) -> numpy.ndarray: ...
def load(
    src: PathLike | bytes,
    *,
    cropping: Cropping | None = None,
    center_crop: tuple[int, int] | None = None,
    color_mode: ColorMode = "rgb",
    data_format: DataFormat | None = None,
    dtype: DTypeLike | None = None,
) -> numpy.ndarray: ...
def crop_file(src: PathLike, dst: PathLike, **options: Any) -> dict[str, Any]: ...
def crop_files(
    srcs: Iterable[PathLike],
    out_dir: PathLike,
    *,
    jobs: int | None = None,
    **options: Any,
) -> list[dict[str, Any]]: ...
def crop_bytes(data: bytes, *, to: str | None = None, **options: Any) -> bytes: ...
