"""Features to picture for one frame: engine then look. The one piece live and offline both drive."""

from __future__ import annotations

import moderngl
import numpy as np

from vj.audio.features import FEATURE_NAMES, FrameFeatures
from vj.engine.cppn import CPPN, frame_inputs
from vj.engine.device import select_device
from vj.look.look import Look
from vj.presets import Preset

_TIME = FEATURE_NAMES.index("time")


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
        # The walk runs at rate 1 in "walk time": callers pass evolution x time (`net_frame`'s ``walk``),
        # so live can change the rate without the walk jumping.
        self.engine = CPPN(params.net, seed, *self._device, evolution=1.0, coord_scale=params.coord_scale,
                           output_gain=params.output_gain)

    @property
    def device(self) -> str:
        return self.engine.device.type

    def net_frame(self, features: FrameFeatures, width: int, height: int, walk: float | None = None) -> np.ndarray:
        """The engine's raw (height, width, 3) channels for this frame.

        ``walk`` is how far the evolution walk has gone; by default the preset's rate times the frame's time.
        """
        params = self.params
        inputs = frame_inputs(features.vector(), _TIME) * np.float32(params.input_scale)
        zoom = 1.0 + params.bass_zoom * features.bass + params.beat_zoom * features.beat
        walk = params.evolution * features.time if walk is None else walk
        return self.engine.render(inputs, walk, width, height, zoom)

    def draw(self, features: FrameFeatures, internal: tuple[int, int], target: moderngl.Framebuffer) -> None:
        """Render the net at the ``internal`` size and draw it through the look into ``target``."""
        self.look.draw(self.net_frame(features, *internal), features, target)
