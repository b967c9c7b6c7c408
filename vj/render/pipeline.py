"""Features and live parameters to picture for one frame: engine then look. The one piece live and
offline both drive."""

from __future__ import annotations

import math
from dataclasses import replace

import moderngl
import numpy as np

from vj.audio.features import FEATURE_NAMES, FrameFeatures
from vj.control.params import Params
from vj.engine.cppn import CPPN, frame_inputs
from vj.engine.device import select_device
from vj.look.look import Look
from vj.presets import Preset

_TIME = FEATURE_NAMES.index("time")
MORPH_SPAN = 30.0
"""The morph knob's full travel moves the net this far along its walk (in walk seconds: a few looks)."""


def reacting(features: FrameFeatures, params: Params) -> FrameFeatures:
    """The features as the picture hears them: each band and the beat scaled by its sensitivity."""
    return replace(features, bass=features.bass * params["bass"], mid=features.mid * params["mid"],
                   treble=features.treble * params["treble"], beat=features.beat * params["beat"])


class FramePipeline:
    """Builds the CPPN for a preset on a device and the look on a GL context.

    Args:
        preset: engine and look settings (already merged with any command-line overrides).
        device: 'auto', 'cuda' or 'cpu'.
        ctx: the GL context the look draws with.
    """

    def __init__(self, preset: Preset, device: str, ctx: moderngl.Context):
        self._device = select_device(device)
        self.params = preset.engine
        self.reseed(self.params.seed)
        self.look = Look(ctx, preset.look)

    def reseed(self, seed: int) -> None:
        """A new net (and walk) from ``seed``; the rest of the preset stays."""
        params = self.params
        # The walk runs at rate 1 in "walk time": the evolution parameter's integral over picture time,
        # so a change of rate never makes the walk jump.
        self.engine = CPPN(params.net, seed, *self._device, evolution=1.0, coord_scale=params.coord_scale,
                           output_gain=params.output_gain)

    def use_preset(self, preset: Preset) -> None:
        """Switch to ``preset``'s net and palette (its parameter values are the caller's to apply)."""
        self.params = preset.engine
        self.reseed(self.params.seed)
        self.look.params = preset.look

    @property
    def device(self) -> str:
        return self.engine.device.type

    def draw(self, features: FrameFeatures, internal: tuple[int, int], target: moderngl.Framebuffer,
             params: Params) -> None:
        """Render the net at the ``internal`` size and draw it through the look into ``target``."""
        heard = reacting(features, params)
        self.look.draw(self._net_frame(heard, *internal, params), heard, target, params)

    def _net_frame(self, heard: FrameFeatures, width: int, height: int, params: Params) -> np.ndarray:
        """The engine's raw (height, width, 3) channels for features already scaled by `reacting`."""
        engine = self.params
        inputs = frame_inputs(heard.vector(), _TIME) * np.float32(params["input_scale"])
        zoom = params["zoom"] * (1.0 + engine.bass_zoom * heard.bass + engine.beat_zoom * heard.beat)
        walk = params.integrals["evolution"] + MORPH_SPAN * params["morph"]
        angle = 2.0 * math.pi * params.integrals["rotation"]
        return self.engine.render(inputs, walk, width, height, zoom, angle)
