"""The look: GLSL passes that turn the engine's raw channels into the picture, on any moderngl context.

Live draws it into a window's framebuffer, offline into an EGL framebuffer that is read back, so files
look exactly like the show. The look takes numpy frames, `FrameFeatures` and the live parameters
(hue, palette, brightness, contrast, symmetry, feedback); it knows nothing of torch.
"""

from __future__ import annotations

from collections.abc import Mapping
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

    def palette(self) -> tuple[tuple[float, float, float], ...]:
        return self.palette_a, self.palette_b, self.palette_c, self.palette_d


PALETTES: dict[str, tuple[tuple[float, float, float], ...]] = {
    # Inigo Quilez's cosine palettes (a, b, c, d): the `palette` parameter picks one; 0 is the preset's own.
    "rainbow": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5), (1.0, 1.0, 1.0), (0.0, 0.33, 0.67)),
    "ember": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5), (1.0, 1.0, 1.0), (0.0, 0.10, 0.20)),
    "dusk": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5), (1.0, 1.0, 1.0), (0.3, 0.20, 0.20)),
    "lagoon": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5), (1.0, 1.0, 0.5), (0.8, 0.90, 0.30)),
    "citrus": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5), (1.0, 0.7, 0.4), (0.0, 0.15, 0.20)),
    "acid": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5), (2.0, 1.0, 0.0), (0.5, 0.20, 0.25)),
    "rust": ((0.8, 0.5, 0.4), (0.2, 0.4, 0.2), (2.0, 1.0, 1.0), (0.0, 0.25, 0.25)),
    "ice": ((0.55, 0.65, 0.75), (0.35, 0.35, 0.30), (1.0, 1.0, 1.0), (0.55, 0.60, 0.65)),
}


def load_shader(name: str) -> str:
    path = resource_dir("shaders") / name
    try:
        return path.read_text()
    except OSError as error:
        raise VJError(f"shader {path} cannot be read ({error.strerror}); reinstall vj") from None


def picture_buffer(ctx: moderngl.Context, size: tuple[int, int]) -> moderngl.Framebuffer:
    """An RGBA framebuffer, cleared to black, whose texture later passes sample with linear filtering."""
    texture = ctx.texture(size, 4)
    texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
    framebuffer = ctx.framebuffer(color_attachments=[texture])
    framebuffer.clear(0.0, 0.0, 0.0, 1.0)
    return framebuffer


def release_picture(framebuffer: moderngl.Framebuffer) -> None:
    framebuffer.color_attachments[0].release()
    framebuffer.release()


class Look:
    """Uploads one engine frame, runs the palette + upscale pass, draws into a framebuffer.

    Args:
        ctx: a moderngl context (a window's or a headless one).
        params: the preset's palette and hue drift.
    """

    def __init__(self, ctx: moderngl.Context, params: LookParams):
        self.ctx = ctx
        self.params = params
        self.program = ctx.program(
            vertex_shader=load_shader("fullscreen.vert"), fragment_shader=load_shader("palette.frag")
        )
        self.vao = ctx.vertex_array(self.program, [])
        self.texture: moderngl.Texture | None = None
        self._trail: moderngl.Framebuffer | None = None
        self.program["cppn"].value = 0
        self.program["previous"].value = 1

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

    def draw(self, frame: np.ndarray, features: FrameFeatures, target: moderngl.Framebuffer,
             controls: Mapping[str, float]) -> None:
        """Draw ``frame`` ((h, w, 3) floats in 0..1, row 0 at the top) into ``target``, upscaled to its size,
        with the live parameters in ``controls``."""
        self._upload(frame)
        program = self.program
        choice = int(controls["palette"])
        palette = self.params.palette() if choice == 0 else list(PALETTES.values())[choice - 1]
        for name, value in zip(("palette_a", "palette_b", "palette_c", "palette_d"), palette):
            program[name].value = value
        program["source_size"].value = (frame.shape[1], frame.shape[0])
        program["hue_shift"].value = (self.params.hue_rate * features.time + controls["hue"]) % 1.0
        program["contrast"].value = controls["contrast"]
        program["brightness"].value = controls["brightness"]
        program["symmetry"].value = controls["symmetry"]
        program["beat"].value = features.beat
        program["bass"].value = features.bass
        program["treble"].value = features.treble
        self.texture.use(0)
        feedback = controls["feedback"]
        program["feedback"].value = feedback
        if feedback <= 0.0:
            self._release_trail()
        else:  # the trail is the last frame: read while drawing this one, then this one is kept
            if self._trail is None or self._trail.size != target.size:
                self._release_trail()
                self._trail = picture_buffer(self.ctx, target.size)  # black: turning feedback on never flashes
            self._trail.color_attachments[0].use(1)
        target.use()
        self.vao.render(moderngl.TRIANGLES, vertices=3)
        if self._trail is not None:
            self.ctx.copy_framebuffer(self._trail, target)

    def _release_trail(self) -> None:
        if self._trail is not None:
            release_picture(self._trail)
            self._trail = None

    def release(self) -> None:
        self._release_trail()
        for resource in (self.texture, self.vao, self.program):
            if resource is not None:
                resource.release()
