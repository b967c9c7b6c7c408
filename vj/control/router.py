"""MIDI messages to parameters, through a map: scaling and curves, 14-bit pairs, buttons, soft takeover,
MIDI clock, and MIDI learn."""

from __future__ import annotations

from dataclasses import dataclass, replace

from vj.control.clock import MidiClock
from vj.control.mapping import Binding, MidiMap
from vj.control.params import Params, curve_unit, curve_value

PICKUP_WINDOW = 0.03
"""A knob picks its parameter up when it comes this close to it (in knob travel), or passes it."""
LEARN_PAIR_S = 0.15
"""After a control change 0-31, learn waits this long for its LSB partner (32-63): a 14-bit knob."""


@dataclass
class Pickup:
    """A knob that moved but has not reached its parameter yet: the HUD shows where to turn it."""

    param: str
    knob: float
    target: float


class Learn:
    """MIDI learn: arm a parameter; the next moving control (a knob, fader, pad or pitch bend) binds to it."""

    def __init__(self):
        self.param: str | None = None
        self._candidate: tuple[int, int, float] | None = None  # (channel, cc number, when)

    def arm(self, param: str) -> None:
        self.param, self._candidate = param, None

    def cancel(self) -> None:
        self.param = self._candidate = None

    def offer(self, data: tuple[int, ...], t: float) -> Binding | None:
        """Look at one message while armed; returns the binding once a control has clearly moved."""
        kind, channel = data[0] & 0xF0, (data[0] & 0x0F) + 1
        binding = None
        if kind == 0xB0 and len(data) >= 3:
            number = data[1]
            if self._candidate and self._candidate[:2] == (channel, number - 32):
                binding = Binding(self.param, "cc14", number - 32, channel)
            elif number < 32:
                self._candidate = (channel, number, t)
            elif self._candidate is None:
                binding = Binding(self.param, "cc", number, channel)
        elif kind == 0x90 and len(data) >= 3 and data[2] > 0:
            binding = Binding(self.param, "note", data[1], channel)
        elif kind == 0xC0:
            binding = Binding(self.param, "program", 0, channel)
        elif kind == 0xE0:
            binding = Binding(self.param, "pitchbend", 0, channel)
        return self._bound(binding)

    def decide(self, t: float) -> Binding | None:
        """A control change 0-31 whose LSB never came is a plain 7-bit knob."""
        if self._candidate and t - self._candidate[2] >= LEARN_PAIR_S:
            channel, number, _ = self._candidate
            return self._bound(Binding(self.param, "cc", number, channel))
        return None

    def _bound(self, binding: Binding | None) -> Binding | None:
        if binding is not None:
            self.cancel()
        return binding


class MidiRouter:
    """Applies MIDI messages to ``params`` through ``midi_map``; clock messages go to ``clock``.

    Soft takeover: a knob only takes its parameter over once it reaches the parameter's value (or passes
    it), so a knob left somewhere else never makes the picture jump. Once it has, it follows directly until
    something else (another knob, a key, OSC, a preset) sets the parameter.
    """

    def __init__(self, midi_map: MidiMap, params: Params, clock: MidiClock | None = None):
        self.params, self.clock = params, clock
        self.learn = Learn()
        self.learned: Binding | None = None
        """The newest binding learn made (the caller saves the map and tells the performer)."""
        self.pickups: dict[str, Pickup] = {}
        self._knobs: dict[Binding, float] = {}  # each binding's last knob position (for passing through)
        self._msb: dict[tuple[int, int], int] = {}
        self._lsb: dict[tuple[int, int], int] = {}
        self._high: dict[tuple[int, int], bool] = {}  # a control change's last side of the middle (buttons)
        self.use_map(midi_map)

    def use_map(self, midi_map: MidiMap) -> None:
        self.map = midi_map
        self._index: dict[tuple[str, int], list[Binding]] = {}
        for binding in midi_map.bindings:
            self._index.setdefault((binding.kind, binding.number), []).append(binding)

    def handle(self, data: tuple[int, ...], t: float) -> bool:
        """One message at audio time ``t``; True when it set a parameter (or was learned)."""
        if not data:
            return False
        if data[0] >= 0xF0:  # clock and transport: the beat, not a parameter
            if self.clock is not None:
                self.clock.message(data, t)
            return False
        if self.learn.param is not None:
            return self._learned(self.learn.offer(data, t))
        kind, channel = data[0] & 0xF0, (data[0] & 0x0F) + 1
        if kind == 0xB0 and len(data) >= 3:
            return self._control_change(channel, data[1], data[2])
        if kind == 0x90 and len(data) >= 3 and data[2] > 0:
            return self._apply("note", data[1], channel, data[2] / 127.0, pressed=True)
        if kind == 0xC0 and len(data) >= 2:
            return self._apply("program", 0, channel, data[1] / 127.0, pressed=True, program=data[1])
        if kind == 0xE0 and len(data) >= 3:
            return self._apply("pitchbend", 0, channel, (data[1] | data[2] << 7) / 16383.0, pressed=False)
        return False

    def tick(self, t: float) -> bool:
        """Once a frame: finish a learn that was waiting for a 14-bit partner."""
        return self.learn.param is not None and self._learned(self.learn.decide(t))

    def _learned(self, binding: Binding | None) -> bool:
        if binding is None:
            return False
        spec = self.params.specs[binding.param]
        if spec.curve == "step" and binding.kind == "note":  # a pad learned to a choice selects this one
            binding = replace(binding, value=self.params.targets[spec.name])
        self.map.learn(binding)
        self.use_map(self.map)
        self.learned = binding
        return True

    def _control_change(self, channel: int, number: int, value: int) -> bool:
        key = (channel, number)
        was_high = self._high.get(key)
        self._high[key] = high = value >= 64
        changed = self._apply("cc", number, channel, value / 127.0, pressed=high and not was_high)
        if number < 32:  # a new MSB zeroes the LSB (MIDI 1.0), so turning up never overshoots
            self._msb[key] = value
            self._lsb.pop(key, None)
            fine = (value << 7) / 16383.0
            changed |= self._apply("cc14", number, channel, fine, pressed=False)
        elif number < 64:
            msb_key = (channel, number - 32)
            self._lsb[msb_key] = value
            if msb_key in self._msb:
                fine = (self._msb[msb_key] << 7 | value) / 16383.0
                changed |= self._apply("cc14", number - 32, channel, fine, pressed=False)
        return changed

    def _apply(self, kind: str, number: int, channel: int, unit: float, pressed: bool,
               program: int | None = None) -> bool:
        changed = False
        for binding in self._index.get((kind, number), ()):
            if binding.channel is None or binding.channel == channel:
                changed |= self._move(binding, unit, pressed, program)
        return changed

    def _move(self, binding: Binding, unit: float, pressed: bool, program: int | None) -> bool:
        params, name = self.params, binding.param
        spec = params.specs[name]
        writer = f"midi {binding.describe()}"
        button = binding.value is not None or binding.step is not None or spec.curve in ("toggle", "trigger")
        if button:
            if not pressed:
                return False
            if binding.step is not None:
                params.set(name, params.targets[name] + binding.step, writer)
            elif binding.value is not None:
                params.set(name, binding.value, writer)
            elif spec.curve == "toggle":
                params.toggle(name, writer)
            else:
                params.fire(name, writer)
            return True
        if program is not None and spec.curve == "step":
            params.set(name, spec.minimum + program, writer)
            return True
        low = spec.minimum if binding.minimum is None else binding.minimum
        high = spec.maximum if binding.maximum is None else binding.maximum
        curve = binding.curve or spec.curve
        if binding.invert:
            unit = 1.0 - unit
        previous = self._knobs.get(binding)
        self._knobs[binding] = unit
        pickup = self.map.pickup if binding.pickup is None else binding.pickup
        if pickup and curve != "step" and params.writers[name] != writer:
            target = curve_unit(curve, params.targets[name], low, high)
            crossed = previous is not None and (previous - target) * (unit - target) <= 0.0
            if abs(unit - target) > PICKUP_WINDOW and not crossed:
                self.pickups[name] = Pickup(name, unit, target)
                return False
        self.pickups.pop(name, None)
        params.set(name, curve_value(curve, unit, low, high), writer)
        return True
