"""Time is the audio sample position, never the wall clock.

Every stage agrees on one analysis sample rate and on which samples belong to which video frame, so a
live show, an offline render and a replay cut the same audio into the same frames.

Frame ``n`` is shown from ``n / fps`` to ``(n + 1) / fps``. Its audio interval is the samples
``[frame_start(n), frame_end(n))``; its features are computed from everything up to ``frame_end(n)``,
so a sound that falls anywhere inside the frame's interval is already in that frame (never one late).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from vj.errors import VJError

ANALYSIS_RATE = 48_000
"""Samples per second of every signal inside vj. 48 kHz divides evenly by 24, 25, 30, 50 and 60 fps."""


def parse_fps(value: str | int | float | Fraction) -> Fraction:
    """Frames per second as an exact fraction; '29.97' and '59.94' mean the NTSC rates."""
    ntsc = {"23.976": Fraction(24000, 1001), "29.97": Fraction(30000, 1001), "59.94": Fraction(60000, 1001)}
    text = str(value).strip()
    try:
        fps = ntsc.get(text) or Fraction(text).limit_denominator(1001)
    except (ValueError, ZeroDivisionError):
        raise VJError(f"--fps {value!r} is not a number; use e.g. 24, 30 or 60") from None
    if not 1 <= fps <= 240:
        raise VJError(f"--fps {value} is out of range; use a rate from 1 to 240")
    return fps


@dataclass(frozen=True)
class Timebase:
    """Maps frame indices to audio sample positions at a fixed sample rate and frame rate."""

    fps: Fraction
    sample_rate: int = ANALYSIS_RATE

    def frame_start(self, n: int) -> int:
        """First sample of frame ``n``'s audio interval."""
        return -(-n * self.sample_rate * self.fps.denominator // self.fps.numerator)  # ceil, exact

    def frame_end(self, n: int) -> int:
        """One past the last sample of frame ``n``: the position at which frame ``n`` is complete."""
        return self.frame_start(n + 1)

    def frame_time(self, n: int) -> float:
        """When frame ``n`` is shown, in seconds from the start of the audio."""
        return float(n / self.fps)

    def frame_at(self, sample: int) -> int:
        """The frame whose audio interval holds ``sample``."""
        return (sample * self.fps.numerator) // (self.sample_rate * self.fps.denominator)

    def frame_count(self, n_samples: int) -> int:
        """Frames needed to cover ``n_samples`` of audio (the last one may run past its end)."""
        return math.ceil(n_samples * self.fps / self.sample_rate)

    def seconds(self, samples: int) -> float:
        return samples / self.sample_rate
