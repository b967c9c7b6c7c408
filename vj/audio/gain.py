"""Slow adaptive gain, so a quiet room microphone and a hot line input move the picture alike."""

from __future__ import annotations

import math


class AdaptiveGain:
    """Divides a level by a peak follower with instant attack and slow release.

    The release is a time constant in seconds and each update takes the elapsed ``dt``, so the same
    settings behave alike at 24 and 60 fps. ``floor`` keeps silence from being amplified into noise: at
    its default (-50 dBFS) a -60 dB noise floor before the music starts reads about 0.3, not 1.0.
    """

    def __init__(self, release_s: float = 8.0, floor: float = 3e-3):
        self.release_s = release_s
        self.floor = floor
        self.reset()

    def reset(self) -> None:
        self.envelope = self.floor

    def __call__(self, level: float, dt: float) -> float:
        """Normalise ``level`` (>= 0) to about 0..1 and advance the follower by ``dt`` seconds."""
        decay = math.exp(-dt / self.release_s)
        self.envelope = max(level, self.floor, self.envelope * decay)
        return min(level / self.envelope, 1.0)


class Follower:
    """Attack/release envelope: rises fast and falls slowly, so a hit shows at once and fades smoothly.

    Time constants are in seconds and each step takes ``dt``, so the shape is the same at any frame rate.
    """

    def __init__(self, attack_s: float = 0.005, release_s: float = 0.12):
        self.attack_s = attack_s
        self.release_s = release_s
        self.reset()

    def reset(self) -> None:
        self.value = 0.0

    def __call__(self, target: float, dt: float) -> float:
        tau = self.attack_s if target > self.value else self.release_s
        self.value += (target - self.value) * (1.0 - math.exp(-dt / tau))
        return self.value
