"""The controls a show applied, as performance-log events (`vj.record.showlog`), and back again.

Live, the registry, the tap clock and the MIDI clock each call a `Journal` as they change, and every
frame's line carries the events that came in before it. A replay hands each event back to the same
objects with `apply_event`, before the same frame, in the same order: so the replay's parameters,
triggers and beat clock are the live show's, to the bit.

Parameters written by a preset (its values when it arrives) are not journaled: the replay's pipeline
writes them again itself, at the same frame.
"""

from __future__ import annotations

from vj.control.clock import MidiClock
from vj.control.params import Params
from vj.control.standard import PRESET_WRITER
from vj.control.tap import TapTempo


class Journal:
    """Collects events between two frames, with times in samples (``stamp``: the frame's control poll,
    for what has no time of its own)."""

    def __init__(self, sample_rate: int):
        self.sample_rate = sample_rate
        self.stamp = 0
        self._events: list[list] = []

    def watch(self, params: Params, tap: TapTempo, clock: MidiClock | None) -> None:
        params.on_set = self.param
        tap.journal = self.record
        if clock is not None:
            clock.journal = self.record

    def param(self, name: str, value: float, writer: str, glide_s: float) -> None:
        if writer != PRESET_WRITER:
            self._events.append(["set", name, float(value), writer, float(glide_s), self.stamp])

    def record(self, kind: str, *args) -> None:
        """``kind`` with its arguments; a last argument in seconds becomes the event's sample position."""
        *values, t = args if args else (None,)
        position = self.stamp if t is None else round(t * self.sample_rate)
        self._events.append([kind, *values, position])

    def take(self) -> list[list]:
        events, self._events = self._events, []
        return events


def apply_event(event: list, params: Params | None, tap: TapTempo | None, clock: MidiClock | None,
                sample_rate: int) -> None:
    """Do again what a logged event did (see `vj.record.showlog` for the kinds). None for what the caller
    does not keep: a replay's analysis keeps the beat clocks, its drawing the parameters."""
    kind, t = event[0], event[-1] / sample_rate
    if kind == "set":
        if params is not None:
            params.set(event[1], event[2], event[3], glide_s=event[4])
    elif tap is None:
        return
    elif kind == "tap":
        tap.tap(t)
    elif kind == "tempo":
        tap.set_bpm(event[1], t)
    elif kind == "untap":
        tap.clear()
    elif kind == "clock" and clock is not None:
        clock.message(tuple(event[1]), t)
