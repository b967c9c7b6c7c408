"""The look on a real EGL context: upright pictures, upscaling, audio-driven tone, and the live
parameters it reads (palette, brightness, symmetry, feedback)."""

import numpy as np
import pytest

from vj.audio.features import FrameFeatures
from vj.look.headless import OffscreenTarget
from vj.control.standard import show_params
from vj.look.look import Look, LookParams
from vj.presets import load_preset

CONTROLS = show_params(load_preset()).values


def features(beat: float = 0.0, bass: float = 0.0) -> FrameFeatures:
    return FrameFeatures(index=0, bass=bass, mid=0.2, treble=0.2, centroid=0.5, rolloff=0.5, flux=0.1,
                         time=0.0, beat=beat, rms=0.3, tempo_bpm=120.0, beat_phase=0.0, onset=0.1)


@pytest.fixture
def look(gl_ctx):
    look = Look(gl_ctx, LookParams())
    yield look
    look.release()


def draw(gl_ctx, look, frame, size=(160, 90), controls=(), **kwargs):
    target = OffscreenTarget(gl_ctx, *size)
    look.draw(frame, features(**kwargs), target.framebuffer, CONTROLS | dict(controls))
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


def test_brightness_and_palette_follow_the_controls(gl_ctx, look):
    frame = np.random.default_rng(2).uniform(0, 1, (45, 80, 3)).astype(np.float32)
    normal, dim = draw(gl_ctx, look, frame), draw(gl_ctx, look, frame, controls={"brightness": 0.5})
    assert dim.mean() < normal.mean() * 0.6
    other = draw(gl_ctx, look, frame, controls={"palette": 1})
    assert np.abs(other.astype(int) - normal.astype(int)).mean() > 10, "palette 1 (rainbow) is not the preset's"


def test_symmetry_mirrors_left_right_then_four_ways(gl_ctx, look):
    frame = np.random.default_rng(3).uniform(0, 1, (45, 80, 3)).astype(np.float32)
    plain = draw(gl_ctx, look, frame).astype(int)
    mirrored = draw(gl_ctx, look, frame, controls={"symmetry": 0.5}).astype(int)
    four = draw(gl_ctx, look, frame, controls={"symmetry": 1.0}).astype(int)
    assert np.abs(plain - plain[:, ::-1]).mean() > 20
    assert np.abs(mirrored - mirrored[:, ::-1]).max() <= 2
    np.testing.assert_allclose(mirrored[:, 80:], plain[:, 80:], atol=2)  # the right half is kept
    assert np.abs(four - four[::-1, :]).max() <= 2 and np.abs(four - four[:, ::-1]).max() <= 2


def test_feedback_leaves_trails_that_fade(gl_ctx, look):
    square = np.zeros((9, 16, 3), np.float32)
    square[3:6, 6:10] = 1.0  # a bright square in the middle, then the empty frame only
    empty = np.zeros_like(square)
    target = OffscreenTarget(gl_ctx, 160, 90)

    def centre(frame, controls) -> float:
        look.draw(frame, features(), target.framebuffer, controls)
        return float(target.read()[35:55, 65:95].mean())

    trails = CONTROLS | {"feedback": 0.9}
    background = centre(empty, CONTROLS)
    lit = centre(square, trails) - background
    first = centre(empty, trails) - background
    for _ in range(15):
        later = centre(empty, trails) - background
    off = centre(empty, CONTROLS) - background
    target.release()
    assert lit > 60 and first > 0.6 * lit, "the square stays as a trail"
    assert later < 0.5 * first, "and fades"
    assert abs(off) < 1, "feedback off: the trail is gone at once"
