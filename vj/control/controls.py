"""Everything that steers a show, polled once a frame on the render thread: MIDI through its map, OSC,
tap tempo and MIDI clock. All of them write the one parameter registry (or the beat clock); the engine
and the look read only the registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vj.control.clock import BeatSources, MidiClock
from vj.control.mapping import MidiMap, apply_smoothing, save_path
from vj.control.midi import MidiInput
from vj.control.osc import OscServer
from vj.control.params import Params
from vj.control.router import MidiRouter
from vj.control.tap import TapTempo


CHANGE_SHOWN_S = 1.5
"""How long the HUD shows the parameter a control just moved."""


@dataclass(frozen=True)
class ControlSettings:
    """``--midi``, ``--no-midi``, ``--osc``, ``--osc-host`` and ``--clock`` of `vj live`."""

    midi: str | None = None
    """A case-insensitive part of the port names to open; None opens every input port."""
    midi_enabled: bool = True
    osc_port: int | None = None
    osc_host: str = "127.0.0.1"
    clock: str = "audio"
    """'audio' (the tracker) or 'midi' (MIDI clock while it runs)."""


class Controls:
    """The show's control inputs around ``params``; `poll` each frame, `close` at the end.

    Args:
        params: the registry every input writes.
        midi_map: the MIDI map (its smoothing is applied to ``params`` here).
        settings: which inputs to open.
        preset_names: the presets `/vj/preset NAME` can name, in the order of the ``preset`` parameter.
    """

    def __init__(self, params: Params, midi_map: MidiMap, settings: ControlSettings, preset_names: list[str]):
        self.params, self.settings, self.preset_names = params, settings, preset_names
        apply_smoothing(midi_map, params)
        self.tap = TapTempo()
        self.midi_clock = MidiClock() if settings.clock == "midi" else None
        self.beats = BeatSources(self.tap, self.midi_clock)
        self.router = MidiRouter(midi_map, params, self.midi_clock)
        self.midi = MidiInput(settings.midi) if settings.midi_enabled else None
        self.osc = OscServer(settings.osc_host, settings.osc_port) if settings.osc_port is not None else None
        self.notice = ""
        """The newest thing learn did, for the HUD."""
        self.save_failed = ""
        self._change_seen: tuple | None = None
        self._changed_at = 0.0

    def open(self) -> None:
        if self.midi is not None:
            self.midi.open()
        if self.osc is not None:
            self.osc.start()

    def close(self) -> None:
        if self.midi is not None:
            self.midi.close()
        if self.osc is not None:
            self.osc.close()

    def poll(self, now: float, audio_time: Callable[[float], float]) -> list[float]:
        """Apply everything that arrived since the last frame, each message at the audio time it arrived
        (``audio_time`` maps the monotonic clock to it). Returns the arrival times of the messages that
        changed something, so the caller can measure control-to-picture latency."""
        arrivals = []
        if self.midi is not None:
            for arrival, _port, data in self.midi.poll(now):
                if self.router.handle(data, audio_time(arrival)):
                    arrivals.append(arrival)
        self.router.tick(audio_time(now))
        if self.router.learned is not None:
            self._save_learned()
        if self.osc is not None:
            arrivals += self.osc.apply(self.params, self.tap, audio_time, self.preset_names)
        self.beats.at(audio_time(now))
        return arrivals

    def _save_learned(self) -> None:
        """Keep what learn bound (see `save_path`). A failed save is a HUD warning; the binding works anyway."""
        binding, midi_map = self.router.learned, self.router.map
        self.router.learned = None
        path = save_path(midi_map)
        self.notice = f"learned {binding.describe()} -> {binding.param}"
        try:
            midi_map.save(path)
        except OSError as error:
            self.save_failed = f"MIDI map NOT SAVED to {path.name} ({error.strerror})"
            return
        self.save_failed = ""
        self.notice += f", saved to {path.name}"

    def status(self, now: float) -> tuple[list[str], list[str]]:
        """(HUD lines, HUD warnings) about the controls at monotonic time ``now``."""
        lines, warnings = [], []
        change = self.params.last_change
        if change is not self._change_seen:
            self._change_seen, self._changed_at = change, now
        if change is not None and now - self._changed_at < CHANGE_SHOWN_S:
            name, value, writer = change
            lines.append(f"{name} {value:.3g}  ({writer})")
        if self.router.learn.param is not None:
            warnings.append(f"MIDI LEARN {self.router.learn.param}: move a control")
            warnings.append("  up/down: other parameter, l: cancel")
        if self.notice:
            lines.append(self.notice)
        if self.save_failed:
            warnings.append(self.save_failed)
        midi = self.midi
        if midi is not None:
            if midi.ports:
                names = ", ".join(p.split(":")[-1] for p in midi.ports)
                lines.append(f"MIDI: {names}")
            if midi.problem:
                warnings.append(f"MIDI: {midi.problem}")
            warnings += [f"MIDI LOST: {port}" for port in midi.lost]
        if self.osc is not None:
            lines.append(f"OSC :{self.osc.port}  {self.osc.received} in, {self.osc.malformed} bad")
        for pickup in self.router.pickups.values():
            arrow = "up" if pickup.target > pickup.knob else "down"
            lines.append(f"pickup {pickup.param}: turn {arrow} to {pickup.target:.0%}")
        return lines, warnings

    def summary(self) -> dict:
        """The controls' figures for the stats file."""
        midi = self.midi
        return {
            "midi": None if midi is None else {"ports": midi.ports, "lost": midi.lost, "received": midi.received,
                                               "events": midi.events, "problem": midi.problem},
            "midi_map": {"name": self.router.map.name, "path": str(self.router.map.path),
                         "bindings": len(self.router.map.bindings)},
            "osc": None if self.osc is None else self.osc.summary(),
            "clock": {"setting": self.settings.clock, "source": self.beats.source, "bpm": round(self.beats.bpm, 3),
                      "midi_clock_bpm": round(self.midi_clock.bpm, 3) if self.midi_clock else None},
        }
