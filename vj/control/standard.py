"""The show's parameters: what a knob can reach, with the ranges and curves a performer wants.

The preset gives the defaults of the parameters it has an opinion on (evolution, input scale,
brightness, contrast); a preset switch aims those at the new preset's values.
"""

from __future__ import annotations

from vj.control.params import Params, ParamSpec
from vj.look.look import PALETTES
from vj.presets import Preset

PRESET_WRITER = "preset"


def show_params(preset: Preset, preset_count: int = 1, preset_index: int = 0,
                overrides: tuple[tuple[str, float], ...] = ()) -> Params:
    """The registry for a show (or an offline render) that starts with ``preset``, and with the command
    line's ``--set`` values in ``overrides`` from the first frame (no glide from the defaults)."""
    engine, look = preset.engine, preset.look
    params = Params([
        ParamSpec("evolution", 0.0, 5.0, engine.evolution, "log", 0.3,
                  "speed of the net's slow walk; 0 holds the look still"),
        ParamSpec("morph", 0.0, 1.0, 0.0, "linear", 0.15, "scrubs the net along its walk: a knob through its latent space"),
        ParamSpec("zoom", 0.25, 4.0, 1.0, "log", 0.12, "magnifies the picture"),
        ParamSpec("rotation", -0.5, 0.5, 0.0, "linear", 0.3, "spin, in turns per second"),
        ParamSpec("hue", 0.0, 1.0, 0.0, "linear", 0.1, "turns the palette's colours"),
        ParamSpec("palette", 0, len(PALETTES), 0, "step", 0.0,
                  "0 the preset's palette, 1.. the shipped ones (`vj params`)"),
        ParamSpec("brightness", 0.0, 2.0, look.brightness, "linear", 0.05, "overall brightness"),
        ParamSpec("contrast", 0.25, 3.0, look.contrast, "log", 0.08, "contrast around mid grey"),
        ParamSpec("symmetry", 0.0, 1.0, 0.0, "linear", 0.1, "0 none, 0.5 mirrored left-right, 1 four-way"),
        ParamSpec("feedback", 0.0, 0.97, 0.0, "linear", 0.1, "trails: how much of the last frame stays"),
        ParamSpec("bass", 0.0, 4.0, 1.0, "linear", 0.1, "sensitivity to the bass band"),
        ParamSpec("mid", 0.0, 4.0, 1.0, "linear", 0.1, "sensitivity to the mid band"),
        ParamSpec("treble", 0.0, 4.0, 1.0, "linear", 0.1, "sensitivity to the treble band"),
        ParamSpec("beat", 0.0, 3.0, 1.0, "linear", 0.1, "beat reactivity: how hard each beat kicks"),
        ParamSpec("input_scale", 0.0, 0.3, engine.input_scale, "linear", 0.15,
                  "how hard the audio features morph the net (its per-frame inputs)"),
        ParamSpec("reseed", 0, 1, 0, "trigger", 0.0, "a new net from the next seed"),
        ParamSpec("freeze", 0, 1, 0, "toggle", 0.0, "hold the picture"),
        ParamSpec("preset", 0, max(preset_count - 1, 0), preset_index, "step", 0.0,
                  "which preset plays: the shipped presets in name order (`vj params`)"),
    ])
    for name, value in overrides:
        params.set(name, value, "command line")
    params.settle()
    return params


def apply_preset(params: Params, preset: Preset) -> None:
    """Aim the parameters a preset defines at its values (a preset switch)."""
    engine, look = preset.engine, preset.look
    for name, value in (("evolution", engine.evolution), ("input_scale", engine.input_scale),
                        ("brightness", look.brightness), ("contrast", look.contrast)):
        params.set(name, value, PRESET_WRITER)
