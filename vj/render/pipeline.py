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
        torch_device, dtype = select_device(device)
        params = preset.engine
        self.engine = CPPN(
            params.net, params.seed, torch_device, dtype, evolution=params.evolution,
            coord_scale=params.coord_scale, output_gain=params.output_gain,
        )
        self.params = params
        self.look = Look(ctx, preset.look)

    @property
    def device(self) -> str:
        return self.engine.device.type

    def net_frame(self, features: FrameFeatures, width: int, height: int) -> np.ndarray:
        """The engine's raw (height, width, 3) channels for this frame."""
        params = self.params
        inputs = frame_inputs(features.vector(), _TIME) * np.float32(params.input_scale)
        zoom = 1.0 + params.bass_zoom * features.bass + params.beat_zoom * features.beat
        return self.engine.render(inputs, features.time, width, height, zoom)

    def draw(self, features: FrameFeatures, internal: tuple[int, int], target: moderngl.Framebuffer) -> None:
        """Render the net at the ``internal`` size and draw it through the look into ``target``."""
        self.look.draw(self.net_frame(features, *internal), features, target)
