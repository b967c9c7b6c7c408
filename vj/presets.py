"""Presets: small TOML files of engine and look settings. Data only, never pickled or executed.

A preset names the net's shape and seed, how the audio drives it, and the look's palette. Every key is
optional (the dataclass defaults fill in) and every value is checked, so a bad file gives one line that
names the file, the key and what is expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from vj.engine.net import NetSpec, parse_net
from vj.errors import VJError
from vj.look.look import LookParams
from vj.resources import find_toml, shipped_names
from vj.tomlfile import read_toml

SCHEMA = 1


@dataclass(frozen=True)
class EngineParams:
    """How the CPPN is built and driven (see `vj.engine.cppn.CPPN` for what each does)."""

    net: NetSpec = field(default_factory=NetSpec)
    seed: int = 7
    evolution: float = 0.5
    coord_scale: float = 0.35
    output_gain: float = 0.3
    input_scale: float = 0.06
    bass_zoom: float = 0.1
    beat_zoom: float = 0.05


@dataclass(frozen=True)
class Preset:
    name: str
    engine: EngineParams
    look: LookParams


def find_preset(name: str) -> Path:
    """A shipped preset by name, or a path to a .toml file."""
    path = find_toml(name, "presets")
    if path is None:
        raise VJError(f"no preset named {name!r}; shipped presets: {', '.join(shipped_names('presets'))}")
    return path


def preset_choices(current: str) -> list[str]:
    """What the ``preset`` parameter steps through: the shipped presets by name, and ``current`` too when
    it is a file of the performer's own."""
    shipped = shipped_names("presets")
    return shipped if current in shipped else [*shipped, current]


def preset_names(choices: list[str]) -> list[str]:
    """The names OSC and the HUD use for `preset_choices` (a file's name without .toml)."""
    return [Path(choice).stem for choice in choices]


def load_preset(name: str = "default") -> Preset:
    path = find_preset(name)
    data = read_toml(path, "the preset")
    schema = data.pop("schema", None)
    if schema != SCHEMA:
        raise VJError(f"{path}: schema {schema!r} is not supported; this vj reads schema {SCHEMA}")
    unknown = set(data) - {"engine", "look"}
    if unknown:
        raise VJError(f"{path}: unknown section(s) {sorted(unknown)}; expected [engine] and [look]")
    engine_data = dict(_table(data, "engine", path))
    net_text = engine_data.pop("net", "128x6")
    activations = engine_data.pop("activations", None)
    if not isinstance(net_text, str):
        raise VJError(f"{path}: engine.net must be a string like '128x6'")
    net = parse_net(net_text)
    if activations is not None:
        if not (isinstance(activations, list) and all(isinstance(a, str) for a in activations)):
            raise VJError(f"{path}: engine.activations must be a list of names")
        net = replace(net, activations=tuple(activations))
    engine = EngineParams(net=net, **_checked(EngineParams, engine_data, path, "engine", skip={"net"}))
    look = LookParams(**_checked(LookParams, _table(data, "look", path), path, "look"))
    return Preset(name=path.stem, engine=engine, look=look)


def _table(data: dict, key: str, path: Path) -> dict:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise VJError(f"{path}: [{key}] must be a table")
    return table


def _checked(cls: type, table: dict[str, Any], path: Path, section: str, skip: set[str] = frozenset()) -> dict:
    """Keep the keys that ``cls`` has, each of the type of its default; reject anything else."""
    defaults = {f.name: getattr(cls(), f.name) for f in fields(cls) if f.name not in skip}
    values = {}
    for key, value in table.items():
        if key not in defaults:
            raise VJError(f"{path}: unknown key {section}.{key}; known: {', '.join(sorted(defaults))}")
        default = defaults[key]
        if isinstance(default, tuple):
            if not (isinstance(value, list) and len(value) == len(default)
                    and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
                raise VJError(f"{path}: {section}.{key} must be a list of {len(default)} numbers")
            value = tuple(float(v) for v in value)
        elif isinstance(default, float):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise VJError(f"{path}: {section}.{key} must be a number")
            value = float(value)
        elif isinstance(default, int) and (not isinstance(value, int) or isinstance(value, bool)):
            raise VJError(f"{path}: {section}.{key} must be an integer")
        values[key] = value
    return values


def resolve_preset(name: str, seed: int | None = None, evolution: float | None = None,
                   net: str | None = None) -> Preset:
    """A preset with the command line's --seed, --evolution and --net laid over it (None keeps the preset's)."""
    preset = load_preset(name)
    engine = preset.engine
    if seed is not None:
        engine = replace(engine, seed=seed)
    if evolution is not None:
        engine = replace(engine, evolution=evolution)
    if net is not None:
        engine = replace(engine, net=replace(parse_net(net), activations=engine.net.activations))
    return replace(preset, engine=engine)
