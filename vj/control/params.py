"""The live parameters: one registry that every control writes and the engine and look read.

MIDI knobs, OSC messages, keys and presets all set a parameter's *target*; once per frame `advance`
moves each parameter's *value* towards its target with a one-pole smoother on the picture's clock, so a
knob turn never steps visibly. Toggles, choices and triggers are never smoothed. Because the smoothing
runs on picture time (not the wall clock), the same changes at the same frames give the same values:
live, offline and a replay agree.

Rates (evolution, rotation) are also integrated over picture time: the walk and the angle they drive stay
continuous however the rate is changed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from vj.errors import VJError

CURVES = ("linear", "log", "step", "toggle", "trigger")
"""How a knob's travel (0..1) maps to a value: evenly; in equal ratios (an audio taper when the range
starts at 0); in whole steps (a choice such as the palette); off/on; or a one-shot."""
TAPER = 100.0
"""A log curve from 0 covers the top two decades of its range, as an audio fader does."""


def curve_value(curve: str, unit: float, low: float, high: float) -> float:
    """The value at knob position ``unit`` (0..1) on ``curve`` between ``low`` and ``high``."""
    unit = min(max(unit, 0.0), 1.0)
    if curve == "log":
        if low > 0.0 and high > 0.0:
            return low * (high / low) ** unit
        return low + (high - low) * (TAPER**unit - 1.0) / (TAPER - 1.0)
    if curve == "step":  # equal knob travel for each choice
        choices = int(high - low) + 1
        return low + min(math.floor(unit * choices), choices - 1)
    if curve in ("toggle", "trigger"):
        return 1.0 if unit >= 0.5 else 0.0
    return low + unit * (high - low)


def curve_unit(curve: str, value: float, low: float, high: float) -> float:
    """The knob position (0..1) that gives ``value``: the inverse of `curve_value`."""
    if high == low:
        return 0.0
    if curve == "log":
        if low > 0.0 and high > 0.0:
            unit = math.log(max(value, low) / low) / math.log(high / low)
        else:
            unit = math.log(max(1.0 + (value - low) / (high - low) * (TAPER - 1.0), 1.0)) / math.log(TAPER)
    elif curve in ("toggle", "trigger"):
        unit = 1.0 if value >= 0.5 else 0.0
    elif curve == "step":
        unit = (value - low + 0.5) / (high - low + 1.0)
    else:
        unit = (value - low) / (high - low)
    return min(max(unit, 0.0), 1.0)


@dataclass(frozen=True)
class ParamSpec:
    """One live parameter: its range, default, curve, smoothing time and a line of help."""

    name: str
    minimum: float
    maximum: float
    default: float
    curve: str = "linear"
    smoothing_s: float = 0.08
    """Time constant of the smoother, in seconds of picture time (0: jump)."""
    help: str = ""

    def __post_init__(self):
        if self.curve not in CURVES:
            raise ValueError(f"{self.name}: unknown curve {self.curve!r}")

    @property
    def smoothed(self) -> bool:
        return self.curve in ("linear", "log") and self.smoothing_s > 0.0

    def clamp(self, value: float) -> float:
        if self.curve in ("toggle", "trigger"):
            return 1.0 if value >= 0.5 else 0.0
        value = min(max(float(value), self.minimum), self.maximum)
        return float(math.floor(value + 0.5)) if self.curve == "step" else value

    def describe(self) -> str:
        """'zoom  0.25..4 (log), default 1: magnifies the picture' for --help-style listings."""
        if self.curve in ("toggle", "trigger"):
            span = self.curve
        else:
            span = f"{self.minimum:g}..{self.maximum:g}" + ("" if self.curve == "linear" else f" ({self.curve})")
        return f"{self.name:<12} {span:<22} default {self.default:<6g} {self.help}"


class Params:
    """The registry: specs by name, each parameter's target, smoothed value, integral and last writer.

    ``values`` is what frames read (``params["zoom"]``). ``writers`` remembers which control set each
    target last, so a MIDI knob knows when someone else moved its parameter (soft takeover).
    """

    def __init__(self, specs: list[ParamSpec] = ()):
        self.specs: dict[str, ParamSpec] = {}
        self.targets: dict[str, float] = {}
        self.values: dict[str, float] = {}
        self.integrals: dict[str, float] = {}
        self.writers: dict[str, str] = {}
        self.last_change: tuple[str, float, str] | None = None
        """(name, target, writer) of the newest change, for the HUD."""
        self.on_set: Callable[[str, float, str, float], None] | None = None
        """Told of every `set` (name, value, writer, glide_s): a recording's performance log listens."""
        self._fired: set[str] = set()
        self._glides: dict[str, float] = {}
        self._time: float | None = None
        for spec in specs:
            self.register(spec)

    def register(self, spec: ParamSpec) -> None:
        """Add a parameter; later features register theirs the same way."""
        if spec.name in self.specs:
            raise ValueError(f"parameter {spec.name!r} is registered twice")
        self.specs[spec.name] = spec
        self.targets[spec.name] = self.values[spec.name] = spec.clamp(spec.default)
        self.integrals[spec.name] = 0.0
        self.writers[spec.name] = ""

    def spec(self, name: str) -> ParamSpec:
        """The spec of ``name``, or a VJError that lists the parameters."""
        try:
            return self.specs[name]
        except KeyError:
            raise VJError(f"no parameter named {name!r}; the parameters are {', '.join(self.specs)}") from None

    def __getitem__(self, name: str) -> float:
        return self.values[name]

    def set(self, name: str, value: float, writer: str = "", glide_s: float = 0.0) -> float:
        """Aim ``name`` at ``value`` (clamped to its range); a trigger fires on any value >= 0.5.
        Unsmoothed parameters take the value at once; ``glide_s`` overrides the smoothing time of a
        smoothed one until its next change. Returns the target."""
        spec = self.spec(name)
        if not math.isfinite(value):
            return self.targets[name]
        if self.on_set is not None:
            self.on_set(name, value, writer, glide_s)
        target = spec.clamp(value)
        if spec.curve == "trigger":
            if target:
                self._fired.add(name)
            target = 0.0
        self.targets[name] = target
        if glide_s > 0.0 and spec.smoothed:
            self._glides[name] = glide_s
        else:
            self._glides.pop(name, None)
        if not spec.smoothed:
            self.values[name] = target
        self.writers[name] = writer
        self.last_change = (name, target, writer)
        return target

    def toggle(self, name: str, writer: str = "") -> float:
        return self.set(name, 0.0 if self.targets[name] else 1.0, writer)

    def fire(self, name: str, writer: str = "") -> None:
        self.set(name, 1.0, writer)

    def fired(self, name: str) -> bool:
        """Whether the trigger ``name`` fired since the last call (each firing is seen once)."""
        if name in self._fired:
            self._fired.discard(name)
            return True
        return False

    def set_smoothing(self, name: str, seconds: float) -> None:
        spec = self.spec(name)
        if not (math.isfinite(seconds) and 0.0 <= seconds <= 60.0):
            raise VJError(f"smoothing for {name}: {seconds!r} is not 0..60 seconds")
        self.specs[name] = replace(spec, smoothing_s=float(seconds))

    def settle(self) -> None:
        """Every value at its target now: a show or render that starts with set values, not a glide."""
        self.values.update(self.targets)

    def advance(self, t: float) -> None:
        """Move every value towards its target and integrate rates, up to picture time ``t`` (seconds).
        The first call integrates from t = 0, so a render that starts mid-song gets the same walk."""
        dt = max(0.0, t - (0.0 if self._time is None else self._time))
        self._time = t if self._time is None else max(self._time, t)
        for name, spec in self.specs.items():
            before, target = self.values[name], self.targets[name]
            value = target
            smoothing = self._glides.get(name, spec.smoothing_s)
            if spec.smoothed and dt < 50.0 * smoothing:
                value = before + (target - before) * -math.expm1(-dt / smoothing)
            self.values[name] = value
            self.integrals[name] += 0.5 * (before + value) * dt

    def snapshot(self) -> dict[str, float]:
        """Every parameter's target, rounded for people (the stats file, a saved state)."""
        return {name: round(value, 6) for name, value in self.targets.items()}
