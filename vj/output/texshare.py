"""`--output spout` (Windows, SpoutGL) and `--output syphon` (macOS, syphon-python): the output texture
itself goes to Resolume, TouchDesigner or OBS on the same machine, GPU to GPU, with no copy through the
CPU. They run on the render thread, where the GL context is current.

The texture they get holds the picture top row first (`vj.output.readback` draws it so for the read-back),
which each library is told, so receivers see it upright. Neither OS is available to vj's tests: what runs
here is the refusal elsewhere; the calls follow each library's documented sender.
"""

from __future__ import annotations

import sys

from vj.errors import VJError

GL_TEXTURE_2D = 0x0DE1
NEEDS = {"spout": ("win32", "Windows", "SpoutGL", "spout"), "syphon": ("darwin", "macOS", "syphon-python", "syphon")}


def open_texture_share(kind: str, name: str):
    platform, system, package, extra = NEEDS[kind]
    if sys.platform != platform:
        raise VJError(f"--output {kind} shares textures on {system} only; here use --output ndi (any machine "
                      "on the network) or v4l2 (a virtual camera)")
    try:
        return SpoutSink(name) if kind == "spout" else SyphonSink(name)
    except ImportError:
        raise VJError(f"--output {kind} needs {package}: pip install 'vj[{extra}]'") from None


class SpoutSink:
    def __init__(self, name: str):
        import SpoutGL

        self.name = "spout"
        self._sender = SpoutGL.SpoutSender()
        self._sender.setSenderName(name)

    def send_texture(self, texture_id: int, size: tuple[int, int]) -> None:
        self._sender.sendTexture(texture_id, GL_TEXTURE_2D, size[0], size[1], False, 0)  # already top row first

    def close(self) -> None:
        self._sender.releaseSender()


class SyphonSink:
    def __init__(self, name: str):
        from syphon.server import SyphonOpenGLServer

        self.name = "syphon"
        self._server = SyphonOpenGLServer(name)

    def send_texture(self, texture_id: int, size: tuple[int, int]) -> None:
        self._server.publish_frame_texture(texture_id, size=size, is_flipped=True)  # top row first: flipped for GL

    def close(self) -> None:
        self._server.stop()
