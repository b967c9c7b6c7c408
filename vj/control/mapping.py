"""MIDI mapping files: which message moves which parameter, how far and along which curve. TOML, data
only: nothing in a map is executed, and every value is checked, so a bad file gives one line that names
the file, the binding and what is expected.

    schema = 1
    name = "My controller"
    pickup = true                # soft takeover for every knob (a binding can say otherwise)

    [smoothing]                  # seconds, per parameter (optional)
    zoom = 0.2

    [[bind]]
    param = "zoom"
    cc = 1                       # one of: cc, cc14 (MSB number 0-31; LSB is +32), note,
    channel = 1                  #   program = true, pitchbend = true.  channel: 1-16, omitted = any
    min = 0.5                    # optional: a narrower range than the parameter's
    max = 2.0
    curve = "log"                # optional: linear, log, step
    invert = false

A button (a note, or a control change crossing the middle) toggles a toggle, fires a trigger, sets
``value = N`` when given, or steps a choice with ``step = 1`` / ``step = -1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from vj.atomic import replacing
from vj.control.params import Params
from vj.errors import VJError
from vj.resources import config_dir, find_toml, resource_dir, shipped_names
from vj.tomlfile import read_toml

SCHEMA = 1
KINDS = ("cc", "cc14", "note", "program", "pitchbend")
DEFAULT_MAP = "generic"
_BIND_KEYS = {"param", "channel", "min", "max", "curve", "invert", "value", "step", "pickup", *KINDS}


@dataclass(frozen=True)
class Binding:
    """One control bound to one parameter. ``channel`` counts 1-16 (None: any); ``number`` is the
    controller or note number (the MSB's for cc14; unused for program and pitchbend)."""

    param: str
    kind: str
    number: int = 0
    channel: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    curve: str | None = None
    invert: bool = False
    value: float | None = None
    step: float | None = None
    pickup: bool | None = None

    @property
    def control(self) -> tuple[str, int, int | None]:
        """The physical control: two bindings with the same one are the same knob."""
        return self.kind, self.number, self.channel

    def describe(self) -> str:
        """'cc 7 ch 1', 'note 36', 'pitchbend ch 2', for the HUD and learn."""
        text = self.kind if self.kind in ("program", "pitchbend") else f"{self.kind} {self.number}"
        return text + (f" ch {self.channel}" if self.channel else "")

    def to_toml(self) -> dict:
        table: dict = {"param": self.param}
        table[self.kind] = True if self.kind in ("program", "pitchbend") else self.number
        for key, value in (("channel", self.channel), ("min", self.minimum), ("max", self.maximum),
                           ("curve", self.curve), ("value", self.value), ("step", self.step),
                           ("pickup", self.pickup)):
            if value is not None:
                table[key] = value
        if self.invert:
            table["invert"] = True
        return table


@dataclass
class MidiMap:
    """A loaded mapping: its bindings, whether knobs pick up softly, per-parameter smoothing, and the file
    that MIDI learn saves to."""

    name: str = "empty"
    bindings: list[Binding] = field(default_factory=list)
    pickup: bool = True
    smoothing: dict[str, float] = field(default_factory=dict)
    path: Path | None = None

    def learn(self, binding: Binding) -> None:
        """Add ``binding``; any earlier binding of the same control goes (one knob, one job)."""
        self.bindings = [b for b in self.bindings if b.control != binding.control] + [binding]

    def save(self, path: Path) -> None:
        """Write the map to ``path`` atomically (a crash never leaves half a file)."""
        import tomli_w

        document = {"schema": SCHEMA, "name": self.name, "pickup": self.pickup}
        if self.smoothing:
            document["smoothing"] = dict(self.smoothing)
        document["bind"] = [b.to_toml() for b in self.bindings]
        text = "# vj MIDI map (see `vj midi --help`); written by vj, edit freely\n" + tomli_w.dumps(document)
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as file:
            file.write(text)
        self.path = path


def user_map_path() -> Path:
    """Where MIDI learn keeps the performer's own map when no --map file is given."""
    return config_dir() / "midi.toml"


def save_path(midi_map: MidiMap) -> Path:
    """Where learn keeps a map: its own file, or the performer's map when it came with vj (vj never
    writes into its install)."""
    path = midi_map.path
    if path is None or path.resolve().is_relative_to(resource_dir("maps").resolve()):
        return user_map_path()
    return path


def find_map(name: str | None) -> Path:
    """``--map``: a .toml path or a shipped map's name; without it the user's map, else the generic one."""
    if name is None:
        user = user_map_path()
        return user if user.is_file() else resource_dir("maps") / f"{DEFAULT_MAP}.toml"
    path = find_toml(name, "maps")
    if path is None:
        raise VJError(f"no MIDI map named {name!r}; shipped maps: {', '.join(shipped_names('maps'))} "
                      "(or give a .toml file)")
    return path


def load_map(path: Path, params: Params, missing_ok: bool = False) -> MidiMap:
    """Read and check a map against the show's parameters. ``missing_ok``: a file not yet written is an
    empty map that learn will create."""
    if missing_ok and not path.exists():
        return MidiMap(name=path.stem, path=path)
    data = read_toml(path, "the MIDI map")
    if data.get("schema") != SCHEMA:
        raise VJError(f"{path}: schema {data.get('schema')!r} is not supported; this vj reads MIDI maps of schema {SCHEMA}")
    unknown = set(data) - {"schema", "name", "pickup", "smoothing", "bind"}
    if unknown:
        raise VJError(f"{path}: unknown key(s) {sorted(unknown)}; expected schema, name, pickup, [smoothing], [[bind]]")
    pickup = data.get("pickup", True)
    if not isinstance(pickup, bool):
        raise VJError(f"{path}: pickup must be true or false")
    smoothing = data.get("smoothing", {})
    if not isinstance(smoothing, dict):
        raise VJError(f"{path}: [smoothing] must be a table of parameter = seconds")
    for name, seconds in smoothing.items():
        if name not in params.specs:
            _fail(f"{path}: smoothing.{name}: no such parameter; see `vj params`")
        if not _number(seconds) or not 0.0 <= seconds <= 60.0:
            _fail(f"{path}: smoothing.{name} must be 0..60 seconds")
    binds = data.get("bind", [])
    if not isinstance(binds, list):
        raise VJError(f"{path}: bind must be an array of tables ([[bind]])")
    bindings = [_binding(table, params, f"{path}: bind #{i + 1}") for i, table in enumerate(binds)]
    name = data.get("name", path.stem)
    return MidiMap(name=str(name), bindings=bindings, pickup=pickup,
                   smoothing={k: float(v) for k, v in smoothing.items()}, path=path)


def apply_smoothing(midi_map: MidiMap, params: Params) -> None:
    for name, seconds in midi_map.smoothing.items():
        params.set_smoothing(name, seconds)


def _binding(table, params: Params, where: str) -> Binding:
    if not isinstance(table, dict):
        _fail(f"{where} must be a table")
    unknown = set(table) - _BIND_KEYS
    if unknown:
        _fail(f"{where}: unknown key(s) {sorted(unknown)}")
    param = table.get("param")
    if not isinstance(param, str) or param not in params.specs:
        _fail(f"{where}: param {param!r} is not a parameter; see `vj params`")
    kinds = [k for k in KINDS if k in table]
    if len(kinds) != 1:
        _fail(f"{where}: give exactly one of cc, cc14, note, program = true, pitchbend = true")
    kind = kinds[0]
    number = table[kind]
    if kind in ("program", "pitchbend"):
        if number is not True:
            _fail(f"{where}: write {kind} = true")
        number = 0
    elif not _integer(number) or not 0 <= number <= (31 if kind == "cc14" else 127):
        _fail(f"{where}: {kind} must be a number 0..{31 if kind == 'cc14' else 127}")
    binding = Binding(param=param, kind=kind, number=number)
    channel = table.get("channel")
    if channel is not None and (not _integer(channel) or not 1 <= channel <= 16):
        _fail(f"{where}: channel must be 1..16")
    spec = params.specs[param]
    values = {}
    for key in ("min", "max", "value", "step"):
        if key in table:
            if not _number(table[key]):
                _fail(f"{where}: {key} must be a number")
            values[key] = float(table[key])
    for key in ("min", "max", "value"):  # a choice's count depends on the install (presets): clamped in use
        if key in values and spec.curve != "step" and not spec.minimum <= values[key] <= spec.maximum:
            _fail(f"{where}: {key} {values[key]:g} is outside {param}'s range {spec.minimum:g}..{spec.maximum:g}")
    curve = table.get("curve")
    if curve is not None and curve not in ("linear", "log", "step"):
        _fail(f"{where}: curve must be linear, log or step")
    if curve == "log" and min(values.get("min", spec.minimum), values.get("max", spec.maximum)) < 0:
        _fail(f"{where}: a log curve needs a range that does not go below 0")
    for key in ("invert", "pickup"):
        if key in table and not isinstance(table[key], bool):
            _fail(f"{where}: {key} must be true or false")
    return replace(binding, channel=channel, minimum=values.get("min"), maximum=values.get("max"), curve=curve,
                   invert=table.get("invert", False), value=values.get("value"), step=values.get("step"),
                   pickup=table.get("pickup"))


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fail(message: str):
    raise VJError(message)
