"""Keras' cropping layers, exactly, on arrays, image files and bytes.

rcrop applies ``Cropping1D``, ``Cropping2D``, ``Cropping3D`` and
``CenterCrop`` as Keras does, in Rust, with the GIL released while it works:

- :func:`crop` crops an in-memory NumPy array;
- :func:`load` decodes an image file as ``img_to_array(load_img(...))``
  does, cropped;
- :func:`crop_file`, :func:`crop_files` and :func:`crop_bytes` run the
  ``rcrop`` command line's job on files or bytes, with its options as
  keywords, and return what ``rcrop --report json`` prints.

A crop the layer refuses (a bad spec, a crop larger than the input) or a
wrong option raises ``ValueError``; a file that cannot be opened, read,
decoded or written raises an ``OSError``: ``FileNotFoundError``,
``PermissionError`` or ``IsADirectoryError`` where the system says so, else
:class:`FileError`. Each carries the message the command line prints.
"""

from __future__ import annotations

import json
import operator
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Union

import numpy

from rcrop import _rcrop

__version__: str = _rcrop.__version__
FileError = _rcrop.FileError

__all__ = ["FileError", "__version__", "crop", "crop_bytes", "crop_file", "crop_files", "load"]

PathLike = Union[str, "os.PathLike[str]"]

# Keywords named as Keras names them, and the command line's flag for each.
_RENAMED = {"cropping": "crop", "data_format": "format"}
# What the functions decide themselves.
_OWN = {
    "files_from",
    "generate",
    "input_shape",
    "null",
    "out_dir",
    "output",
    "paths",
    "print_config",
    "quiet",
    "report",
    "stack",
    "verbose",
}


def crop(
    x: Any,
    cropping: Any,
    *,
    layer: str | None = None,
    data_format: str | None = None,
    autocast: bool = False,
) -> numpy.ndarray:
    """Crop an array as ``keras.layers.CroppingND(cropping, data_format)(x)``.

    The layer follows the array's rank (3D ``Cropping1D``, 4D ``Cropping2D``,
    5D ``Cropping3D``) unless ``layer`` names one (``"CenterCrop"`` takes
    ``cropping`` as its ``(height, width)``). ``cropping`` is the value Keras
    takes (an int, a tuple, a tuple of tuples) or the command line's spec
    string. ``data_format`` is ``"channels_last"`` or ``"channels_first"``;
    ``None`` is the ``image_data_format`` of ``keras.json``, as in Keras.

    Every dtype of fixed-size elements is cropped as it is, in the array's
    memory order (C or Fortran; others are made C-contiguous first); with
    ``autocast``, the result has the dtype Keras' layer gives: floats of
    another width are cast to float32, and ``CenterCrop`` casts every
    boolean, integer and float input. Returns a new array.

    >>> import numpy, rcrop
    >>> rcrop.crop(numpy.zeros((1, 8, 8, 3)), ((2, 3), (1, 1))).shape
    (1, 3, 6, 3)
    """
    array = numpy.asarray(x)
    if array.dtype.hasobject:
        raise TypeError(
            f"the array's dtype is {array.dtype}, which holds Python objects; "
            "expected a dtype of fixed-size elements"
        )
    if not (array.flags.c_contiguous or array.flags.f_contiguous):
        array = numpy.ascontiguousarray(array)
    flags = _layer_flags(cropping, layer, data_format)
    return _rcrop.crop(array, [*flags, "--autocast"] if autocast else flags)


def load(
    src: PathLike | bytes,
    *,
    cropping: Any = None,
    center_crop: tuple[int, int] | None = None,
    color_mode: str = "rgb",
    data_format: str | None = None,
    dtype: Any = None,
) -> numpy.ndarray:
    """Load an image as ``img_to_array(load_img(src, color_mode=...))``, cropped.

    ``src`` is a path or the file's bytes. The image is decoded as Keras
    decodes it (``color_mode`` ``"rgb"``, ``"rgba"`` or ``"grayscale"``),
    then cropped by ``Cropping2D(cropping)`` or ``CenterCrop(*center_crop)``
    (neither: the whole image). The result is 3D, ``(H, W, C)`` or, with
    ``data_format="channels_first"``, ``(C, H, W)``, in the dtype the file
    stores (``uint8``, ``uint16``, ``float32`` ...) unless ``dtype`` is given,
    as ``img_to_array``'s ``dtype`` is. A ``.npy`` array of one image is
    read too.
    """
    flags = ["--color-mode", color_mode]
    if center_crop is not None:
        flags.append(f"--center-crop={_size(center_crop)}")
    if cropping is not None or center_crop is None:
        flags.append(f"--crop={_spec(0 if cropping is None else cropping)}")
    if data_format is not None:
        flags.append(f"--format={data_format}")
    with _as_file(src) as path:
        raw, shape, descr = _rcrop.load(path, flags)
    image = raw.view(numpy.dtype(descr)).reshape(shape)
    return image if dtype is None else image.astype(dtype)


def crop_file(src: PathLike, dst: PathLike, **options: Any) -> dict[str, Any]:
    """Crop the file ``src`` into ``dst``, as ``rcrop [OPTIONS] SRC DST`` does.

    Every option of the command line is a keyword: ``cropping`` (``--crop``),
    ``center_crop=(h, w)``, ``data_format`` (``--format``), ``layer``,
    ``config``, ``key`` (a name or a list of names), ``to``, ``order``,
    ``quality``, ``lossless``, ``reencode``, ``color_mode``,
    ``png_compression``, ``image_limit_mib``, ``no_clobber``, ``check``,
    ``dry_run``; ``True`` gives a flag, ``None`` or ``False`` leaves it out.
    The output is written to a temporary file beside it and renamed into
    place. Returns the record ``--report json`` prints for the input.
    """
    return _run([*_flags(options), "--", os.fspath(src), os.fspath(dst)])[0]


def crop_files(
    srcs: Iterable[PathLike],
    out_dir: PathLike,
    *,
    jobs: int | None = None,
    **options: Any,
) -> list[dict[str, Any]]:
    """Crop many files into ``out_dir``, as ``rcrop --out-dir OUT_DIR ...`` does.

    The options are :func:`crop_file`'s, plus ``recursive`` (folders as
    inputs) and ``keep_going``; ``jobs`` is the number of worker threads
    (``None``: one per core). Returns the records ``--report json`` prints,
    one an input, in input order. The first input to fail raises its error,
    unless ``keep_going``, when its record says ``"status": "failed"``.
    """
    flags = [*_flags(options), f"--out-dir={os.fspath(out_dir)}"]
    if jobs is not None:
        flags.append(f"--jobs={operator.index(jobs)}")
    return _run([*flags, "--", *(os.fspath(src) for src in srcs)])


def crop_bytes(data: bytes, *, to: str | None = None, **options: Any) -> bytes:
    """Crop a file held as bytes; returns the output file's bytes.

    For engines that hold files as bytes (Ray's ``read_binary_files``, Dask
    bags, Spark's ``binaryFile``). ``to`` is the output's kind (``"npy"``,
    ``"png"``, ``"jpeg"`` ...); ``None`` keeps the input's. The input's kind
    is told by its content. The options are :func:`crop_file`'s.
    """
    with tempfile.TemporaryDirectory(prefix="rcrop-") as folder:
        dst = os.path.join(folder, "output")
        with _as_file(data) as src:
            _run([*_flags({**options, "to": to}), "--", src, dst])
        return Path(dst).read_bytes()


def _run(args: list[str]) -> list[dict[str, Any]]:
    """The records of the command line's jobs run on ``args``."""
    return [json.loads(record) for record in _rcrop.run(args)]


def _flags(options: Mapping[str, Any]) -> list[str]:
    """The command line's flags for keyword ``options``."""
    flags = []
    for name, value in options.items():
        if name in _OWN:
            raise TypeError(f"unexpected keyword argument {name!r}")
        flag = "--" + _RENAMED.get(name, name).replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            flags.append(flag)
        elif name == "cropping":
            flags.append(f"{flag}={_spec(value)}")
        elif name == "center_crop":
            flags.append(f"{flag}={_size(value)}")
        elif isinstance(value, (list, tuple)):
            flags.extend(f"{flag}={item}" for item in value)
        else:
            flags.append(f"{flag}={os.fspath(value) if isinstance(value, os.PathLike) else value}")
    return flags


def _layer_flags(cropping: Any, layer: str | None, data_format: str | None) -> list[str]:
    """The flags of a layer, as :func:`crop` takes it."""
    if layer == "CenterCrop":
        flags = [f"--center-crop={_size(cropping)}"]
    else:
        flags = [f"--crop={_spec(cropping)}"]
        if layer is not None:
            flags.append(f"--layer={layer}")
    if data_format is not None:
        flags.append(f"--format={data_format}")
    return flags


def _spec(cropping: Any) -> str:
    """A ``cropping=`` value as the Python literal the command line reads."""
    if isinstance(cropping, str):
        return cropping
    return repr(_plain(cropping))


def _plain(value: Any) -> Any:
    """Ints (NumPy's too) as ints, sequences of them as tuples."""
    if isinstance(value, (list, tuple, numpy.ndarray)):
        return tuple(_plain(item) for item in value)
    return operator.index(value)


def _size(size: Any) -> str:
    """A ``(height, width)`` as the command line's ``H,W``."""
    height, width = _plain(size)
    return f"{height},{width}"


@contextmanager
def _as_file(src: PathLike | bytes) -> Iterator[str]:
    """A path to ``src``: itself, or its bytes in a temporary file, whose
    name errors then give as ``<bytes>``."""
    if not isinstance(src, (bytes, bytearray, memoryview)):
        yield os.fspath(src)
        return
    with tempfile.TemporaryDirectory(prefix="rcrop-") as folder:
        path = os.path.join(folder, "input")
        Path(path).write_bytes(src)
        try:
            yield path
        except (ValueError, OSError) as error:
            message = str(error).replace(path, "<bytes>")
            raise type(error)(message) from None
