"""Reading the TOML files people hand vj (presets, MIDI maps): one line that names the file when it
cannot be read or parsed, never a traceback. Data only: TOML cannot execute anything."""

from __future__ import annotations

import tomllib
from pathlib import Path

from vj.errors import VJError


MAX_BYTES = 1 << 20
"""A preset or map is a few KB; a bigger file is not one, and is refused before it is read."""


def read_toml(path: Path, what: str) -> dict:
    """The document at ``path``; ``what`` names it in errors ("the preset", "the MIDI map")."""
    try:
        if (size := path.stat().st_size) > MAX_BYTES:
            raise VJError(f"{path}: {size >> 10} KiB is too large for {what} (at most {MAX_BYTES >> 10} KiB)")
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise VJError(f"{path}: cannot read {what} ({error.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise VJError(f"{path}: not valid TOML ({error})") from None
