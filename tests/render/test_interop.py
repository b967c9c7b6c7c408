"""CUDA-GL interop: a frame copied from CUDA memory into the look's texture is the frame the host path
uploads. These run where torch sees a CUDA GPU and the GL context runs on it (an NVIDIA driver's EGL);
elsewhere the host path is the only one, and the first test checks a render falls back to it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from vj.audio.features import FrameFeatures
from vj.control.standard import show_params
from vj.look.headless import OffscreenTarget
from vj.presets import resolve_preset
from vj.render.interop import CHANNELS, DeviceFrame, device_frames_available
from vj.render.pipeline import FramePipeline


def test_without_a_gpu_for_gl_frames_go_through_the_host(gl_ctx) -> None:
    if torch.cuda.is_available() and "nvidia" in gl_ctx.info["GL_VENDOR"].lower():
        pytest.skip("this machine has the GPU path")
    assert device_frames_available(gl_ctx) is False


@pytest.fixture
def cuda_gl(gl_ctx):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    if not device_frames_available(gl_ctx):
        pytest.skip(f"the GL context is not on the GPU ({gl_ctx.info['GL_VENDOR']})")
    return gl_ctx


def _texels(texture) -> np.ndarray:
    width, height = texture.size
    return np.frombuffer(texture.read(), np.float16).reshape(height, width, CHANNELS)


def test_a_device_frame_lands_in_the_texture_bit_for_bit(cuda_gl) -> None:
    first = torch.rand((90, 160, CHANNELS), dtype=torch.float16, device="cuda")
    texture = DeviceFrame(first).to_texture(cuda_gl, None)
    torch.cuda.synchronize()
    np.testing.assert_array_equal(_texels(texture), first.cpu().numpy())
    second = torch.rand_like(first)
    again = DeviceFrame(second).to_texture(cuda_gl, texture)
    torch.cuda.synchronize()
    assert again is texture  # same size: the registered texture is reused
    np.testing.assert_array_equal(_texels(texture), second.cpu().numpy())
    bigger = DeviceFrame(torch.rand((100, 200, CHANNELS), dtype=torch.float16, device="cuda"))
    assert bigger.to_texture(cuda_gl, texture).size == (200, 100)


def test_the_pipeline_draws_the_same_picture_either_way(cuda_gl) -> None:
    preset = resolve_preset("default", None, None, None)
    pictures = []
    for direct in (True, False):
        pipeline = FramePipeline(preset, "cuda", cuda_gl)
        pipeline.device_frames = direct
        params = show_params(preset)
        target = OffscreenTarget(cuda_gl, 320, 180)
        for n in range(3):
            features = replace(FrameFeatures(n, *([0.0] * 12)), time=n / 30.0, bass=0.3, mid=0.2, treble=0.1)
            params.advance(features.time)
            pipeline.draw(features, (320, 180), target.framebuffer, params)
        pictures.append(target.read())
        pipeline.release()
    np.testing.assert_array_equal(pictures[0], pictures[1])
