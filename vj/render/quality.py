"""`--quality draft|normal|high`: how much an offline render spends on each frame.

Each quality sets the net's resolution relative to the output (the look upscales it), the net,
whether nets may run their last layers in bf16 (`vj.engine.forward`), the look's resolution and the
encoder's effort. On the CPU the look runs in a software renderer, where every output pixel it shades
costs (about 100 ms a frame at 720p on two cores): there ``draft`` and ``normal`` shade at the net's
resolution (half the output) and the encoder's scaler upsamples, the picture the net drew being no
sharper than that. ``normal`` is the default and keeps
the preset's net; ``draft`` is a fast preview with a small net of the same seed (another picture of the
same family); ``high`` draws every output pixel with the net in the reference precision. ``--scale`` and
``--net`` override a quality's choice.
"""

from __future__ import annotations

from dataclasses import dataclass

from vj.errors import VJError
from vj.render.settings import internal_size

QUALITY_NAMES = ("draft", "normal", "high")


@dataclass(frozen=True)
class Quality:
    name: str
    scale: float
    """The net's resolution relative to the output."""
    net: str | None
    """WIDTHxLAYERS, or None for the preset's own net."""
    mixed: bool
    look_scale: float
    """The look's resolution relative to the output."""
    encoder_preset: str
    """x264's speed preset."""
    engine_workers: int | None
    """Chunks the net runs at once on the CPU; None: one per core. A small net is done before a second
    thread pays, and the look and encoder need the cores."""

    def internal(self, width: int, height: int) -> tuple[int, int]:
        return internal_size(width, height, self.scale)

    def look_size(self, width: int, height: int) -> tuple[int, int]:
        """Even, as the encoder's scaler wants it."""
        w, h = internal_size(width, height, self.look_scale)
        return w + w % 2, h + h % 2


_SCALES = {  # (CPU, CUDA)
    "draft": (0.25, 0.5),
    "normal": (0.5, 1.0),
    "high": (1.0, 1.0),
}
_NETS = {"draft": "32x4", "normal": None, "high": None}
_LOOK_SCALES = {"draft": (0.5, 1.0), "normal": (0.5, 1.0), "high": (1.0, 1.0)}
_ENCODER_PRESETS = {"draft": "superfast", "normal": "veryfast", "high": "veryfast"}


def quality_for(name: str, device_type: str, scale: float | None = None, net: str | None = None) -> Quality:
    """The quality ``name`` on a device ('cpu' or 'cuda'), with explicit --scale and --net winning."""
    if name not in QUALITY_NAMES:
        raise VJError(f"--quality {name!r}: choose draft, normal or high")
    cuda = device_type == "cuda"
    net_scale = _SCALES[name][cuda] if scale is None else scale
    return Quality(name, net_scale, net if net is not None else _NETS[name], mixed=name != "high",
                   look_scale=min(1.0, max(net_scale, _LOOK_SCALES[name][cuda])), encoder_preset=_ENCODER_PRESETS[name],
                   engine_workers=1 if name == "draft" else None)
