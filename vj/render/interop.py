"""The net's frame from CUDA memory into the look's GL texture, without a trip through the host.

On a GPU the copy of a frame to the host and back up into a texture costs more than drawing it (at 4K:
about 40 ms down and 25 ms up, against 14 ms for the net). CUDA can write into a GL texture registered
with it (CUDA-GL interop), when the GL context runs on the same GPU (an NVIDIA driver's EGL or GLX, not a
software renderer). The CUDA runtime is reached through ctypes: it is the one torch already loaded.
Where any of this is missing, `device_frames_available` says no and frames go through the host as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import weakref

import moderngl
import numpy as np
import torch

GL_TEXTURE_2D = 0x0DE1
REGISTER_WRITE_DISCARD = 2
MEMCPY_DEVICE_TO_DEVICE = 3
CHANNELS = 4
"""A registered texture has 1, 2 or 4 channels: the frame carries a fourth the look ignores."""


def _runtime() -> ctypes.CDLL | None:
    """The CUDA runtime torch loaded (its exact file, found in this process's mappings), else None."""
    if not torch.cuda.is_available():
        return None
    torch.cuda.init()
    paths = []
    try:
        with open("/proc/self/maps") as maps:
            paths = [line.split()[-1] for line in maps if "libcudart" in line]
    except OSError:
        pass
    for path in paths + [ctypes.util.find_library("cudart") or ""]:
        if path:
            try:
                return ctypes.CDLL(path)
            except OSError:
                continue
    return None


class _Cuda:
    """The six runtime calls interop needs, each checked: a non-zero status raises RuntimeError."""

    def __init__(self, lib: ctypes.CDLL):
        self.lib = lib
        p, u, s = ctypes.c_void_p, ctypes.c_uint, ctypes.c_size_t
        signatures = {
            "cudaGraphicsGLRegisterImage": [ctypes.POINTER(p), u, u, u],
            "cudaGraphicsUnregisterResource": [p],
            "cudaGraphicsMapResources": [ctypes.c_int, ctypes.POINTER(p), p],
            "cudaGraphicsUnmapResources": [ctypes.c_int, ctypes.POINTER(p), p],
            "cudaGraphicsSubResourceGetMappedArray": [ctypes.POINTER(p), p, u, u],
            "cudaMemcpy2DToArrayAsync": [p, s, s, p, s, s, s, ctypes.c_int, p],
        }
        for name, args in signatures.items():
            function = getattr(lib, name)
            function.argtypes, function.restype = args, ctypes.c_int

    def __call__(self, name: str, *args) -> None:
        status = getattr(self.lib, name)(*args)
        if status != 0:
            raise RuntimeError(f"{name} failed with CUDA error {status}")


_cuda: _Cuda | None = None


def _cuda_runtime() -> _Cuda | None:
    global _cuda
    if _cuda is None:
        lib = _runtime()
        _cuda = _Cuda(lib) if lib is not None else None
    return _cuda


class _Registered:
    """A texture's registration with CUDA."""

    def __init__(self, cuda: _Cuda, texture: moderngl.Texture):
        self.cuda, self.resource = cuda, ctypes.c_void_p()
        cuda("cudaGraphicsGLRegisterImage", ctypes.byref(self.resource), texture.glo, GL_TEXTURE_2D,
             REGISTER_WRITE_DISCARD)

    def unregister(self) -> None:
        try:
            self.cuda("cudaGraphicsUnregisterResource", self.resource)
        except RuntimeError:
            pass  # the context went first: nothing left to free


_registered: weakref.WeakKeyDictionary[moderngl.Texture, _Registered] = weakref.WeakKeyDictionary()
"""Textures registered so far; a texture released by its owner (the look, at the end) leaves with it."""


class DeviceFrame:
    """A frame still in CUDA memory: (height, width, 4) half floats, red, green, blue and a spare."""

    def __init__(self, pixels: torch.Tensor):
        if pixels.ndim != 3 or pixels.shape[2] != CHANNELS or pixels.dtype != torch.float16:
            raise ValueError(f"a device frame is (h, w, {CHANNELS}) float16, not {pixels.dtype} {tuple(pixels.shape)}")
        self.pixels = pixels.contiguous()
        self.shape = (pixels.shape[0], pixels.shape[1], 3)

    def to_texture(self, ctx: moderngl.Context, texture: moderngl.Texture | None) -> moderngl.Texture:
        """Copy into ``texture`` (a new one when it is missing or of another size or kind), on the GPU."""
        height, width = self.shape[:2]
        if texture is None or texture.size != (width, height) or texture not in _registered:
            if texture is not None:
                registration = _registered.pop(texture, None)
                if registration is not None:
                    registration.unregister()
                texture.release()
            texture = ctx.texture((width, height), CHANNELS, dtype="f2")
            texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
            texture.repeat_x = texture.repeat_y = False
            _registered[texture] = _Registered(_cuda_runtime(), texture)
        cuda, resource = _cuda_runtime(), _registered[texture].resource
        stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
        cuda("cudaGraphicsMapResources", 1, ctypes.byref(resource), stream)
        try:
            array = ctypes.c_void_p()
            cuda("cudaGraphicsSubResourceGetMappedArray", ctypes.byref(array), resource, 0, 0)
            row = width * CHANNELS * 2
            cuda("cudaMemcpy2DToArrayAsync", array, 0, 0, ctypes.c_void_p(self.pixels.data_ptr()), row, row,
                 height, MEMCPY_DEVICE_TO_DEVICE, stream)
        finally:
            cuda("cudaGraphicsUnmapResources", 1, ctypes.byref(resource), stream)
        return texture

    def numpy(self):
        """The frame on the host, (h, w, 3) float16: what the look would have been given without interop."""
        return self.pixels[..., :3].cpu().numpy()


def device_frames_available(ctx: moderngl.Context) -> bool:
    """Whether frames can go from CUDA into ``ctx``'s textures: a CUDA runtime, a GL context on an NVIDIA
    GPU, and a trial frame that arrives in its texture bit for bit (read back through GL), so a driver
    that copies wrongly falls back to the host path rather than showing a wrong picture. ``VJ_INTEROP=0``
    in the environment turns it off. Never raises."""
    if os.environ.get("VJ_INTEROP", "1") == "0":
        return False
    try:
        if _cuda_runtime() is None or "nvidia" not in ctx.info["GL_VENDOR"].lower():
            return False
        pattern = torch.arange(5 * 3 * CHANNELS, dtype=torch.float16, device="cuda").reshape(5, 3, CHANNELS) / 64
        texture = DeviceFrame(pattern).to_texture(ctx, None)
        torch.cuda.synchronize()
        arrived = np.frombuffer(texture.read(), np.float16).reshape(5, 3, CHANNELS)
        _registered.pop(texture).unregister()
        texture.release()
        return bool(np.array_equal(arrived, pattern.cpu().numpy()))
    except Exception:  # noqa: BLE001 - a question, never an error: the host path always works
        return False
