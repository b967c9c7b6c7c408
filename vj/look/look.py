"""The look: GLSL passes that turn the engine's raw channels into the picture, on any moderngl context.

Live draws it into a window's framebuffer, offline into an EGL framebuffer that is read back, so files
look exactly like the show. Two passes:
- colour (shaders/colour.frag): upscale, kaleidoscope and mirror symmetry, palette, tone, and the
  feedback trail (the previous colour frame, scaled and turned);
- post (shaders/post.frag): chromatic shift, vignette and the strobe's flash, which stay out of the trail.
The colour frames ping-pong between two framebuffers while feedback is on, so the trail is read without
a copy. Without trails or chromatic shift the colour pass finishes the picture itself: one pass, since on
a software renderer each pass over the picture costs milliseconds. The look takes numpy frames, `FrameFeatures` and the live parameters; it knows nothing of torch.
"""

from __future__ import annotations

import math
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field

import moderngl
import numpy as np

from vj.audio.features import FrameFeatures
from vj.look.palettes import PALETTES, Palette
from vj.look.shaders import ShaderSet, set_uniform
from vj.look.strobe import DEFAULT_MAX_PER_S, StrobeGate

COLOUR, POST = "colour.frag", "post.frag"
CHROMA_SPAN = (0.004, 0.014)
"""The chromatic shift at full amount: this fraction of the picture off the beat, and on it."""


@dataclass(frozen=True)
class LookParams:
    """A preset's palette (its drift is the ``drift`` parameter, integrated into ``hue``)."""

    palette: Palette = field(default_factory=lambda: PALETTES["ember"])


def picture_buffer(ctx: moderngl.Context, size: tuple[int, int]) -> moderngl.Framebuffer:
    """An RGBA framebuffer, cleared to black, whose texture later passes sample with linear filtering."""
    texture = ctx.texture(size, 4)
    texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
    texture.repeat_x = texture.repeat_y = False
    framebuffer = ctx.framebuffer(color_attachments=[texture])
    framebuffer.clear(0.0, 0.0, 0.0, 1.0)
    return framebuffer


def release_picture(framebuffer: moderngl.Framebuffer) -> None:
    framebuffer.color_attachments[0].release()
    framebuffer.release()


class Look:
    """Uploads one engine frame and draws it through the colour and post passes into a framebuffer.

    Args:
        ctx: a moderngl context (a window's or a headless one).
        params: the preset's palette and hue drift.
        watch_shaders: reload shaders/*.frag when they change (live).
        strobe_limit: most strobe flashes a second (0: no limit).
    """

    def __init__(self, ctx: moderngl.Context, params: LookParams, watch_shaders: bool = False,
                 strobe_limit: float = DEFAULT_MAX_PER_S):
        self.ctx = ctx
        self.params = params
        self.shaders = ShaderSet(ctx, [COLOUR, POST], watch=watch_shaders)
        self.strobe = StrobeGate(strobe_limit)
        self.texture: moderngl.Texture | None = None
        self.next_texture: moderngl.Texture | None = None
        self._frames: list[moderngl.Framebuffer] = []  # colour frames: [this one, the last one] with feedback
        self._lut = ctx.texture((256, 1), 4)  # 8 bits a channel: the output is 8-bit, and it filters fastest
        self._lut.filter = (moderngl.LINEAR, moderngl.LINEAR)
        self._lut.repeat_x = self._lut.repeat_y = False
        self._lut_key: tuple | None = None
        self._last_time: float | None = None
        self._vaos: dict[int, moderngl.VertexArray] = {}

    def _upload(self, texture: moderngl.Texture | None, frame: np.ndarray) -> moderngl.Texture:
        """As half floats whatever the engine's precision: plenty for 0..1 channels, and a software
        renderer filters them about a third faster than floats. Returns the texture (new on a resize).
        A frame still on the GPU (`vj.render.interop.DeviceFrame`) copies itself in there."""
        if not isinstance(frame, np.ndarray):
            return frame.to_texture(self.ctx, texture)
        height, width, channels = frame.shape
        if texture is None or texture.size != (width, height):
            if texture is not None:
                texture.release()
            texture = self.ctx.texture((width, height), channels, dtype="f2")
            texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
            texture.repeat_x = texture.repeat_y = False
        texture.write(np.ascontiguousarray(frame, dtype=np.float16))
        return texture

    def _palette(self, choice: int, toward: tuple[LookParams, float] | None) -> None:
        """Upload the palette table when it changed: a shipped palette, or the preset's own (blended with
        the next preset's during a morph)."""
        if choice > 0:
            key = ("shipped", choice)
        else:
            key = ("own", id(self.params.palette)) + (() if toward is None else (id(toward[0].palette), round(toward[1], 3)))
        if key == self._lut_key:
            return
        self._lut_key = key
        if choice > 0:
            lut = list(PALETTES.values())[choice - 1].lut()
        else:
            lut = self.params.palette.lut()
            if toward is not None:
                lut = lut + (toward[0].palette.lut() - lut) * np.float32(toward[1])
        rgba = np.concatenate([lut, np.ones((len(lut), 1), np.float32)], axis=1)
        self._lut.write(np.ascontiguousarray(np.round(rgba * 255.0), np.uint8))

    def _vao(self, program: moderngl.Program) -> moderngl.VertexArray:
        key = id(program)
        if key not in self._vaos:
            live = {id(p) for p in self.shaders.programs.values()}
            for stale in [k for k in self._vaos if k not in live]:  # a reloaded shader's old program
                self._vaos.pop(stale).release()
            self._vaos[key] = self.ctx.vertex_array(program, [])
        return self._vaos[key]

    def _colour_frames(self, size: tuple[int, int], feedback: bool) -> list[moderngl.Framebuffer]:
        wanted = 2 if feedback else 1
        if self._frames and self._frames[0].size != size:
            self._release_frames()
        while len(self._frames) > wanted:
            release_picture(self._frames.pop())
        while len(self._frames) < wanted:
            self._frames.append(picture_buffer(self.ctx, size))  # black: turning feedback on never flashes
        return self._frames

    @property
    def shader_errors(self) -> dict[str, str]:
        return self.shaders.errors

    def draw(self, frame: np.ndarray, features: FrameFeatures, target: moderngl.Framebuffer,
             controls: Mapping[str, float], toward: tuple[LookParams, float] | None = None,
             next_frame: tuple[np.ndarray, float] | None = None) -> None:
        """Draw ``frame`` ((h, w, 3) floats in 0..1, row 0 at the top) into ``target``, upscaled to its size,
        with the live parameters in ``controls`` (``hue`` with the drift in it: see `look_controls`). In a preset change, ``toward`` is (the next preset's look,
        how far) and ``next_frame`` (a second frame of the same size, how much of its colours to mix in)."""
        self.shaders.check()
        self.texture = self._upload(self.texture, frame)
        next_amount = 0.0
        if next_frame is not None and next_frame[1] > 0.0:
            self.next_texture = self._upload(self.next_texture, next_frame[0])
            self.next_texture.use(3)
            next_amount = next_frame[1]
        self._palette(int(controls["palette"]), toward)
        dt = 0.0 if self._last_time is None else min(max(features.time - self._last_time, 0.0), 0.1)
        self._last_time = features.time
        aspect = target.size[0] / target.size[1]
        feedback = controls["feedback"]
        flash = self.strobe.flash(features.time, features.beat_phase, controls["strobe"])
        chroma = controls["chroma"] * (CHROMA_SPAN[0] + (CHROMA_SPAN[1] - CHROMA_SPAN[0]) * min(features.beat, 1.0))
        single = feedback <= 0.0 and chroma <= 0.0  # nothing needs the coloured frame: one pass
        frames = [] if single else self._colour_frames(target.size, feedback > 0.0)
        if single:
            self._release_frames()

        colour = self.shaders[COLOUR]
        for name, value in (
            ("cppn", 0), ("previous", 1), ("palette_lut", 2), ("cppn_next", 3), ("next_amount", next_amount),
            ("source_size", (frame.shape[1], frame.shape[0])),
            ("aspect", aspect), ("hue_shift", controls["hue"] % 2.0),
            ("contrast", controls["contrast"]), ("brightness", controls["brightness"]),
            ("symmetry", controls["symmetry"]), ("kaleidoscope", float(int(controls["kaleidoscope"]))),
            ("beat", features.beat), ("bass", features.bass), ("treble", features.treble), ("feedback", feedback),
            ("trail_scale", math.exp(controls["trail_zoom"] * dt)),
            ("trail_angle", 2.0 * math.pi * controls["trail_turn"] * dt),
            ("finish", single), ("vignette", controls["vignette"]), ("flash", flash),
        ):
            set_uniform(colour, name, value)
        self.texture.use(0)
        self._lut.use(2)
        if feedback > 0.0:
            frames[1].color_attachments[0].use(1)
        (target if single else frames[0]).use()
        self._vao(colour).render(moderngl.TRIANGLES, vertices=3)
        if single:
            return

        post = self.shaders[POST]
        for name, value in (("picture", 0), ("aspect", aspect), ("chroma", chroma),
                            ("vignette", controls["vignette"]), ("flash", flash)):
            set_uniform(post, name, value)
        frames[0].color_attachments[0].use(0)
        target.use()
        self._vao(post).render(moderngl.TRIANGLES, vertices=3)
        if feedback > 0.0:
            frames.reverse()  # this frame is the next one's trail

    def _release_frames(self) -> None:
        while self._frames:
            release_picture(self._frames.pop())

    def release(self) -> None:
        self._release_frames()
        for vao in self._vaos.values():
            vao.release()
        self.shaders.release()
        self._lut.release()
        for texture in (self.texture, self.next_texture):
            if texture is not None:
                texture.release()


def look_controls(params) -> Mapping[str, float]:
    """What the look reads of the registry (`vj.control.params.Params`): its values, with the palette's
    drift (the ``drift`` rate integrated over picture time, so changing it never jumps) added to ``hue``."""
    return ChainMap({"hue": params["hue"] + params.integrals["drift"]}, params.values)
