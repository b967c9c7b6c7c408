"""The outputs' copy of the picture: the look's final frame scaled to the output size on the GPU, then read
back once a frame whatever the number of outputs.

The read-back goes into a ring of pixel buffer objects: the copy is queued with the frame and mapped a
frame later, when a GPU has long finished it, so the render thread does not wait for the transfer (on a
software renderer the copy is made at once either way). The scaling pass draws the picture upside down
for GL, so the rows come back top row first, as NDI and cameras want them, with no flip on the CPU.
"""

from __future__ import annotations

from collections import deque

import moderngl
import numpy as np

from vj.look.shaders import load_shader

RING = 2


class PixelTap:
    """Scales pictures to ``size`` and reads them back as (h, w, 4) uint8 RGBA, one frame late."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int]):
        self.ctx, self.size = ctx, size
        self.program = ctx.program(vertex_shader=load_shader("fullscreen.vert"),
                                   fragment_shader=load_shader("image.frag"))
        self.program["framebuffer_rows"].value = False  # upside down for GL: top row first in memory
        self.vao = ctx.vertex_array(self.program, [])
        self.target = ctx.framebuffer(color_attachments=[ctx.texture(size, 4)])
        self._buffers = [ctx.buffer(reserve=size[0] * size[1] * 4) for _ in range(RING)]
        self._pending: deque[tuple[int, object]] = deque()
        self._next = 0

    @property
    def texture(self) -> moderngl.Texture:
        """The scaled picture (top row first), for the texture-sharing outputs."""
        return self.target.color_attachments[0]

    def scale(self, picture: moderngl.Framebuffer) -> None:
        """Draw ``picture`` into the output-size target."""
        self.target.use()
        picture.color_attachments[0].use(0)
        self.vao.render(moderngl.TRIANGLES, vertices=3)

    def read(self, tag: object) -> tuple[np.ndarray, object] | None:
        """Queue the target's read-back with ``tag``; return the previous one (pixels, its tag), or None
        for the first frame."""
        buffer = self._next
        self.target.read_into(self._buffers[buffer], components=4, alignment=1)
        self._pending.append((buffer, tag))
        self._next = (buffer + 1) % RING
        if len(self._pending) < RING:
            return None
        done, done_tag = self._pending.popleft()
        width, height = self.size
        return np.frombuffer(self._buffers[done].read(), dtype=np.uint8).reshape(height, width, 4), done_tag

    def release(self) -> None:
        for buffer in self._buffers:
            buffer.release()
        self.texture.release()
        self.target.release()
        self.vao.release()
        self.program.release()
