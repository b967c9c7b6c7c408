"""Where the shipped shaders, presets and demo track live, installed or in a source checkout."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The folder `name` (shaders, presets, assets): inside the wheel, else at the checkout's root."""
    packaged = _PACKAGE / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / name
