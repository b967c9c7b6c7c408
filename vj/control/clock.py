"""External beat clocks: MIDI clock from a DJ's gear, and the choice between tap, MIDI clock and the
audio tracker. All times are seconds of audio time, the picture's clock."""

from __future__ import annotations

from collections import deque

import numpy as np

from vj.audio.analyzer import beat_pulse
from vj.control.tap import TapTempo

TICKS_PER_BEAT = 24
FIT_TICKS = 96
"""The tempo and phase are a straight line fitted through the last four beats of ticks, so the arrival
jitter averages out (JACK hands MIDI over once a period: ticks arrive up to 10.7 ms late at 512
samples, which fitted over two beats still left the tempo 0.3% off), and a tempo change is followed
within four beats."""
MIN_TICKS = 12
STALE_S = 0.5
"""No tick for this long: the clock has stopped (a cable pulled), and the audio tracker takes over."""


class MidiClock:
    """Tempo and beat phase from MIDI clock: 24 ticks a beat, Start, Stop, Continue, Song Position.

    After Start the first tick is the downbeat. Ticks with no Start (a free-running clock) give the right
    tempo with the phase counted from the first tick heard. After Stop the clock gives no beat until
    Continue or Start.
    """

    def __init__(self):
        self._ticks: deque[tuple[int, float]] = deque(maxlen=FIT_TICKS)
        self._count = 0
        self._stopped = False
        self._fit: tuple[float, float] | None = None  # (ticks at t=0, ticks per second)
        self._last = -1e9
        self.journal = None
        """Told of every message it takes, as ``journal("clock", data, t)`` (a recording's log)."""

    def message(self, data: tuple[int, ...], t: float) -> bool:
        """Take one MIDI system real-time or song-position message at audio time ``t``; False if it is not one."""
        status = data[0]
        if status == 0xF8:
            if not self._stopped:
                self._ticks.append((self._count, t))
                self._count += 1
                self._fit = None
            self._last = t
        elif status in (0xFA, 0xFB):  # start from the top; continue from where it stopped
            self._stopped = False
            self._count_from(0 if status == 0xFA else self._count)
        elif status == 0xFC:
            self._stopped = True
        elif status == 0xF2 and len(data) >= 3:  # song position, in 16ths of 6 ticks: a DAW's playhead moved
            self._count_from((data[1] | data[2] << 7) * 6)  # stopped or not: Continue starts it from there
        else:
            return False
        if self.journal is not None:
            self.journal("clock", list(data[:3]), t)
        return True

    def _count_from(self, count: int) -> None:
        """Count ticks on from ``count``; the old ticks no longer fit the line."""
        self._count = count
        self._ticks.clear()
        self._fit = None

    def running(self, now: float) -> bool:
        return not self._stopped and len(self._ticks) >= MIN_TICKS and now - self._last < STALE_S

    def _line(self) -> tuple[float, float]:
        if self._fit is None:
            counts, times = np.array(self._ticks, dtype=np.float64).T
            slope, intercept = np.polyfit(times - times[-1], counts, 1)
            self._fit = (intercept - slope * times[-1], slope)
        return self._fit

    @property
    def bpm(self) -> float:
        if len(self._ticks) < MIN_TICKS or self._stopped:
            return 0.0
        return 60.0 * self._line()[1] / TICKS_PER_BEAT

    def beat_at(self, t: float) -> tuple[float, float]:
        """(pulse, phase) at ``t``, carried on from the fitted line (so ahead of the last tick too)."""
        if len(self._ticks) < MIN_TICKS or self._stopped:
            return 0.0, 0.0
        intercept, slope = self._line()
        beats = round((intercept + slope * t) / TICKS_PER_BEAT, 9)  # a frame exactly on a beat flashes fully
        phase = beats % 1.0
        return beat_pulse(phase * TICKS_PER_BEAT / slope, TICKS_PER_BEAT / slope), phase


class BeatSources:
    """The analyzer's external clock (`vj.audio.analyzer.BeatClock`): the tap (or OSC tempo) while one
    runs; else MIDI clock, with ``--clock midi``, while it runs; else nothing, and the tracker leads."""

    def __init__(self, tap: TapTempo, midi: MidiClock | None = None):
        self.tap, self.midi = tap, midi
        self._now = 0.0

    def at(self, now: float) -> None:
        """The audio time now, so a MIDI clock that went quiet hands over to the tracker."""
        self._now = now

    def _midi_runs(self) -> bool:
        return self.midi is not None and self.midi.running(self._now)

    @property
    def source(self) -> str:
        return "tap" if self.tap.period else "MIDI clock" if self._midi_runs() else "audio"

    @property
    def bpm(self) -> float:
        if self.tap.period:
            return self.tap.bpm
        return self.midi.bpm if self._midi_runs() else 0.0

    def beat_at(self, t: float) -> tuple[float, float]:
        if self.tap.period:
            return self.tap.beat_at(t)
        return self.midi.beat_at(t) if self._midi_runs() else (0.0, 0.0)
