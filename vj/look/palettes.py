"""Palettes: how the net's first channel becomes colour. Cosine palettes (Inigo Quilez) and gradient maps
are both baked into one 256-entry lookup table, so the shader does one texture fetch whichever it is, and
a preset morph blends two palettes by blending their tables."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from vj.errors import VJError

LUT_SIZE = 256
Colour = tuple[float, float, float]


@dataclass(frozen=True)
class Palette:
    """Either a cosine palette a + b*cos(2*pi*(c*t + d)) or a gradient through evenly spaced colours."""

    cosine: tuple[Colour, Colour, Colour, Colour] | None = None
    gradient: tuple[Colour, ...] | None = None

    def __post_init__(self):
        if (self.cosine is None) == (self.gradient is None):
            raise ValueError("a palette is a cosine palette or a gradient, not both")

    @functools.lru_cache(maxsize=64)  # noqa: B019 - palettes are few and immutable; a morph asks every frame
    def lut(self) -> np.ndarray:
        """(LUT_SIZE, 3) float32 colours in 0..1 for t in 0..1 (shared: do not write into it)."""
        t = np.linspace(0.0, 1.0, LUT_SIZE, dtype=np.float64)[:, None]
        if self.cosine is not None:
            a, b, c, d = (np.array(v, np.float64) for v in self.cosine)
            colours = a + b * np.cos(2.0 * np.pi * (c * t + d))
        else:
            stops = np.array(self.gradient, np.float64)
            where = np.linspace(0.0, 1.0, len(stops))
            colours = np.stack([np.interp(t[:, 0], where, stops[:, k]) for k in range(3)], axis=1)
        return np.clip(colours, 0.0, 1.0).astype(np.float32)


def parse_colour(value: object) -> Colour:
    """'#rrggbb' or [r, g, b] in 0..1."""
    if isinstance(value, str) and len(value) == 7 and value.startswith("#"):
        try:
            return tuple(int(value[i : i + 2], 16) / 255.0 for i in (1, 3, 5))
        except ValueError:
            pass
    elif (isinstance(value, list) and len(value) == 3
          and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        return tuple(float(v) for v in value)
    raise VJError(f"{value!r} is not a colour; write '#rrggbb' or [r, g, b] with values 0..1")


_cos = lambda a, b, c, d: Palette(cosine=(a, b, c, d))  # noqa: E731
_grad = lambda *hexes: Palette(gradient=tuple(parse_colour(h) for h in hexes))  # noqa: E731
_GREY = (0.5, 0.5, 0.5)

PALETTES: dict[str, Palette] = {
    # The `palette` parameter picks one by number (1 is the first); 0 is the preset's own.
    "rainbow": _cos(_GREY, _GREY, (1.0, 1.0, 1.0), (0.0, 0.33, 0.67)),
    "ember": _cos(_GREY, _GREY, (1.0, 1.0, 1.0), (0.0, 0.10, 0.20)),
    "dusk": _cos(_GREY, _GREY, (1.0, 1.0, 1.0), (0.3, 0.20, 0.20)),
    "lagoon": _cos(_GREY, _GREY, (1.0, 1.0, 0.5), (0.8, 0.90, 0.30)),
    "citrus": _cos(_GREY, _GREY, (1.0, 0.7, 0.4), (0.0, 0.15, 0.20)),
    "acid": _cos(_GREY, _GREY, (2.0, 1.0, 0.0), (0.5, 0.20, 0.25)),
    "rust": _cos((0.8, 0.5, 0.4), (0.2, 0.4, 0.2), (2.0, 1.0, 1.0), (0.0, 0.25, 0.25)),
    "ice": _cos((0.55, 0.65, 0.75), (0.35, 0.35, 0.30), (1.0, 1.0, 1.0), (0.55, 0.60, 0.65)),
    "ink": _grad("#000000", "#1a1a1a", "#f2efe6", "#000000", "#ffffff"),
    "fire": _grad("#000000", "#5c0a00", "#d93a00", "#ffb000", "#fff6d0"),
    "neon": _grad("#05010f", "#ff00a0", "#05010f", "#00e5ff", "#05010f"),
    "forest": _grad("#0b1a0e", "#1f5e2c", "#9bc53d", "#e8d8a0", "#2c3e1f"),
    "vapor": _grad("#241e4e", "#ff71ce", "#01cdfe", "#05ffa1", "#b967ff", "#241e4e"),
    "gold": _grad("#0a0600", "#4a2c00", "#c08a1e", "#ffe7a0", "#4a2c00"),
}


def palette_named(name: str) -> Palette:
    try:
        return PALETTES[name]
    except KeyError:
        raise VJError(f"no palette named {name!r}; the palettes are {', '.join(PALETTES)}") from None
