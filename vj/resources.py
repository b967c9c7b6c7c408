"""Where the shipped shaders, presets, MIDI maps and demo track live, installed or in a source checkout."""

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The folder `name` (shaders, presets, assets): inside the wheel, else at the checkout's root."""
    packaged = _PACKAGE / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / name


def shipped_names(folder: str) -> list[str]:
    """The shipped .toml files in ``folder`` (presets, maps), by name."""
    return sorted(p.stem for p in resource_dir(folder).glob("*.toml"))


def find_toml(name: str, folder: str) -> Path | None:
    """What a command line's NAME means: a .toml file (or any path that exists) as given, else the shipped
    ``folder/NAME.toml``; None when it is neither."""
    path = Path(name)
    if path.suffix == ".toml" or path.exists():
        return path
    shipped = resource_dir(folder) / f"{name}.toml"
    return shipped if shipped.is_file() else None


def config_dir() -> Path:
    """Where vj keeps the performer's own files (learned MIDI map, saved presets): $XDG_CONFIG_HOME/vj."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "vj"
