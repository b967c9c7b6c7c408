"""Preset switches on the real pipeline (CPU nets, EGL look): a switch loads in the background, then morphs
over its beats in picture time with the preset's parameters gliding along; a cut is one frame; a broken
preset leaves the show playing with a one-line problem; the blend knob morphs towards the cued preset."""

from __future__ import annotations

import numpy as np
import pytest

from vj.audio.features import FrameFeatures
from vj.control.standard import show_params
from vj.look.headless import OffscreenTarget
from vj.presets import load_preset, resolve_preset
from vj.render.pipeline import FramePipeline

NET = "24x4"
INTERNAL = (32, 18)
FPS = 30


def features(time: float) -> FrameFeatures:
    return FrameFeatures(index=round(time * FPS), bass=0.3, mid=0.2, treble=0.2, centroid=0.5, rolloff=0.5,
                         flux=0.1, time=time, beat=0.0, rms=0.3, tempo_bpm=120.0, beat_phase=0.0, onset=0.1)


class Show:
    """A pipeline playing ``start`` (at the live CPU net size), its parameters and a small target."""

    def __init__(self, gl_ctx, start: str = "default", start_net: str = NET):
        preset = resolve_preset(start, net=start_net)
        self.pipeline = FramePipeline(preset, "cpu", gl_ctx, net=NET)
        self.params = show_params(preset)
        self.target = OffscreenTarget(gl_ctx, 64, 36)
        self.time = 0.0

    def frame(self) -> np.ndarray:
        """Draw the next frame (1/30 s on) and return the picture."""
        self.params.advance(self.time)
        self.pipeline.draw(features(self.time), INTERNAL, self.target.framebuffer, self.params)
        self.time += 1.0 / FPS
        return self.target.read().astype(np.float32)

    def loaded(self) -> None:
        """Wait for the background load, so the next frame picks it up."""
        self.pipeline.wait_for_loads(30)

    def release(self) -> None:
        self.target.release()
        self.pipeline.release()


@pytest.fixture
def show(gl_ctx):
    show = Show(gl_ctx)
    yield show
    show.release()


def change(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


def switch_and_play(show: Show, name: str, beats: int, crossfade: bool, seconds: float):
    """Switch to ``name`` and draw ``seconds`` of frames after the load; returns the pictures (the one
    before the switch first) and, per frame, (picture time since the start, in transition, playing)."""
    first = show.frame()
    show.pipeline.switch(name, beats=beats, crossfade=crossfade)
    show.loaded()
    assert show.pipeline.preset.name == "default", "nothing changes before the next frame"
    start = show.time
    pictures, during = [first], []
    while show.time < start + seconds:
        t = show.time
        pictures.append(show.frame())
        during.append((t - start, show.pipeline.transition is not None, show.pipeline.preset.name))
    return pictures, during


def test_switch_takes_its_beats_in_picture_time(show):
    """4 beats at 120 BPM are 2 s of picture: then nebula plays alone, its parameters reached."""
    nebula = dict(load_preset("nebula").params)
    show.frame()
    contrast_before = show.params["contrast"]
    _, during = switch_and_play(show, "nebula", beats=4, crossfade=False, seconds=2.3)
    assert show.params.targets["contrast"] == nebula["contrast"], "the preset's own parameters are aimed at nebula's"
    assert show.params.targets["evolution"] == nebula["evolution"]

    in_transition = [elapsed for elapsed, moving, name in during if moving and name == "default"]
    arrived = [elapsed for elapsed, moving, name in during if not moving and name == "nebula"]
    assert len(in_transition) + len(arrived) == len(during)
    assert max(in_transition) < 2.0 <= min(arrived) and max(in_transition) > 1.9, \
        "the morph takes exactly 4 beats of picture time"
    assert show.pipeline.transition is None and show.pipeline.preset.name == "nebula"
    assert show.pipeline.look.params == load_preset("nebula").look, "the look arrives too"
    assert abs(show.params["contrast"] - nebula["contrast"]) < 0.05 * abs(contrast_before - nebula["contrast"])


def gradual(pictures: list[np.ndarray]) -> tuple[float, float]:
    """(largest change between consecutive frames, change from the first picture to the last)."""
    total = change(pictures[0], pictures[-1])
    assert total > 20, "the two presets look different"
    return max(change(a, b) for a, b in zip(pictures, pictures[1:])), total


def test_crossfade_switch_changes_the_picture_gradually(show):
    """A crossfade over 4 beats: every frame is a small step of the whole way."""
    pictures, during = switch_and_play(show, "nebula", beats=4, crossfade=True, seconds=2.3)
    assert sum(moving for _, moving, _ in during) >= 59 and show.pipeline.preset.name == "nebula"
    step, total = gradual(pictures)
    assert step < total / 10, f"a step of {step:.1f} in a change of {total:.1f}: not gradual"


def test_weight_morph_switch_changes_the_picture_gradually(show):
    """A switch is a transition, not a burst of unrelated pictures: each frame a small step of the way."""
    pictures, _ = switch_and_play(show, "nebula", beats=4, crossfade=False, seconds=2.3)
    step, total = gradual(pictures)
    assert step < total / 8, f"a step of {step:.1f} in a change of {total:.1f}: not gradual"
    brightness = [float(p.mean()) for p in pictures]
    jump = max(abs(a - b) for a, b in zip(brightness, brightness[1:]))
    # 8 levels is 3% of the range a frame: a WCAG flash swings 10% and back. A frame-by-frame straight line
    # through weight space jumps 11 levels (24x4) to 37 (128x6) here (bench/morph_smoothness.py).
    assert jump < 8, f"the whole picture's brightness jumps by {jump:.1f} levels between frames: a flash"


def test_parameters_glide_with_the_morph(show):
    """The preset's parameters move along with the picture rather than jumping at the start."""
    show.frame()
    show.pipeline.switch("circuit", beats=8, crossfade=False)  # 4 s: contrast glides with a 4/3 s constant
    show.loaded()
    before = show.params["contrast"]
    target = dict(load_preset("circuit").params)["contrast"]
    for _ in range(10):
        show.frame()
    part = (show.params["contrast"] - before) / (target - before)
    assert 0.05 < part < 0.5, f"contrast went {part:.0%} of the way in 1/3 s"


def test_crossfade_switch_between_nets_of_different_shapes(gl_ctx):
    """A 128x6 playing net and a 24x4 one cannot morph weight by weight: the pictures crossfade."""
    show = Show(gl_ctx, start_net="128x6")  # the shipped net plays; presets load at the live CPU size
    try:
        assert str(show.pipeline.preset.engine.net) == "128x6"
        first = show.frame()
        show.pipeline.switch("embers", beats=2, crossfade=False)
        show.loaded()
        pictures = [first] + [show.frame() for _ in range(36)]
        assert show.pipeline.preset.name == "embers" and str(show.pipeline.preset.engine.net) == NET
        steps = [change(a, b) for a, b in zip(pictures, pictures[1:])]
        assert max(steps) < change(pictures[0], pictures[-1]) / 4
    finally:
        show.release()


def test_zero_beats_cut_at_the_next_frame(show):
    show.frame()
    show.pipeline.switch("nebula", beats=0, crossfade=False)
    show.loaded()
    show.frame()
    assert show.pipeline.preset.name == "nebula" and show.pipeline.transition is None
    assert show.params.targets["contrast"] == dict(load_preset("nebula").params)["contrast"]


def test_a_broken_preset_leaves_the_show_playing(show, tmp_path):
    """A bad file picked mid-show is a one-line problem for the HUD; the playing preset keeps playing."""
    broken = tmp_path / "broken.toml"
    broken.write_text("schema = 2\n[params]\nfoo = 1\n")
    before = show.frame()
    contrast = show.params.targets["contrast"]
    show.pipeline.switch(str(broken), beats=4, crossfade=False)
    show.loaded()
    after = show.frame()
    problem = show.pipeline.problem
    assert "broken.toml" in problem and "unknown key params.foo" in problem and "\n" not in problem
    assert show.pipeline.preset.name == "default" and show.pipeline.transition is None
    assert show.params.targets["contrast"] == contrast, "the parameters were not touched"
    assert change(before, after) < 10, "the picture goes on"

    show.pipeline.switch("no-such-preset", beats=4, crossfade=False)
    show.loaded()
    show.frame()
    assert "no preset named 'no-such-preset'" in show.pipeline.problem

    show.pipeline.switch("nebula", beats=0, crossfade=False)
    show.loaded()
    show.frame()
    assert show.pipeline.problem == "" and show.pipeline.preset.name == "nebula", "a good load clears the problem"


def test_blend_knob_morphs_towards_the_cued_preset(show):
    """Half way on the blend knob is neither the playing preset nor the cued one."""
    show.pipeline.cue("circuit")
    show.loaded()

    def at(blend: float) -> np.ndarray:
        show.params.set("blend", blend)
        show.params.settle()
        show.time = 1.0  # the same moment each time: only the knob differs
        return show.frame()

    alone, half, full = at(0.0), at(0.5), at(1.0)
    assert show.pipeline.cued is not None and show.pipeline.cued.preset.name == "circuit"
    assert show.pipeline.preset.name == "default" and show.pipeline.transition is None, "blend is not a switch"
    assert change(alone, full) > 20
    assert change(half, alone) > 8 and change(half, full) > 8
    np.testing.assert_array_equal(at(0.0), alone)


def test_cueing_and_switching_load_side_by_side(show):
    """The live loop asks for the cued preset every frame while the knob is up: one load, and a switch
    asked for meanwhile is not lost."""
    show.frame()
    show.pipeline.cue("circuit")
    loading = show.pipeline._cueing[1]
    show.pipeline.cue("circuit")
    assert show.pipeline._cueing[1] is loading, "asking again does not load again"
    show.pipeline.switch("nebula", beats=0, crossfade=False)
    show.loaded()
    show.frame()
    assert show.pipeline.preset.name == "nebula" and show.pipeline.cued.preset.name == "circuit"


def test_choices_land_with_the_morph_not_at_its_start(show):
    """The kaleidoscope (a choice, not a glide) would fold the whole picture at once: it changes when
    the morph lands."""
    _, during = switch_and_play(show, "mandala", beats=4, crossfade=False, seconds=0.5)
    assert show.pipeline.transition is not None and show.params["kaleidoscope"] == 0
    while show.pipeline.transition is not None:
        show.frame()
    assert show.params["kaleidoscope"] == 6
