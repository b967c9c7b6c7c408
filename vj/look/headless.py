"""A GL context and framebuffer with no window, for offline renders and tests (EGL; llvmpipe on a CPU)."""

from __future__ import annotations

import moderngl
import numpy as np

from vj.errors import VJError


def headless_context() -> moderngl.Context:
    """A standalone OpenGL 3.3+ context through EGL, with a clear error when the machine has none."""
    try:
        return moderngl.create_standalone_context(require=330, backend="egl")
    except Exception as error:  # moderngl raises bare Exceptions from its loaders
        raise VJError(
            f"no headless OpenGL (EGL) context: {str(error).splitlines()[0]}; "
            "install libegl1 and libgl1-mesa-dri (see README, Troubleshooting)"
        ) from None


class OffscreenTarget:
    """An RGB8 framebuffer of the output size whose pixels are read back as (h, w, 3) uint8, top row first."""

    def __init__(self, ctx: moderngl.Context, width: int, height: int):
        self.width, self.height = width, height
        self.framebuffer = ctx.framebuffer(color_attachments=[ctx.texture((width, height), 3)])  # a texture:
        # the outputs of a streamed render sample it
        self._buffer = np.empty((height, width, 3), dtype=np.uint8)

    def read(self) -> np.ndarray:
        """The picture, upright: GL's bottom row comes last. Returns a new array each call."""
        self.framebuffer.read_into(self._buffer, components=3, alignment=1)
        return self._buffer[::-1].copy()

    def release(self) -> None:
        self.framebuffer.color_attachments[0].release()
        self.framebuffer.release()
