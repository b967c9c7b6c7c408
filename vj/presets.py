"""Presets: small TOML files that say what a look is. Data only: never pickled, never executed.

A preset names the net (shape, activations, seed, and optionally pinned weights in a .npz beside it), how
loud each audio feature is as an input to it, the palette, and the values of the show's parameters it
has an opinion on (symmetry, feedback, strobe, ...). Every key is optional (defaults fill in) and every
value is checked, so a bad file gives one line that names the file, the key and what is expected.

Schema 2 is current. Schema 1 files (vj 0.6: [engine] and [look] with palette_a..d) still load: their
keys map onto schema 2 one for one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vj.atomic import replacing
from vj.audio.features import FEATURE_NAMES
from vj.engine.net import Layers, NetSpec, parse_net
from vj.engine.weights import save_weights
from vj.errors import VJError
from vj.look.look import LookParams
from vj.look.palettes import Palette, palette_named, parse_colour
from vj.resources import config_dir, find_toml, shipped_names
from vj.tomlfile import read_toml

SCHEMA = 2
MAX_GAIN = 10.0

PRESET_OWNED = frozenset({
    "evolution", "zoom", "rotation", "hue", "drift", "palette", "brightness", "contrast", "symmetry", "kaleidoscope",
    "feedback", "trail_zoom", "trail_turn", "chroma", "vignette", "strobe", "input_scale",
})
"""The show's parameters (`vj.control.standard`) a preset sets in its [params] table, and a preset switch
resets to the new preset's values or their defaults."""


@dataclass(frozen=True)
class EngineParams:
    """How the CPPN is built and driven (see `vj.engine.cppn.CPPN` for what each does)."""

    net: NetSpec = field(default_factory=NetSpec)
    seed: int = 7
    coord_scale: float = 0.35
    output_gain: float = 0.3
    bass_zoom: float = 0.1
    """The bass magnifies the picture by up to this fraction: a coherent pulse."""
    beat_zoom: float = 0.05
    input_gains: tuple[float, ...] = (1.0,) * len(FEATURE_NAMES)
    """One gain per audio feature as the net hears it (FEATURE_NAMES order)."""
    weights: Path | None = None
    """Pinned weights (a .npz beside the preset) instead of the seed's."""


@dataclass(frozen=True)
class Preset:
    name: str
    engine: EngineParams = field(default_factory=EngineParams)
    look: LookParams = field(default_factory=LookParams)
    params: tuple[tuple[str, float], ...] = ()
    """Values of the show's parameters (`vj params`), as (name, value)."""
    description: str = ""


def user_preset_dir() -> Path:
    """Where `s` (live) and `vj evolve` save presets: the performer's own, found by name like shipped ones."""
    return config_dir() / "presets"


def user_preset_names() -> list[str]:
    folder = user_preset_dir()
    return sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []


def find_preset(name: str) -> Path:
    """A shipped or saved preset by name, or a path to a .toml file."""
    path = find_toml(name, "presets")
    if path is None and (user_preset_dir() / f"{name}.toml").is_file():
        path = user_preset_dir() / f"{name}.toml"
    if path is None:
        raise VJError(f"no preset named {name!r}; shipped presets: {', '.join(shipped_names('presets'))}"
                      " (`vj presets list` shows all)")
    return path


def preset_choices(current: str) -> list[str]:
    """What the ``preset`` parameter steps through: the shipped presets, then the performer's saved ones,
    by name, and ``current`` too when it is a file of its own."""
    names = shipped_names("presets") + [n for n in user_preset_names() if n not in shipped_names("presets")]
    return names if current in names else [*names, current]


def preset_names(choices: list[str]) -> list[str]:
    """The names OSC and the HUD use for `preset_choices` (a file's name without .toml)."""
    return [Path(choice).stem for choice in choices]


def describe_presets() -> str:
    """What `vj presets list` prints: shipped presets, then the performer's, one line each."""
    lines = []
    for title, names in (("Shipped presets", shipped_names("presets")), (f"Your presets ({user_preset_dir()})",
                                                                         user_preset_names())):
        lines.append(f"{title}:")
        for name in names:
            try:
                preset = load_preset(name)
            except VJError as error:
                lines.append(f"  {name:<14} cannot be loaded: {error}")
                continue
            engine = preset.engine
            net = f"{engine.net}" + (" pinned" if engine.weights else f" seed {engine.seed}")
            lines.append(f"  {name:<14} {net:<16} {preset.description}")
        if not names:
            lines.append("  (none yet: press s in a show, or save a favourite in vj evolve)")
    return "\n".join(lines)


def load_preset(name: str = "default") -> Preset:
    """The preset ``name`` (see `find_preset`)."""
    path = find_preset(name)
    data = read_toml(path, "the preset")
    schema = data.pop("schema", None)
    if schema == 1:
        data = _from_schema_1(data, path)
    elif schema != SCHEMA:
        raise VJError(f"{path}: schema {schema!r} is not one this vj reads (1 or {SCHEMA}); "
                      "a newer vj wrote it, or the file lacks `schema = 2`")
    _only(data, {"description", "net", "inputs", "look", "params"}, path, "")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise VJError(f"{path}: description must be a string")
    return Preset(name=path.stem, engine=_engine(_table(data, "net", path), _table(data, "inputs", path), path),
                  look=_look(_table(data, "look", path), path),
                  params=_params(_table(data, "params", path), path), description=description)


def _from_schema_1(data: dict, path: Path) -> dict:
    """A schema 1 document in schema 2 terms."""
    _only(data, {"engine", "look"}, path, "")
    engine, look = dict(_table(data, "engine", path)), dict(_table(data, "look", path))
    params = {key: engine.pop(key) for key in ("evolution", "input_scale") if key in engine}
    params |= {key: look.pop(key) for key in ("brightness", "contrast") if key in look}
    if "hue_rate" in look:
        params["drift"] = look.pop("hue_rate")
    if "net" in engine:
        engine["shape"] = engine.pop("net")
    cosine = [look.pop(f"palette_{k}") for k in "abcd" if f"palette_{k}" in look]
    if cosine:
        if len(cosine) != 4:
            raise VJError(f"{path}: a schema 1 palette needs all of palette_a, palette_b, palette_c and palette_d")
        look["cosine"] = cosine
    return {"net": engine, "look": look, "params": params}


def _engine(net: dict, inputs: dict, path: Path) -> EngineParams:
    _only(net, {"shape", "activations", "seed", "weights", "coord_scale", "output_gain", "bass_zoom", "beat_zoom"},
          path, "net.")
    shape = net.get("shape", "128x6")
    if not isinstance(shape, str):
        raise VJError(f"{path}: net.shape must be a string like '128x6'")
    try:
        spec = parse_net(shape)
    except VJError:
        raise VJError(f"{path}: net.shape {shape!r} is not WIDTHxLAYERS with width 1..4096 and 1..64 layers, "
                      "e.g. '128x6'") from None
    if "activations" in net:
        activations = net["activations"]
        if not (isinstance(activations, list) and all(isinstance(a, str) for a in activations)):
            raise VJError(f"{path}: net.activations must be a list of names")
        try:
            spec = replace(spec, activations=tuple(activations))
        except VJError as error:
            raise VJError(f"{path}: net.activations: {error}") from None
    defaults = EngineParams()
    numbers = {key: _number(net, key, path, "net.", getattr(defaults, key), low, high)
               for key, (low, high) in {"coord_scale": (0.001, 100.0), "output_gain": (0.001, 10.0),
                                        "bass_zoom": (0.0, 2.0), "beat_zoom": (0.0, 2.0)}.items()}
    seed = net.get("seed", defaults.seed)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise VJError(f"{path}: net.seed must be a whole number, 0 or more")
    _only(inputs, set(FEATURE_NAMES), path, "inputs.")
    gains = tuple(_number(inputs, name, path, "inputs.", 1.0, -MAX_GAIN, MAX_GAIN) for name in FEATURE_NAMES)
    return EngineParams(net=spec, seed=seed, input_gains=gains, weights=_weights_path(net, path), **numbers)


def _weights_path(net: dict, path: Path) -> Path | None:
    """net.weights: a .npz file name in the preset's own folder (nothing outside it, nothing else)."""
    if "weights" not in net:
        return None
    name = net["weights"]
    folder = path.parent.resolve()
    if not isinstance(name, str) or not name.endswith(".npz"):
        raise VJError(f"{path}: net.weights must name a .npz file beside the preset")
    weights = (folder / name).resolve()
    if Path(name).is_absolute() or weights.parent != folder:
        raise VJError(f"{path}: net.weights {name!r} is outside the preset's folder; "
                      "a preset may only use a weight file beside it")
    return weights


def _look(look: dict, path: Path) -> LookParams:
    _only(look, {"palette", "cosine", "gradient"}, path, "look.")
    given = [key for key in ("palette", "cosine", "gradient") if key in look]
    if len(given) > 1:
        raise VJError(f"{path}: look.{given[0]} and look.{given[1]}: give one palette")
    palette = LookParams().palette
    try:
        if "palette" in look:
            if not isinstance(look["palette"], str):
                raise VJError("look.palette must be a palette's name (`vj params` lists them)")
            palette = palette_named(look["palette"])
        elif "cosine" in look:
            cosine = look["cosine"]
            if not (isinstance(cosine, list) and len(cosine) == 4):
                raise VJError("look.cosine must be four [r, g, b] lists: a, b, c, d")
            palette = Palette(cosine=tuple(parse_colour(v) for v in cosine))
        elif "gradient" in look:
            stops = look["gradient"]
            if not (isinstance(stops, list) and 2 <= len(stops) <= 64):
                raise VJError("look.gradient must be a list of 2 to 64 colours")
            palette = Palette(gradient=tuple(parse_colour(v) for v in stops))
    except VJError as error:
        raise VJError(f"{path}: {error}") from None
    return LookParams(palette=palette)


def _params(table: dict, path: Path) -> tuple[tuple[str, float], ...]:
    """Values for the parameters a preset owns (`PRESET_OWNED`); each is clamped to its range when used."""
    _only(table, PRESET_OWNED, path, "params.")
    return tuple((name, _number(table, name, path, "params.", 0.0, -1e6, 1e6)) for name in table)


def _table(data: dict, key: str, path: Path) -> dict:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise VJError(f"{path}: [{key}] must be a table")
    return table


def _only(table: dict, known: set[str] | frozenset[str], path: Path, prefix: str) -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise VJError(f"{path}: unknown key {prefix}{unknown[0]}; known: {', '.join(sorted(known))}")


def _number(table: dict[str, Any], key: str, path: Path, prefix: str, default: float, low: float,
            high: float) -> float:
    value = table.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
        raise VJError(f"{path}: {prefix}{key} must be a number from {low:g} to {high:g}")
    return float(value)


def resolve_preset(name: str, seed: int | None = None, evolution: float | None = None,
                   net: str | None = None) -> Preset:
    """A preset with the command line's --seed, --evolution and --net laid over it (None keeps the preset's).
    A different --net drops pinned weights (they fit only their own shape)."""
    preset = load_preset(name)
    engine = preset.engine
    if seed is not None:
        engine = replace(engine, seed=seed, weights=None)
    if evolution is not None:
        preset = replace(preset, params=(*[p for p in preset.params if p[0] != "evolution"], ("evolution", evolution)))
    if net is not None:
        spec = replace(parse_net(net), activations=engine.net.activations)
        if spec != engine.net:
            engine = replace(engine, net=spec, weights=None)
    return replace(preset, engine=engine)


def save_preset(preset: Preset, layers: Layers, values: dict[str, float], folder: Path) -> Path:
    """Write ``preset`` with pinned ``layers`` and parameter ``values`` as a new preset in ``folder``:
    NAME-001.toml (the next free number) and its .npz. Never overwrites a file."""
    import tomli_w

    try:
        path = _claim_name(folder, re.sub(r"-\d{3}$", "", preset.name))
    except OSError as error:
        raise VJError(f"{folder}: cannot save a preset there ({error.strerror})") from None
    weights = path.with_suffix(".npz")
    engine, look = preset.engine, preset.look
    palette = look.palette
    document = {
        "schema": SCHEMA,
        "description": f"saved from {preset.name}" + (f": {preset.description}" if preset.description else ""),
        "net": {"shape": str(engine.net), "activations": list(engine.net.activations), "seed": engine.seed,
                "weights": weights.name, "coord_scale": engine.coord_scale, "output_gain": engine.output_gain,
                "bass_zoom": engine.bass_zoom, "beat_zoom": engine.beat_zoom},
        "inputs": dict(zip(FEATURE_NAMES, engine.input_gains)),
        "look": {("cosine" if palette.cosine else "gradient"): [list(c) for c in palette.cosine or palette.gradient]},
        "params": {name: values[name] for name in sorted(PRESET_OWNED) if name in values},
    }
    try:
        save_weights(weights, layers)
        with replacing(path) as file:
            file.write("# saved by vj; edit freely\n" + tomli_w.dumps(document))
    except OSError as error:
        path.unlink(missing_ok=True)
        weights.unlink(missing_ok=True)
        raise VJError(f"{path}: cannot save the preset ({error.strerror})") from None
    return path


def _claim_name(folder: Path, base: str) -> Path:
    """The next free ``folder/base-NNN.toml``, created empty so no other save takes it; a weight file of
    that name already there is someone else's, and its name is skipped."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(1, 10_000):
        path = folder / f"{base}-{number:03d}.toml"
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue
        if not path.with_suffix(".npz").exists():
            return path
        path.unlink()
    raise VJError(f"{folder}: no free name for a new {base} preset; tidy the folder")

