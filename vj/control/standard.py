"""The show's parameters: what a knob can reach, with the ranges and curves a performer wants.

A preset owns the parameters that make its look (`PRESET_OWNED`): it gives their starting values, and a
preset switch aims every one of them at the new preset's value (or the default, where it says nothing).
The rest belong to the performer (band sensitivities, freeze, the preset and morph controls) and a
preset never moves them.
"""

from __future__ import annotations

from collections.abc import Mapping

from vj.control.params import Params, ParamSpec
from vj.look.palettes import PALETTES
from vj.presets import PRESET_OWNED, Preset

PRESET_WRITER = "preset"
MAX_TRANSITION_BEATS = 32


def param_specs(defaults: Mapping[str, float] = {}, preset_count: int = 1, preset_index: int = 0) -> list[ParamSpec]:
    """Every parameter, with ``defaults`` (a preset's values) in place of the built-in defaults."""
    default = lambda name, value: defaults.get(name, value)  # noqa: E731
    last = max(preset_count - 1, 0)
    return [
        ParamSpec("evolution", 0.0, 5.0, default("evolution", 0.5), "log", 0.3,
                  "speed of the net's slow walk; 0 holds the look still"),
        ParamSpec("morph", 0.0, 1.0, 0.0, "linear", 0.15, "scrubs the net along its walk: a knob through its latent space"),
        ParamSpec("zoom", 0.25, 4.0, default("zoom", 1.0), "log", 0.12, "magnifies the picture"),
        ParamSpec("rotation", -0.5, 0.5, default("rotation", 0.0), "linear", 0.3, "spin, in turns per second"),
        ParamSpec("hue", 0.0, 1.0, default("hue", 0.0), "linear", 0.1, "turns the palette's colours"),
        ParamSpec("drift", -0.1, 0.1, default("drift", 0.01), "linear", 0.3, "the palette's slow turn, in turns per second"),
        ParamSpec("palette", 0, len(PALETTES), default("palette", 0), "step", 0.0,
                  "0 the preset's palette, 1.. the shipped ones (`vj params`)"),
        ParamSpec("brightness", 0.0, 2.0, default("brightness", 1.0), "linear", 0.05, "overall brightness"),
        ParamSpec("contrast", 0.25, 3.0, default("contrast", 1.1), "log", 0.08, "contrast around mid grey"),
        ParamSpec("symmetry", 0.0, 1.0, default("symmetry", 0.0), "linear", 0.1,
                  "0 none, 0.5 mirrored left-right, 1 four-way"),
        ParamSpec("kaleidoscope", 0, 12, default("kaleidoscope", 0), "step", 0.0,
                  "mirrored wedges around the centre: 0 off, else the number of wedge pairs"),
        ParamSpec("feedback", 0.0, 0.97, default("feedback", 0.0), "linear", 0.1, "trails: how much of the last frame stays"),
        ParamSpec("trail_zoom", -1.0, 1.0, default("trail_zoom", 0.45), "linear", 0.1,
                  "how fast trails flow outwards (negative: inwards), per second"),
        ParamSpec("trail_turn", -0.5, 0.5, default("trail_turn", 0.0), "linear", 0.1, "trails swirl, in turns per second"),
        ParamSpec("chroma", 0.0, 1.0, default("chroma", 0.0), "linear", 0.1,
                  "chromatic shift: red and blue pulled apart at the edges, more on the beat"),
        ParamSpec("vignette", 0.0, 2.0, default("vignette", 0.6), "linear", 0.1, "darkens the corners"),
        ParamSpec("strobe", 0.0, 1.0, default("strobe", 0.0), "linear", 0.0,
                  "white flash on the beat, at most 3 a second (see --strobe-limit)"),
        ParamSpec("bass", 0.0, 4.0, 1.0, "linear", 0.1, "sensitivity to the bass band"),
        ParamSpec("mid", 0.0, 4.0, 1.0, "linear", 0.1, "sensitivity to the mid band"),
        ParamSpec("treble", 0.0, 4.0, 1.0, "linear", 0.1, "sensitivity to the treble band"),
        ParamSpec("beat", 0.0, 3.0, 1.0, "linear", 0.1, "beat reactivity: how hard each beat kicks"),
        ParamSpec("input_scale", 0.0, 0.3, default("input_scale", 0.06), "linear", 0.15,
                  "how hard the audio features morph the net (its per-frame inputs)"),
        ParamSpec("reseed", 0, 1, 0, "trigger", 0.0, "a new net from the next seed"),
        ParamSpec("freeze", 0, 1, 0, "toggle", 0.0, "hold the picture"),
        ParamSpec("preset", 0, last, preset_index, "step", 0.0,
                  "which preset plays: the shipped presets in name order (`vj presets list`)"),
        ParamSpec("transition", 0, MAX_TRANSITION_BEATS, 4, "step", 0.0,
                  "beats a preset switch takes to morph into the next; 0 cuts"),
        ParamSpec("crossfade", 0, 1, 0, "toggle", 0.0,
                  "switches crossfade the pictures instead of morphing the nets' weights"),
        ParamSpec("cue", 0, last, min(preset_index + 1, last), "step", 0.0, "the preset the blend knob morphs towards"),
        ParamSpec("blend", 0.0, 1.0, 0.0, "linear", 0.1, "morphs the net towards the cued preset, weight by weight"),
    ]




def show_params(preset: Preset, preset_count: int = 1, preset_index: int = 0,
                overrides: tuple[tuple[str, float], ...] = ()) -> Params:
    """The registry for a show (or an offline render) that starts with ``preset``, and with the command
    line's ``--set`` values in ``overrides`` from the first frame (no glide from the defaults)."""
    params = Params(param_specs(dict(preset.params), preset_count, preset_index))
    for name, value in overrides:
        params.set(name, value, "command line")
    params.settle()
    return params


def apply_preset(params: Params, preset: Preset, glide_s: float = 0.0, smoothed: bool | None = None) -> None:
    """Aim every parameter a preset owns at ``preset``'s value, or the default where it has none; with
    ``glide_s``, smoothed ones glide there with that time constant (along with a morph). ``smoothed``
    True or False sets only those that glide, or only those that jump (choices such as the kaleidoscope,
    which a morph sets when it lands rather than folding the picture at its start)."""
    for spec in param_specs(dict(preset.params)):
        if spec.name in PRESET_OWNED and smoothed in (None, spec.smoothed):
            params.set(spec.name, spec.default, PRESET_WRITER, glide_s=glide_s)
