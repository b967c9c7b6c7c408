"""Files that are whole or absent: what vj writes for the performer (presets, weights, MIDI maps) goes to a
temporary file beside the target and replaces it only when complete, so a crash never leaves half a file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def replacing(path: Path, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file to write (text in UTF-8, or binary with mode "wb"); on a clean exit it
    becomes ``path``; on an error it is removed and ``path`` is untouched."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, mode, encoding=None if "b" in mode else "utf-8") as file:
            yield file
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
