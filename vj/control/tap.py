"""Tap tempo: a manual beat clock from key taps, for music the tracker cannot follow (or a VJ who wants
the flash on their own count)."""

from __future__ import annotations

import numpy as np

from vj.audio.analyzer import beat_pulse

RESTART_S = 2.0
"""A pause this long starts a new count."""
MIN_TAPS = 3


class TapTempo:
    """Taps in seconds of audio time; once three or more land, a clock (BPM and phase) runs from them."""

    def __init__(self):
        self._taps: list[float] = []
        self.period = 0.0
        self.anchor = 0.0
        self.journal = None
        """Told of every tap, tempo and clear, as ``journal(kind, *args, t)`` (a recording's log)."""

    def _note(self, kind: str, *args) -> None:
        if self.journal is not None:
            self.journal(kind, *args)

    @property
    def bpm(self) -> float:
        return 60.0 / self.period if self.period else 0.0

    def tap(self, t: float) -> None:
        self._note("tap", t)
        if self._taps and not 0.0 < t - self._taps[-1] < RESTART_S:
            self._taps.clear()
        self._taps.append(t)
        if len(self._taps) >= MIN_TAPS:
            self.period = float(np.median(np.diff(self._taps[-8:])))
            self.anchor = t

    def set_bpm(self, bpm: float, t: float) -> None:
        """Set the tempo outright (`/vj/tempo`): the phase stays where taps put it, or starts at ``t``
        when there is none yet. Pending taps are dropped so the next count starts fresh."""
        self._note("tempo", bpm, t)
        if not self.period:
            self.anchor = t
        self.period = 60.0 / bpm
        self._taps.clear()

    def clear(self) -> None:
        self._note("untap")
        self._taps.clear()
        self.period = 0.0

    def beat_at(self, t: float) -> tuple[float, float]:
        """(pulse, phase) of the tapped clock at ``t``; (0, 0) before any tempo is tapped."""
        if not self.period or t < self.anchor:
            return 0.0, 0.0
        since = (t - self.anchor) % self.period
        return beat_pulse(since, self.period), since / self.period
