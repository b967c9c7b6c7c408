"""The present pass: a picture graded offscreen, scaled to the window. The look grades at a fraction of
the window (a software renderer pays per pixel for every pass); this one cheap bilinear pass fills it."""

from __future__ import annotations

import moderngl

from vj.look.shaders import load_shader


class Presenter:
    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self.program = ctx.program(vertex_shader=load_shader("fullscreen.vert"), fragment_shader=load_shader("image.frag"))
        self.program["framebuffer_rows"].value = True
        self.vao = ctx.vertex_array(self.program, [])

    def show(self, picture: moderngl.Framebuffer, window_size: tuple[int, int]) -> None:
        """Draw ``picture`` over the whole window (the screen framebuffer)."""
        self.show_texture(picture.color_attachments[0], (0, 0, *window_size))

    def show_texture(self, texture: moderngl.Texture, viewport: tuple[int, int, int, int]) -> None:
        """Draw a framebuffer's ``texture`` into ``viewport`` (x, y, width, height) of the window."""
        self.ctx.screen.use()
        self.ctx.viewport = viewport
        texture.use(0)
        self.vao.render(moderngl.TRIANGLES, vertices=3)

    def release(self) -> None:
        self.vao.release()
        self.program.release()
