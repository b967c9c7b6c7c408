"""Features and live parameters to picture for one frame: engine then look. The one piece live and
offline both drive.

Preset changes happen here, in picture time:
- a switch (the ``preset`` parameter) morphs from the playing preset to the next over ``transition``
  beats: through the nets in between where the nets have the same shape, or as a crossfade of the two
  pictures (``crossfade``, or nets of different shapes);
- the ``blend`` knob morphs the same way towards the ``cue`` preset, and back, under the performer's hand.
Presets load in the background (`vj.render.loader`); a transition starts at the first frame after the
new net is ready, and the preset's parameters glide along with it. Which frame that was is part of the
show's record (`took`): a replay takes each load at the same frame, however fast it loads there.

Why a morph goes through keyframes: a straight line between two gain-5 nets passes through many unrelated
pictures (each hidden layer amplifies a change about threefold), so rendering it frame by frame flickers,
with whole-frame brightness jumps that could count as flashes. The morph instead visits a few nets on
that line (``KEYFRAME_S`` apart in time, ``KNOB_KEYFRAMES`` along the blend knob) and crossfades the
pictures of the two it is between: every frame a small step, and the picture still melts through the
nets in between. The walk holds still while a morph runs (the nets in between would amplify its drift
into flicker) and resumes where it stopped, without a jump.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path

import moderngl
import numpy as np

from vj.audio.features import FEATURE_NAMES, FrameFeatures
from vj.control.params import Params
from vj.control.standard import apply_preset
from vj.engine.cppn import Canvas, frame_inputs
from vj.engine.device import select_device
from vj.engine.net import Layers
from vj.look.look import Look, LookParams, look_controls
from vj.look.strobe import DEFAULT_MAX_PER_S
from vj.presets import Preset
from vj.render.interop import CHANNELS, DeviceFrame, device_frames_available
from vj.render.loader import LoadedPreset, PresetLoader, build_net, outcome

_TIME = FEATURE_NAMES.index("time")
MORPH_SPAN = 30.0
"""The morph knob's full travel moves the net this far along its walk (in walk seconds: a few looks)."""
KEYFRAME_S = 0.5
"""A switch's morph visits a net on the way every this many seconds (at least the two ends)."""
KNOB_KEYFRAMES = 8
"""The blend knob's travel visits this many nets on the way."""
LOAD_TIMEOUT_S = 60.0
"""A replay waits this long for a preset the show had loaded by then."""
DEFAULT_BPM = 120.0
"""The tempo a transition counts its beats in before the tracker has locked."""


def reacting(features: FrameFeatures, params: Params) -> FrameFeatures:
    """The features as the picture hears them: each band and the beat scaled by its sensitivity."""
    return replace(features, bass=features.bass * params["bass"], mid=features.mid * params["mid"],
                   treble=features.treble * params["treble"], beat=features.beat * params["beat"])


def ease(x: float) -> float:
    """Smoothstep: a transition leaves and lands gently."""
    x = min(max(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


@dataclass(frozen=True)
class _Toward:
    """A frame between the playing preset and ``to``: ``amount`` of the way (0..1), by crossfading the two
    pictures or through ``keyframes`` segments of the weight path."""

    to: LoadedPreset
    amount: float
    crossfade: bool
    keyframes: int


@dataclass(frozen=True)
class PreparedFrame:
    """One frame's net pictures and what the look needs to colour them, fixed when they were made."""

    frame: np.ndarray | DeviceFrame
    heard: FrameFeatures
    controls: dict[str, float]
    look: LookParams
    toward: tuple[LookParams, float] | None
    next_frame: tuple[np.ndarray | DeviceFrame, float] | None


@dataclass
class _Transition:
    to: LoadedPreset
    start: float
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
        mixed: let nets run their last layers in bf16 where that keeps the picture (`vj.engine.forward`).
        compiled: run the net under torch.compile (offline: a new net pattern compiles for seconds).
        workers: chunks the net runs at once on the CPU (`vj.engine.cppn.Canvas`); None: one per core.
        weights: the preset's pinned weights, already read (None: the preset reads its own file, if any).
    """

    def __init__(self, preset: Preset, device: str, ctx: moderngl.Context, net: str | None = None,
                 watch_shaders: bool = False, strobe_limit: float = DEFAULT_MAX_PER_S, mixed: bool = True,
                 compiled: bool = False, workers: int | None = None, weights: Layers | None = None):
        self._device = select_device(device)
        self.mixed = mixed
        self.canvas = Canvas(*self._device, compiled=compiled, workers=workers)
        self.preset = preset
        pinned = None if weights is None else (preset.engine.net, weights)
        self.engine = build_net(preset, self._device, net=pinned, mixed=mixed)
        self.look = Look(ctx, preset.look, watch_shaders, strobe_limit)
        self.device_frames = self._device[0].type == "cuda" and device_frames_available(ctx)
        """Whether frames go from CUDA into the look's textures directly (`vj.render.interop`)."""
        self.loader = PresetLoader(self._device, net, mixed)
        self.transition: _Transition | None = None
        self.cued: LoadedPreset | None = None
        self.problem = ""
        """The last preset that failed to load, as one line (for the HUD); empty when none."""
        self.walk = 0.0
        """Where the show's walk was at the last frame (walk seconds)."""
        self._origin = 0.0  # the show's walk when the playing preset arrived: each preset walks from 0
        self._walk_held: float | None = None  # the walk's place while a morph runs
        self._walk_skipped = 0.0  # walk time that passed while held, so the walk resumes where it stopped
        self._switching: tuple[Future, int, bool] | None = None  # (the load, beats, crossfade)
        self._cueing: tuple[str, Future | None] | None = None  # (name, its load; None once it failed)
        self.took: list[str] = []
        """The loads ('switch', 'cue') that came in at the last frame drawn."""
        self._preset_index: int | None = None

    @property
    def seed(self) -> int:
        """The seed the show's reseeds have reached (the playing preset's, once one arrives)."""
        return self.engine.seed

    @property
    def device(self) -> str:
        return self.engine.device.type

    def reseed(self, seed: int) -> None:
        """A new net (and walk) from ``seed``; the rest of the preset stays."""
        self.engine = build_net(self.preset, self._device, seed, mixed=self.mixed)

    def follow(self, params: Params, presets: list[str]) -> None:
        """Do what the triggers and choices in ``params`` ask, once a frame before drawing: a reseed, a
        switch to the ``preset`` chosen (by its index in ``presets``), the ``cue`` while ``blend`` is up."""
        if params.fired("reseed"):
            self.reseed(self.seed + 1)
        index = int(params["preset"])
        if self._preset_index is None:
            self._preset_index = index  # the show starts on it: nothing to switch to
        elif index != self._preset_index:
            self._preset_index = index
            self.switch(presets[index], int(params["transition"]), bool(params["crossfade"]))
        if params["blend"] > 0.0:
            self.cue(presets[int(params["cue"])])

    def switch(self, name: str, beats: int, crossfade: bool) -> None:
        """Start loading ``name``; when it is ready, morph to it over ``beats`` beats (0: cut). A newer
        switch replaces one still loading (and cancels it if it has not started)."""
        if self._switching is not None:
            self._switching[0].cancel()
        self._switching = (self.loader.request(name), beats, crossfade)

    def cue(self, name: str) -> None:
        """Load ``name`` as the preset the blend knob morphs towards (once: asking again is free, and a
        preset that failed is not read again until another is cued)."""
        if self.cued is not None and self.cued.preset.name == Path(name).stem:
            return
        if self._cueing is None or self._cueing[0] != name:
            if self._cueing is not None and self._cueing[1] is not None:
                self._cueing[1].cancel()
            self.cued = None
            self._cueing = (name, self.loader.request(name))

    def wait_for_loads(self, timeout_s: float = 60.0) -> None:
        """Block until the presets being loaded are ready (or failed): offline renders, tests, benches."""
        for future in [self._switching and self._switching[0], self._cueing and self._cueing[1]]:
            if future is not None and not future.cancelled():
                future.exception(timeout=timeout_s)

    def _take(self, kind: str, future: Future, take: Collection[str] | None) -> LoadedPreset | str | None:
        """A load's outcome if it comes in now: when it has finished (live), or when ``take`` names it (a
        replay: it waits for the load then, and takes nothing else)."""
        if take is not None:
            if kind not in take:
                return None
            if not future.cancelled():
                future.exception(timeout=LOAD_TIMEOUT_S)
        result = outcome(future)
        if result is not None:
            self.took.append(kind)
        return result

    def _follow_loads(self, features: FrameFeatures, params: Params, take: Collection[str] | None) -> None:
        """Take up presets that finished loading: a failure is `problem`, the playing preset plays on."""
        self.took = []
        if self._cueing is not None and self._cueing[1] is not None:
            result = self._take("cue", self._cueing[1], take)
            if isinstance(result, str):
                self.problem, self._cueing = result, (self._cueing[0], None)  # remembered: not read again
            elif result is not None:
                self.problem, self.cued, self._cueing = "", result, None
        if self._switching is None:
            return
        future, beats, crossfade = self._switching
        result = self._take("switch", future, take)
        if result is None:
            return
        self._switching = None
        if isinstance(result, str):
            self.problem = result
            return
        self.problem = ""
        bpm = features.tempo_bpm if features.tempo_bpm > 0 else DEFAULT_BPM
        seconds = beats * 60.0 / bpm
        if seconds <= 0:
            self._arrive(result)
            apply_preset(params, result.preset)
        else:
            self.transition = _Transition(result, features.time, seconds, crossfade)
            apply_preset(params, result.preset, glide_s=seconds / 3.0, smoothed=True)

    @property
    def preset_walk(self) -> float:
        """How far the playing preset has walked since it arrived: a pinned preset opens on its saved
        picture (at 0) whenever it arrives, and a saved preset is pinned at this point of its walk."""
        return self.walk - self._origin

    def _arrive(self, loaded: LoadedPreset) -> None:
        self._origin = self.walk  # held through the morph: the arriving net was drawn at 0 of its walk
        self.preset, self.engine = loaded.preset, loaded.net
        self.transition = None

    def _toward(self, t: float, params: Params) -> _Toward | None:
        """What the frame morphs towards and how; None for the preset alone."""
        transition = self.transition
        if transition is not None:
            amount = ease((t - transition.start) / transition.seconds)
            if amount >= 1.0:
                self._arrive(transition.to)
                apply_preset(params, transition.to.preset, smoothed=False)  # the choices land with it
                return None
            keyframes = max(1, int(transition.seconds / KEYFRAME_S))
            return _Toward(transition.to, amount, transition.crossfade, keyframes)
        if self.cued is not None and params["blend"] > 0.0:
            return _Toward(self.cued, params["blend"], bool(params["crossfade"]), KNOB_KEYFRAMES)
        return None

    def draw(self, features: FrameFeatures, internal: tuple[int, int], target: moderngl.Framebuffer,
             params: Params, take: Collection[str] | None = None) -> None:
        """Render the net at the ``internal`` size and draw it through the look into ``target``. Loads
        that finished come in first (``take`` names the ones to wait for and take instead: a replay)."""
        self.present(self.prepare(features, internal, params, take), target)

    def prepare(self, features: FrameFeatures, internal: tuple[int, int], params: Params,
                take: Collection[str] | None = None) -> PreparedFrame:
        """The engine's half of `draw`, with no GL: an offline render runs it for the next frame on
        another thread while this one goes through the look."""
        heard, toward = self._advance(features, params, take)
        frame, next_frame = self._net_frames(heard, *internal, params, toward)
        return PreparedFrame(frame, heard, dict(look_controls(params)), self.preset.look,
                             None if toward is None else (toward.to.preset.look, toward.amount), next_frame)

    def keep_up(self, features: FrameFeatures, params: Params, take: Collection[str] | None = None) -> None:
        """What `prepare` carries to the next frame (loads taken, morphs begun and landed, the walk),
        without drawing: a part of a replay rendered apart catches up to its first frame this way."""
        self._advance(features, params, take)

    def _advance(self, features: FrameFeatures, params: Params, take: Collection[str] | None
                 ) -> tuple[FrameFeatures, _Toward | None]:
        self._follow_loads(features, params, take)
        heard = reacting(features, params)
        toward = self._toward(features.time, params)
        self.walk = self._walk(params, toward is not None)
        return heard, toward

    def present(self, prepared: PreparedFrame, target: moderngl.Framebuffer) -> None:
        """The look's half of `draw`: on the GL thread, in frame order."""
        self.look.params = prepared.look
        self.look.draw(prepared.frame, prepared.heard, target, prepared.controls, prepared.toward,
                       prepared.next_frame)

    def draw_other(self, loaded: LoadedPreset, look: Look, features: FrameFeatures, size: tuple[int, int],
                   target: moderngl.Framebuffer, params: Params) -> None:
        """``loaded`` (a preset not playing) at the start of its walk, as it would react to ``features``
        with the show's live parameters, drawn with ``look`` (not the show's: its trails are its own) into
        ``target``: the performer's glimpse of the next preset."""
        heard = reacting(features, params)
        inputs = frame_inputs(heard.vector(), _TIME) * np.float32(params["input_scale"])
        frame = self.canvas.render(loaded.net.state(0.0), inputs, *size, params["zoom"], 0.0)
        look.params = loaded.preset.look
        look.draw(frame, heard, target, look_controls(params))

    def _net_frames(self, heard: FrameFeatures, width: int, height: int, params: Params,
                    toward: _Toward | None) -> tuple[np.ndarray, tuple[np.ndarray, float] | None]:
        """The engine's raw (height, width, 3) channels for features already scaled by `reacting`, and in a
        preset change the second frame and how much of it the look mixes in (after colouring)."""
        inputs = frame_inputs(heard.vector(), _TIME) * np.float32(params["input_scale"])
        walk = self.preset_walk
        angle = 2.0 * math.pi * params.integrals["rotation"]
        mine = self.preset.engine
        bass_zoom, beat_zoom = mine.bass_zoom, mine.beat_zoom
        if toward is not None:
            theirs = toward.to.preset.engine
            bass_zoom += (theirs.bass_zoom - bass_zoom) * toward.amount
            beat_zoom += (theirs.beat_zoom - beat_zoom) * toward.amount
        zoom = params["zoom"] * (1.0 + bass_zoom * heard.bass + beat_zoom * heard.beat)
        def render(state):
            if self.device_frames:
                return DeviceFrame(self.canvas.render(state, inputs, width, height, zoom, angle, CHANNELS))
            return self.canvas.render(state, inputs, width, height, zoom, angle)

        state = self.engine.state(walk)
        if toward is None:
            return render(state), None
        other = toward.to.net.state(0.0)  # the walk holds while morphing: the incoming preset at its start
        if toward.crossfade or not state.blends_with(other):
            near, far, part = state, other, toward.amount
        else:  # between two keyframes on the weight path
            position = toward.amount * toward.keyframes
            segment = min(int(position), toward.keyframes - 1)
            near = state.blend(other, segment / toward.keyframes)
            far = state.blend(other, (segment + 1) / toward.keyframes)
            part = position - segment
        return render(near), (render(far), part) if part > 0.0 else None

    def _walk(self, params: Params, morphing: bool) -> float:
        """The evolution rate integrated over picture time plus the morph knob, held while ``morphing``."""
        walk = params.integrals["evolution"] + MORPH_SPAN * params["morph"] - self._walk_skipped
        if morphing:
            if self._walk_held is None:
                self._walk_held = walk
            return self._walk_held
        if self._walk_held is not None:
            self._walk_skipped += walk - self._walk_held
            walk, self._walk_held = self._walk_held, None
        return walk

    def release(self) -> None:
        self.loader.close()
        self.look.release()
