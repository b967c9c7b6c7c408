"""Every shipped preset on the real pipeline over the demo track: it draws a living picture, and the
presets are different looks, not reseeds of one.

"Different" is measured the way a viewer tells looks apart at a glance: by their colours (a coarse
histogram) and by their texture (how the picture's energy spreads over spatial frequencies: soft clouds
against fine lines). Neither depends on where shapes happen to be, so a reseed of a preset (new shapes,
same look) scores as close. The bar is the reseeds' own spread: every pair of shipped presets must be
further apart than any two reseeds of the default preset are.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations

import numpy as np
import pytest

from vj.presets import load_preset
from vj.render.sheet import SheetSpan, analyse, preset_pictures
from vj.resources import shipped_names

SIZE = (640, 360)  # 360p, at the CPU's default internal scale (half)
START = 16 * 30  # 16 s into the demo track (past its intro), 2 s of frames
FRAMES = 60
RESEEDS = (8, 9, 10)


@pytest.fixture(scope="module")
def table():
    return analyse(SheetSpan().audio)


def render(preset, table, gl_ctx) -> np.ndarray:
    return np.array([p for _, p in preset_pictures(preset, table, START, START + FRAMES, SIZE, gl_ctx)])


def luma(pictures: np.ndarray) -> np.ndarray:
    return pictures.astype(np.float32) @ np.array([0.2126, 0.7152, 0.0722], np.float32)


def descriptor(pictures: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(colour histogram, texture spectrum), both summing to 1, over the frames."""
    levels = (pictures[::4, ::4, ::4] // 64).reshape(-1, 3).astype(np.int64)  # 4 levels a channel
    colours = np.bincount(levels[:, 0] * 16 + levels[:, 1] * 4 + levels[:, 2], minlength=64).astype(np.float64)
    grey = luma(pictures[::6])
    power = np.abs(np.fft.rfft2(grey - grey.mean(axis=(1, 2), keepdims=True))) ** 2
    fy = np.fft.fftfreq(grey.shape[1])[:, None]
    fx = np.fft.rfftfreq(grey.shape[2])[None, :]
    radius = np.hypot(fy, fx)
    bands = np.digitize(radius, np.geomspace(1 / 200, 0.5, 10))  # octave-ish bands from coarse to fine
    texture = np.bincount(bands.ravel(), weights=power.mean(axis=0).ravel(), minlength=11)[1:]
    return colours / colours.sum(), texture / texture.sum()


def distance(a, b) -> float:
    """Hellinger distance of the colour histograms plus that of the texture spectra (each 0..1)."""
    hellinger = lambda p, q: float(np.sqrt(max(0.0, 1.0 - np.sqrt(p * q).sum())))  # noqa: E731
    return hellinger(a[0], b[0]) + hellinger(a[1], b[1])


@pytest.fixture(scope="module")
def rendered(table, gl_ctx):
    return {name: render(load_preset(name), table, gl_ctx) for name in shipped_names("presets")}


def test_at_least_twelve_presets_ship():
    assert len(shipped_names("presets")) >= 12


def test_every_preset_draws_a_living_picture(rendered):
    """Not grey: the frames have detail (luma spread) and are not all one flat tone. Not frozen: the
    picture moves frame to frame. Thresholds are 8-bit levels, about a fifth of the quietest preset's
    measured figure, so they catch a collapse or a freeze, not a calm look."""
    for name, pictures in rendered.items():
        grey = luma(pictures)
        spread = np.median(grey.reshape(len(grey), -1).std(axis=1))
        change = np.median(np.abs(np.diff(grey, axis=0)).mean(axis=(1, 2)))
        assert spread > 8.0, f"{name}: the picture is flat (median spread {spread:.1f} levels)"
        assert change > 0.3, f"{name}: the picture froze (median change {change:.2f} levels a frame)"


def test_presets_differ_more_than_reseeds_of_one_look(rendered, table, gl_ctx):
    default = load_preset("default")
    reseeds = [rendered["default"]] + [render(replace(default, engine=replace(default.engine, seed=seed)), table, gl_ctx)
                                       for seed in RESEEDS]
    looks = [descriptor(p) for p in reseeds]
    bar = max(distance(a, b) for a, b in combinations(looks, 2))
    described = {name: descriptor(p) for name, p in rendered.items()}
    close = [(a, b, round(distance(described[a], described[b]), 3)) for a, b in combinations(described, 2)
             if distance(described[a], described[b]) <= bar]
    print(f"reseeds of default differ by at most {bar:.3f}; closest presets:",
          sorted(((round(distance(described[a], described[b]), 3), a, b) for a, b in combinations(described, 2)))[:5])
    assert not close, f"these presets are no further apart than reseeds of one look ({bar:.3f}): {close}"
