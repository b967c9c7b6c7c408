"""Pinned weights on disk: a plain .npz of float arrays w0, b0, w1, b1, ... (first layer to output).

A weight file may come from a stranger, so it is read as data only: never unpickled, its array headers
checked against the net's shape before any array is read (a header may declare a terabyte), and every
value checked finite.
"""

from __future__ import annotations

import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np

from vj.atomic import replacing
from vj.engine.net import Layers, NetSpec
from vj.errors import VJError

MAX_FILE_BYTES = 256 << 20
"""Far above the largest net a preset could want (4096x64 in float32 is 4 GiB; 512x16 is 16 MiB)."""
FLOAT_KINDS = "f"


def _header(archive: zipfile.ZipFile, member: str) -> tuple[tuple[int, ...], np.dtype]:
    with archive.open(member) as file:
        version = np.lib.format.read_magic(file)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(file)
    return shape, dtype


def load_weights(path: Path, spec: NetSpec) -> Layers:
    """The layers in ``path`` for a net of shape ``spec``; a VJError that says what is wrong otherwise."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise VJError(f"{path}: cannot read the weights ({error.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise VJError(f"{path}: {size >> 20} MiB is too large for a weight file (the limit is {MAX_FILE_BYTES >> 20} MiB)")
    shapes = spec.layer_shapes()
    expected = {}
    for index, (rows, cols) in enumerate(shapes):
        expected[f"w{index}.npy"], expected[f"b{index}.npy"] = (rows, cols), (rows,)
    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            if members != set(expected):
                raise VJError(f"{path}: holds {sorted(m.removesuffix('.npy') for m in members)[:8]}; a {spec} net "
                              f"needs exactly w0, b0 .. w{len(shapes) - 1}, b{len(shapes) - 1}")
            for info in archive.infolist():  # a lying size makes zipfile allocate it (found by fuzzing)
                if info.compress_size > size or info.file_size > MAX_FILE_BYTES:
                    raise VJError(f"{path}: {info.filename} claims {info.file_size} bytes in a {size}-byte file; "
                                  "not a weight file vj can read")
            for member, shape in expected.items():
                found, dtype = _header(archive, member)
                if dtype.kind not in FLOAT_KINDS or dtype.hasobject:
                    raise VJError(f"{path}: {member[:-4]} is {dtype}, not a float array")
                if tuple(found) != shape:
                    raise VJError(f"{path}: {member[:-4]} has shape {tuple(found)}; a {spec} net needs {shape}")
        with np.load(path, allow_pickle=False) as arrays:
            layers = [(arrays[f"w{i}"].astype(np.float32), arrays[f"b{i}"].astype(np.float32)) for i in range(len(shapes))]
    except VJError:
        raise
    # Found by fuzzing: NotImplementedError, RuntimeError, zlib.error (a zip feature or stream numpy cannot
    # read); TokenError, SyntaxError (an array header numpy's tokenizer chokes on)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, NotImplementedError, RuntimeError,
            zlib.error, tokenize.TokenError, SyntaxError) as error:
        raise VJError(f"{path}: not a weight file vj can read (a .npz of float arrays): {error}") from None
    for index, (w, b) in enumerate(layers):
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise VJError(f"{path}: layer {index} holds NaN or infinite weights")
    return layers


def save_weights(path: Path, layers: Layers) -> None:
    """Write ``layers`` to ``path`` atomically (a crash never leaves half a file)."""
    arrays = {}
    for index, (w, b) in enumerate(layers):
        arrays[f"w{index}"], arrays[f"b{index}"] = np.asarray(w, np.float32), np.asarray(b, np.float32)
    with replacing(path, "wb") as file:
        np.savez(file, **arrays)
