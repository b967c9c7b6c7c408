"""The look on a real EGL context: upright pictures, upscaling, and audio-driven tone."""

import numpy as np
import pytest

from vj.audio.features import FrameFeatures
from vj.look.headless import OffscreenTarget
from vj.look.look import Look, LookParams


def features(beat: float = 0.0, bass: float = 0.0) -> FrameFeatures:
    return FrameFeatures(index=0, bass=bass, mid=0.2, treble=0.2, centroid=0.5, rolloff=0.5, flux=0.1,
                         time=0.0, beat=beat, rms=0.3, tempo_bpm=120.0, beat_phase=0.0, onset=0.1)


@pytest.fixture
def look(gl_ctx):
    look = Look(gl_ctx, LookParams())
    yield look
    look.release()


def draw(gl_ctx, look, frame, size=(160, 90), **kwargs):
    target = OffscreenTarget(gl_ctx, *size)
    look.draw(frame, features(**kwargs), target.framebuffer)
    picture = target.read()
    target.release()
    return picture


def test_picture_is_upright_and_upscaled(gl_ctx, look):
    frame = np.zeros((9, 16, 3), np.float32)
    frame[:4, :, 1] = 1.0  # the top rows are fully shaded, the bottom rows dark
    picture = draw(gl_ctx, look, frame)
    assert picture.shape == (90, 160, 3) and picture.dtype == np.uint8
    top, bottom = picture[5:35].mean(), picture[55:85].mean()
    assert top > bottom + 40, "row 0 of the engine's frame must be the top of the picture"


def test_catmull_rom_upscale_is_smooth_not_blocky(gl_ctx, look):
    ramp = np.linspace(0, 1, 8, dtype=np.float32)
    frame = np.stack([np.tile(ramp, (8, 1))] * 3, axis=-1)
    row = draw(gl_ctx, look, frame, size=(256, 256)).astype(float)[128, 40:216].mean(axis=1)
    steps = np.abs(np.diff(row))
    assert steps.max() < 8, "a nearest-neighbour upscale would step by whole source texels"


def test_beat_and_bass_brighten_the_picture(gl_ctx, look):
    frame = np.random.default_rng(0).uniform(0, 1, (45, 80, 3)).astype(np.float32)
    calm, beat, bass = (draw(gl_ctx, look, frame, **k).mean() for k in ({}, {"beat": 1.0}, {"bass": 1.0}))
    assert beat > calm * 1.15 and bass > calm * 1.05


def test_float16_frames_from_cuda_are_accepted(gl_ctx, look):
    frame = np.random.default_rng(1).uniform(0, 1, (45, 80, 3))
    a = draw(gl_ctx, look, frame.astype(np.float32))
    b = draw(gl_ctx, look, frame.astype(np.float16))
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 2
