"""Features and live parameters to picture for one frame: engine then look. The one piece live and
offline both drive.

Preset changes happen here, in picture time:
- a switch (the ``preset`` parameter) morphs from the playing preset to the next over ``transition``
  beats: weight by weight where the nets have the same shape (the picture melts through the nets in
  between), or as a crossfade of the two pictures (``crossfade``, or nets of different shapes);
- the ``blend`` knob morphs the same way towards the ``cue`` preset, and back, under the performer's hand.
Presets load in the background (`vj.render.loader`); a transition starts at the first frame after the
new net is ready, and the preset's parameters glide along with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import moderngl
import numpy as np

from vj.audio.features import FEATURE_NAMES, FrameFeatures
from vj.control.params import Params
from vj.control.standard import apply_preset
from vj.engine.cppn import Canvas, frame_inputs
from vj.engine.device import select_device
from vj.look.look import Look
from vj.look.strobe import DEFAULT_MAX_PER_S
from vj.presets import Preset
from vj.render.loader import LoadedPreset, PresetLoader, build_net, outcome

_TIME = FEATURE_NAMES.index("time")
MORPH_SPAN = 30.0
"""The morph knob's full travel moves the net this far along its walk (in walk seconds: a few looks)."""
DEFAULT_BPM = 120.0
"""The tempo a transition counts its beats in before the tracker has locked."""


def reacting(features: FrameFeatures, params: Params) -> FrameFeatures:
    """The features as the picture hears them: each band and the beat scaled by its sensitivity."""
    return replace(features, bass=features.bass * params["bass"], mid=features.mid * params["mid"],
                   treble=features.treble * params["treble"], beat=features.beat * params["beat"])


def walk_time(params: Params) -> float:
    """Where the nets' walks are: the evolution rate integrated over picture time, plus the morph knob."""
    return params.integrals["evolution"] + MORPH_SPAN * params["morph"]


def ease(x: float) -> float:
    """Smoothstep: a transition leaves and lands gently."""
    x = min(max(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


@dataclass
class _Transition:
    to: LoadedPreset
    start: float | None
    seconds: float
    crossfade: bool


class FramePipeline:
    """Builds the CPPN for a preset on a device and the look on a GL context.

    Args:
        preset: engine and look settings (already merged with any command-line overrides).
        device: 'auto', 'cuda' or 'cpu'.
        ctx: the GL context the look draws with.
        net: a --net override for presets loaded later (live on a CPU runs a small net).
        watch_shaders: reload shaders/*.frag when they change (live).
        strobe_limit: most strobe flashes a second (0: no limit).
    """

    def __init__(self, preset: Preset, device: str, ctx: moderngl.Context, net: str | None = None,
                 watch_shaders: bool = False, strobe_limit: float = DEFAULT_MAX_PER_S):
        self._device = select_device(device)
        self.canvas = Canvas(*self._device)
        self.preset = preset
        self.engine = build_net(preset, self._device)
        self.look = Look(ctx, preset.look, watch_shaders, strobe_limit)
        self.loader = PresetLoader(self._device, net)
        self.transition: _Transition | None = None
        self.cued: LoadedPreset | None = None
        self.problem = ""
        """The last preset that failed to load, as one line (for the HUD); empty when none."""
        self._pending = None  # (future, what for: "switch" or "cue", transition beats, crossfade)

    @property
    def device(self) -> str:
        return self.engine.device.type

    def reseed(self, seed: int) -> None:
        """A new net (and walk) from ``seed``; the rest of the preset stays."""
        self.engine = build_net(self.preset, self._device, seed)

    def use_preset(self, preset: Preset) -> None:
        """Cut to ``preset`` now, loading it on this thread (an offline render; live uses `switch`)."""
        self._arrive(LoadedPreset(preset, build_net(preset, self._device)))

    def switch(self, name: str, beats: int, crossfade: bool) -> None:
        """Start loading ``name``; when it is ready, morph to it over ``beats`` beats (0: cut)."""
        self._pending = (self.loader.request(name), "switch", beats, crossfade)

    def cue(self, name: str) -> None:
        """Load ``name`` as the preset the blend knob morphs towards."""
        if self.cued is None or self.cued.preset.name != name:
            self.cued = None
            self._pending = (self.loader.request(name), "cue", 0, False)

    def _follow_loads(self, features: FrameFeatures, params: Params) -> None:
        if self._pending is None:
            return
        future, purpose, beats, crossfade = self._pending
        result = outcome(future)
        if result is None:
            return
        self._pending = None
        if isinstance(result, str):
            self.problem = result
            return
        self.problem = ""
        if purpose == "cue":
            self.cued = result
            return
        bpm = features.tempo_bpm if features.tempo_bpm > 0 else DEFAULT_BPM
        seconds = beats * 60.0 / bpm
        if seconds <= 0:
            self._arrive(result)
        else:
            self.transition = _Transition(result, features.time, seconds, crossfade)
        apply_preset(params, result.preset, glide_s=seconds / 3.0)

    def _arrive(self, loaded: LoadedPreset) -> None:
        self.preset, self.engine = loaded.preset, loaded.net
        self.look.params = loaded.preset.look
        self.transition = None

    def _toward(self, t: float, params: Params) -> tuple[LoadedPreset, float, bool] | None:
        """What the frame morphs towards, how far and whether as a crossfade; None for the preset alone."""
        transition = self.transition
        if transition is not None:
            amount = ease((t - transition.start) / transition.seconds)
            if amount >= 1.0:
                self._arrive(transition.to)
                return None
            return transition.to, amount, transition.crossfade
        if self.cued is not None and params["blend"] > 0.0:
            return self.cued, params["blend"], bool(params["crossfade"])
        return None

    def draw(self, features: FrameFeatures, internal: tuple[int, int], target: moderngl.Framebuffer,
             params: Params) -> None:
        """Render the net at the ``internal`` size and draw it through the look into ``target``."""
        self._follow_loads(features, params)
        heard = reacting(features, params)
        toward = self._toward(features.time, params)
        frame = self._net_frame(heard, *internal, params, toward)
        self.look.draw(frame, heard, target, params, None if toward is None else (toward[0].preset.look, toward[1]))

    def _net_frame(self, heard: FrameFeatures, width: int, height: int, params: Params,
                   toward: tuple[LoadedPreset, float, bool] | None) -> np.ndarray:
        """The engine's raw (height, width, 3) channels for features already scaled by `reacting`."""
        inputs = frame_inputs(heard.vector(), _TIME) * np.float32(params["input_scale"])
        walk = walk_time(params)
        angle = 2.0 * math.pi * params.integrals["rotation"]
        mine = self.preset.engine
        bass_zoom, beat_zoom = mine.bass_zoom, mine.beat_zoom
        if toward is not None:
            theirs, amount = toward[0].preset.engine, toward[1]
            bass_zoom += (theirs.bass_zoom - bass_zoom) * amount
            beat_zoom += (theirs.beat_zoom - beat_zoom) * amount
        zoom = params["zoom"] * (1.0 + bass_zoom * heard.bass + beat_zoom * heard.beat)
        state = self.engine.state(walk)
        if toward is None:
            return self.canvas.render(state, inputs, width, height, zoom, angle)
        other, amount, crossfade = toward[0].net.state(walk), toward[1], toward[2]
        if not crossfade and state.blends_with(other):
            return self.canvas.render(state.blend(other, amount), inputs, width, height, zoom, angle)
        mine_frame = self.canvas.render(state, inputs, width, height, zoom, angle).astype(np.float32)
        their_frame = self.canvas.render(other, inputs, width, height, zoom, angle).astype(np.float32)
        return mine_frame + (their_frame - mine_frame) * np.float32(amount)

    def release(self) -> None:
        self.loader.close()
        self.look.release()
