"""The look: GLSL passes that turn the engine's raw channels into the picture, on any moderngl context.

Live draws it into a window's framebuffer, offline into an EGL framebuffer that is read back, so files
look exactly like the show. The look takes numpy frames and `FrameFeatures`; it knows nothing of torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import moderngl
import numpy as np

from vj.audio.features import FrameFeatures
from vj.errors import VJError
from vj.resources import resource_dir


@dataclass(frozen=True)
class LookParams:
    """How the channels become colour: a cosine palette a + b*cos(2*pi*(c*t + d)) and tone controls."""

    palette_a: tuple[float, float, float] = (0.5, 0.5, 0.5)
    palette_b: tuple[float, float, float] = (0.5, 0.5, 0.5)
    palette_c: tuple[float, float, float] = (1.0, 1.0, 1.0)
    palette_d: tuple[float, float, float] = (0.0, 0.1, 0.2)
    hue_rate: float = 0.01
    """Palette turns per second, so colours drift slowly over a song."""
    contrast: float = 1.1
    brightness: float = 1.0


def load_shader(name: str) -> str:
    path = resource_dir("shaders") / name
    try:
        return path.read_text()
    except OSError as error:
        raise VJError(f"shader {path} cannot be read ({error.strerror}); reinstall vj") from None


class Look:
    """Uploads one engine frame, runs the palette + upscale pass, draws into a framebuffer.

    Args:
        ctx: a moderngl context (a window's or a headless one).
        params: the palette and tone settings.
    """

    def __init__(self, ctx: moderngl.Context, params: LookParams):
        self.ctx = ctx
        self.params = params
        self.program = ctx.program(
            vertex_shader=load_shader("fullscreen.vert"), fragment_shader=load_shader("palette.frag")
        )
        self.vao = ctx.vertex_array(self.program, [])
        self.texture: moderngl.Texture | None = None
        for name in ("palette_a", "palette_b", "palette_c", "palette_d", "contrast", "brightness"):
            self.program[name].value = getattr(params, name)

    def _upload(self, frame: np.ndarray) -> None:
        """As half floats whatever the engine's precision: plenty for 0..1 channels, and a software
        renderer filters them about a third faster than floats."""
        height, width, channels = frame.shape
        if self.texture is None or self.texture.size != (width, height):
            if self.texture is not None:
                self.texture.release()
            self.texture = self.ctx.texture((width, height), channels, dtype="f2")
            self.texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
            self.texture.repeat_x = self.texture.repeat_y = False
        self.texture.write(np.ascontiguousarray(frame, dtype=np.float16))

    def draw(self, frame: np.ndarray, features: FrameFeatures, target: moderngl.Framebuffer) -> None:
        """Draw ``frame`` ((h, w, 3) floats in 0..1, row 0 at the top) into ``target``, upscaled to its size."""
        self._upload(frame)
        program = self.program
        program["source_size"].value = (frame.shape[1], frame.shape[0])
        program["hue_shift"].value = (self.params.hue_rate * features.time) % 1.0
        program["beat"].value = features.beat
        program["bass"].value = features.bass
        program["treble"].value = features.treble
        target.use()
        self.texture.use(0)
        program["cppn"].value = 0
        self.vao.render(moderngl.TRIANGLES, vertices=3)

    def release(self) -> None:
        for resource in (self.texture, self.vao, self.program):
            if resource is not None:
                resource.release()
