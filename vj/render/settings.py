"""What an offline render is asked to make: size, rate, range and where the files go."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from vj.errors import VJError
from vj.look.strobe import DEFAULT_MAX_PER_S, check_strobe_limit
from vj.output.rig import OutputSpec

RESOLUTIONS = {
    "360p": (640, 360), "480p": (854, 480), "720p": (1280, 720),
    "1080p": (1920, 1080), "1440p": (2560, 1440), "4k": (3840, 2160),
}


def parse_resolution(text: str) -> tuple[int, int]:
    """'720p', '4k' or 'WIDTHxHEIGHT' (both even, as H.264 in yuv420p needs)."""
    key = text.strip().lower()
    if key in RESOLUTIONS:
        return RESOLUTIONS[key]
    match = re.fullmatch(r"(\d+)x(\d+)", key)
    if not match:
        raise VJError(f"--res {text!r}: use {', '.join(RESOLUTIONS)} or WIDTHxHEIGHT, e.g. 1280x720")
    width, height = int(match[1]), int(match[2])
    if not (16 <= width <= 8192 and 16 <= height <= 8192):
        raise VJError(f"--res {text}: width and height must be 16..8192")
    if width % 2 or height % 2:
        raise VJError(f"--res {text}: width and height must be even for H.264 video; try {width + width % 2}x{height + height % 2}")
    return width, height


def internal_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """The CPPN's resolution for an output size: ``scale`` times it, at least 2x2."""
    return max(2, round(width * scale)), max(2, round(height * scale))


@dataclass(frozen=True)
class RenderSettings:
    """One `vj render` run."""

    audio: Path
    output: Path
    width: int = 1280
    height: int = 720
    fps: Fraction = Fraction(30)
    scale: float | None = None
    """CPPN resolution relative to the output; None: the quality's (`vj.render.quality`)."""
    quality: str = "normal"
    device: str = "auto"
    preset: str = "default"
    seed: int | None = None
    evolution: float | None = None
    net: str | None = None
    frames_dir: Path | None = None
    start_s: float = 0.0
    duration_s: float | None = None
    force: bool = False
    params: tuple[tuple[str, float], ...] = ()
    """Live parameters to hold at a value for the whole render (``--set zoom=1.5``)."""
    strobe_limit: float = DEFAULT_MAX_PER_S
    """``--strobe-limit``: most strobe flashes a second; 0 lifts the limit."""
    streams: tuple[OutputSpec, ...] = ()
    """``--output ndi`` (...): also stream the frames there as they are made, in real time."""

    def check(self) -> None:
        """Reject what cannot work before any slow step starts."""
        if self.output.suffix.lower() != ".mp4":
            raise VJError(f"-o {self.output}: the output must be an .mp4 file")
        if self.output.is_dir():
            raise VJError(f"-o {self.output}: is a directory; give a file name ending in .mp4")
        if self.output.exists() and not self.force:
            raise VJError(f"{self.output} exists; pass --force to overwrite it")
        if self.scale is not None and not 0.05 <= self.scale <= 2.0:
            raise VJError(f"--scale {self.scale}: use a factor from 0.05 to 2 (0.5 renders the net at half size)")
        if self.start_s < 0:
            raise VJError(f"--start {self.start_s}: must be 0 or more seconds")
        if self.duration_s is not None and self.duration_s <= 0:
            raise VJError(f"--duration {self.duration_s}: must be more than 0 seconds")
        check_strobe_limit(self.strobe_limit)
        if self.evolution is not None and self.evolution < 0:
            raise VJError(f"--evolution {self.evolution}: must be 0 (still) or more")
