"""Finished parts of a render cut into parts, kept beside its output until the join, so running the same
command again after a crash or Ctrl-C renders only what is missing.

A part is named by a digest of everything its pictures are a function of: vj's own code and shaders,
the plan (preset, weights, sizes, quality, device), the part's frames and pre-roll, the live parameters
it starts from and its features. Change any of them and the name changes: a stale part is never joined.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import shutil
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np

import vj
from vj.atomic import replacing
from vj.resources import resource_dir


class PartCache:
    """``OUTPUT.parts/``: one ``DIGEST.mp4`` per finished part; PNGs (``--frames``) go to their folder."""

    def __init__(self, output: Path):
        self.folder = output.with_name(output.name + ".parts")

    def key(self, *identity: object) -> str:
        """The name of a part that is a function of ``identity`` (its job's `identity`) alone."""
        digest = hashlib.sha256(code_digest().encode())
        _feed(digest, identity)
        return digest.hexdigest()[:32]

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.mp4"

    def has(self, key: str, pngs: Iterable[Path]) -> bool:
        """Whether the part ``key`` is finished, with its PNG frames (when asked for) still in place."""
        return self.path(key).is_file() and all(png.is_file() for png in pngs)

    def store(self, key: str, video: bytes) -> Path:
        """Keep a finished part (written whole or not at all)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with replacing(self.path(key), "wb") as file:
            file.write(video)
        return self.path(key)

    def finished(self) -> int:
        return len(list(self.folder.glob("*.mp4"))) if self.folder.is_dir() else 0

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def file_digest(paths: list[Path]) -> str:
    """The files' contents, read in blocks."""
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as file:
            while block := file.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


@functools.cache
def code_digest() -> str:
    """vj's version, Python code and shaders: what draws a part besides its inputs."""
    digest = hashlib.sha256(vj.__version__.encode())
    package = Path(vj.__file__).parent
    for path in sorted([*package.rglob("*.py"), *resource_dir("shaders").rglob("*")]):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _feed(digest: "hashlib._Hash", value: object) -> None:
    """Feed ``value`` to ``digest`` by its content: dataclasses, objects, containers, arrays, scalars."""
    if isinstance(value, np.ndarray):
        digest.update(f"array{value.dtype}{value.shape}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(type(value).__name__.encode())
        for field in dataclasses.fields(value):
            digest.update(field.name.encode())
            _feed(digest, getattr(value, field.name))
    elif isinstance(value, dict):
        digest.update(b"{")
        for key in sorted(value, key=repr):
            _feed(digest, key)
            _feed(digest, value[key])
        digest.update(b"}")
    elif isinstance(value, (list, tuple)):
        digest.update(f"[{len(value)}".encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, (set, frozenset)):
        _feed(digest, sorted(value, key=repr))
    elif value is None or isinstance(value, (bool, int, float, str, Fraction, Path, np.generic)):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
    else:  # an object of vj's own (the live parameters): its attributes
        digest.update(type(value).__name__.encode())
        _feed(digest, {name: item for name, item in vars(value).items() if not callable(item)})
