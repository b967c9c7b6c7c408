"""The HUD: a translucent panel in the top-left corner with the figures a VJ checks mid-show.

Text is laid out with Pillow a few times a second (text rendering is the slow part); the level meter and
the beat light change every frame, so they are drawn onto a copy of the cached text panel before upload.
"""

from __future__ import annotations

from dataclasses import dataclass

import moderngl
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vj.look.shaders import load_shader

TEXT_INTERVAL_S = 0.25
PAD, LINE, METER_H = 10, 20, 10
BACKGROUND = (0, 0, 0, 170)
TEXT, WARNING = (235, 235, 235, 255), (255, 170, 60, 255)


@dataclass
class HudState:
    """What the HUD shows; the loop fills it in each frame."""

    fps: float = 0.0
    frame_ms: float = 0.0
    """Time spent making the last frame (before waiting for its deadline)."""
    budget_ms: float = 0.0
    internal: tuple[int, int] = (0, 0)
    window: tuple[int, int] = (0, 0)
    bpm: float = 0.0
    beat_source: str = "audio"
    level: float = 0.0
    """Input level, 0..1 on a dB scale (-60..0 dBFS)."""
    beat: float = 0.0
    device: str = ""
    status: str = ""
    lines: tuple[str, ...] = ()
    """More lines: the controls (MIDI ports, OSC, a knob waiting for pickup, the last change) or the key map."""
    warnings: tuple[str, ...] = ()
    figures: bool = True
    """The show's figures (fps, sizes, tempo, input, meters); `vj evolve` shows only its own lines."""


class Hud:
    """Draws a `HudState` over whatever is in the current framebuffer."""

    def __init__(self, ctx: moderngl.Context, scale: float = 1.0):
        self.ctx = ctx
        self.scale = scale
        self.font = ImageFont.load_default(size=round(15 * scale))
        self.program = ctx.program(vertex_shader=load_shader("fullscreen.vert"),
                                   fragment_shader=load_shader("image.frag"))
        self.program["framebuffer_rows"].value = False
        self.vao = ctx.vertex_array(self.program, [])
        self.texture: moderngl.Texture | None = None
        self._panel: Image.Image | None = None
        self._lines: list[tuple[str, tuple]] = []
        self._text_at = -1.0

    def draw(self, state: HudState, now: float, framebuffer_size: tuple[int, int]) -> None:
        if self._panel is None or now - self._text_at >= TEXT_INTERVAL_S:
            self._layout(state)
            self._text_at = now
        image = self._panel.copy()
        if state.figures:
            self._draw_meters(ImageDraw.Draw(image), state)
        width, height = image.size
        if self.texture is None or self.texture.size != (width, height):
            if self.texture is not None:
                self.texture.release()
            self.texture = self.ctx.texture((width, height), 4)
            self.texture.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self.texture.write(image.tobytes())
        margin = round(PAD * self.scale)
        self.ctx.viewport = (margin, framebuffer_size[1] - height - margin, width, height)
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        self.texture.use(0)
        self.vao.render(moderngl.TRIANGLES, vertices=3)
        self.ctx.disable(moderngl.BLEND)
        self.ctx.viewport = (0, 0, *framebuffer_size)

    def _layout(self, state: HudState) -> None:
        s = self.scale
        lines = [
            (f"{state.fps:5.1f} fps   work {state.frame_ms:4.1f} / {state.budget_ms:4.1f} ms", TEXT),
            (f"CPPN {state.internal[0]}x{state.internal[1]}  ->  {state.window[0]}x{state.window[1]}", TEXT),
            (f"{state.bpm:6.1f} BPM ({state.beat_source})" if state.bpm else f"  no beat ({state.beat_source})", TEXT),
            (f"in: {state.device}"[:48], TEXT),
        ] if state.figures else []
        columns = 48 if state.figures else 90
        if state.status:
            lines.append((state.status[:columns], TEXT))
        lines += [(line[:columns], TEXT) for line in state.lines]
        lines += [(w[:columns], WARNING) for w in state.warnings]
        width = round(330 * s) if state.figures else round(2 * PAD * s + max(self.font.getlength(t) for t, _ in lines))
        height = round((2 * PAD + LINE * len(lines) + (METER_H + 6 if state.figures else 0)) * s)
        panel = Image.new("RGBA", (width, height), BACKGROUND)
        draw = ImageDraw.Draw(panel)
        for row, (text, colour) in enumerate(lines):
            draw.text((round(PAD * s), round((PAD + LINE * row) * s)), text, font=self.font, fill=colour)
        self._panel = panel

    def _draw_meters(self, draw: ImageDraw.ImageDraw, state: HudState) -> None:
        s = self.scale
        width, height = self._panel.size
        top = height - round((PAD + METER_H) * s)
        left, right = round(PAD * s), width - round((PAD + 2 * METER_H) * s)
        bottom = top + round(METER_H * s)
        draw.rectangle((left, top, right, bottom), fill=(60, 60, 60, 255))
        level = float(np.clip(state.level, 0.0, 1.0))
        colour = (90, 220, 90, 255) if level < 0.85 else (255, 80, 60, 255)
        draw.rectangle((left, top, left + round((right - left) * level), bottom), fill=colour)
        glow = int(60 + 195 * float(np.clip(state.beat, 0.0, 1.0)))
        cx, r = width - round((PAD + METER_H) * s), round(METER_H * s * 0.8)
        cy = (top + bottom) // 2
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(glow, glow, 40, 255))
