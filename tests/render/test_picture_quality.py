"""The picture neither collapses to flat grey nor freezes, and moves with the music but does not strobe.

Measured on the real pipeline (analyzer -> CPPN 128x6 -> GLSL look on EGL) over music, on 8-bit output.
The bounds, with what was measured on the default preset when they were set (96x54, 4 s of the drop):
- spatial standard deviation of each frame's luma: measured 63-92 levels; flat grey is 0. Bound: 20.
- mean absolute change between consecutive frames: measured a median of 42 (21-94) levels; a frozen
  picture is 0. Bound: a median above 10, a quarter of what was measured.
- the same net with evolution 0 and silence changes only by the slow time input and palette drift:
  measured 0.46 levels a frame. Bound: below 2, which shows the change above comes from the music and
  the walk, not from noise in the pipeline.
"""

from dataclasses import replace
from fractions import Fraction

import numpy as np

from vj.audio.analyzer import analyze_blocks
from vj.audio.decode import to_mono
from vj.control.standard import show_params
from vj.look.headless import OffscreenTarget
from vj.presets import load_preset
from vj.render.pipeline import FramePipeline
from vj.timebase import ANALYSIS_RATE, Timebase

SIZE = (96, 54)


def render_frames(gl_ctx, samples: np.ndarray, preset, frames: int, skip: int) -> np.ndarray:
    timebase = Timebase(Fraction(30))
    table, _, _ = analyze_blocks((samples[i : i + 4096] for i in range(0, len(samples), 4096)), timebase)
    pipeline = FramePipeline(preset, "cpu", gl_ctx)
    params = show_params(preset)
    target = OffscreenTarget(gl_ctx, *SIZE)
    pictures = []
    for features in table[skip : skip + frames]:
        params.advance(features.time)
        pipeline.draw(features, SIZE, target.framebuffer, params)
        pictures.append(target.read())
    target.release()
    pipeline.release()
    return np.array(pictures)


def luma(pictures: np.ndarray) -> np.ndarray:
    return pictures.astype(np.float32) @ np.array([0.2126, 0.7152, 0.0722], np.float32)


def test_music_keeps_the_picture_detailed_and_moving(gl_ctx, music):
    pictures = luma(render_frames(gl_ctx, to_mono(music[: 6 * ANALYSIS_RATE]), load_preset(), 120, 60))
    spatial = pictures.reshape(len(pictures), -1).std(axis=1)
    change = np.abs(np.diff(pictures, axis=0)).mean(axis=(1, 2))
    assert spatial.min() > 20, f"a frame collapsed towards flat: std {spatial.min():.1f}"
    assert np.median(change) > 10, f"the picture froze: median change {np.median(change):.2f}"


def test_without_input_and_evolution_the_picture_holds_still(gl_ctx):
    preset = load_preset()
    still = replace(preset, params=(*preset.params, ("evolution", 0.0)))
    pictures = luma(render_frames(gl_ctx, np.zeros(2 * ANALYSIS_RATE, np.float32), still, 30, 10))
    assert pictures.reshape(len(pictures), -1).std(axis=1).min() > 20, "silence still draws a picture"
    assert np.abs(np.diff(pictures, axis=0)).mean() < 2
