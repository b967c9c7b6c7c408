"""The strobe: a white flash on the beat, with a photosensitivity limit.

Three flashes a second is the general flash threshold of WCAG 2.3.1 (and of Ofcom's broadcast rule):
flashing faster than that can trigger seizures in people with photosensitive epilepsy. The gate allows
at most ``max_per_s`` flash onsets in any second, whatever the tempo or the performer asks; above 180
BPM it skips beats. 0 lifts the limit (`--strobe-limit 0`, for a
venue that has its own).

The gate runs on picture time, so a replay or an offline render flashes on the same frames.
"""

from __future__ import annotations

import math

from vj.errors import VJError

DEFAULT_MAX_PER_S = 3.0
DECAY_S = 0.045
"""A flash fades with this time constant: one or two frames, a flash and not a hold."""


def check_strobe_limit(per_s: float) -> None:
    if not 0.0 <= per_s <= 30.0:
        raise VJError(f"--strobe-limit {per_s:g}: use 0 (no limit) to 30 flashes a second; 3 is the safe default")


class StrobeGate:
    def __init__(self, max_per_s: float = DEFAULT_MAX_PER_S):
        self.max_per_s = max_per_s
        self.flashes = 0
        self._phase: float | None = None
        self._last: float | None = None

    def flash(self, t: float, beat_phase: float, amount: float) -> float:
        """The flash strength (0..1) for the frame at picture time ``t``: a new flash starts where the beat
        phase wraps (a beat) and the limit allows one."""
        beat = self._phase is not None and beat_phase < self._phase - 0.5
        self._phase = beat_phase
        spacing = 1.0 / self.max_per_s if self.max_per_s > 0 else 0.0
        if beat and amount > 0.0 and (self._last is None or t - self._last >= spacing - 1e-9):
            self._last = t
            self.flashes += 1
        if self._last is None or amount <= 0.0:
            return 0.0
        age = t - self._last
        return amount * math.exp(-age / DECAY_S) if 0.0 <= age < 6 * DECAY_S else 0.0
