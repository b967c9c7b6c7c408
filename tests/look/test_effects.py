"""The look's effects on a real EGL context: the strobe's photosensitivity limit, kaleidoscope, chromatic
shift, vignette and the strobe's flash, and live shader reload that keeps the last good program."""

from __future__ import annotations

import math
import os
import shutil

import numpy as np
import pytest

import vj.look.shaders
from vj.audio.features import FrameFeatures
from vj.control.standard import show_params
from vj.errors import VJError
from vj.look.headless import OffscreenTarget
from vj.look.look import Look, LookParams
from vj.look.strobe import StrobeGate
from vj.presets import load_preset
from vj.resources import resource_dir

CONTROLS = show_params(load_preset()).values
FPS = 60


def features(time: float = 0.0, beat: float = 0.0, beat_phase: float = 0.0) -> FrameFeatures:
    return FrameFeatures(index=0, bass=0.0, mid=0.2, treble=0.2, centroid=0.5, rolloff=0.5, flux=0.1,
                         time=time, beat=beat, rms=0.3, tempo_bpm=120.0, beat_phase=beat_phase, onset=0.1)


def noise(seed: int, shape=(45, 80)) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (*shape, 3)).astype(np.float32)


@pytest.fixture
def look(gl_ctx):
    look = Look(gl_ctx, LookParams())
    yield look
    look.release()


def draw(gl_ctx, look, frame, size=(160, 90), controls=(), **kwargs) -> np.ndarray:
    target = OffscreenTarget(gl_ctx, *size)
    look.draw(frame, features(**kwargs), target.framebuffer, CONTROLS | dict(controls))
    picture = target.read().astype(int)
    target.release()
    return picture


# --- the strobe's limit -----------------------------------------------------------------------------------


def onsets(gate: StrobeGate, beats_per_s: float, amount: float, seconds: float = 10.0) -> list[float]:
    """The picture times at which ``gate`` starts a flash, for beats every 1/beats_per_s at 60 fps."""
    times = []
    for frame in range(int(seconds * FPS)):
        t = frame / FPS
        before = gate.flashes
        gate.flash(t, (t * beats_per_s) % 1.0, amount)
        if gate.flashes > before:
            times.append(t)
    return times


def most_in_one_second(times: list[float]) -> int:
    return max((sum(start <= t < start + 1.0 for t in times) for start in times), default=0)


def test_strobe_never_flashes_more_than_three_times_a_second():
    """WCAG 2.3.1: more than three flashes in any second can trigger seizures, whatever the tempo."""
    times = onsets(StrobeGate(), beats_per_s=8.0, amount=1.0)
    assert most_in_one_second(times) <= 3
    assert len(times) >= 25, f"only {len(times)} flashes in 10 s: the limit must not stop the strobe"


@pytest.mark.parametrize("beats_per_s", [2.0, 3.5, 5.0, 13.0])
def test_strobe_limit_holds_at_other_tempos(beats_per_s):
    """Slow beats all flash; faster ones flash on every second, third.. beat, never more than 3 a second."""
    times = onsets(StrobeGate(), beats_per_s, amount=1.0)
    every = math.ceil(beats_per_s / 3.0)
    assert most_in_one_second(times) <= 3
    assert len(times) >= 0.9 * 10.0 * beats_per_s / every


def test_strobe_without_limit_flashes_on_every_beat():
    """`--strobe-limit 0` is for venues with their own rules: every beat flashes."""
    gate = StrobeGate(max_per_s=0)
    times = onsets(gate, beats_per_s=8.0, amount=1.0)
    assert len(times) == gate.flashes == 79  # 80 wraps in 10 s, less the first frame's (no previous phase)


def test_strobe_at_amount_0_never_flashes():
    gate = StrobeGate(max_per_s=0)
    assert onsets(gate, beats_per_s=8.0, amount=0.0) == [] and gate.flashes == 0
    assert gate.flash(10.0, 0.0, 0.0) == 0.0


def test_strobe_flash_is_strong_on_the_beat_and_fades_within_frames():
    gate = StrobeGate()
    assert gate.flash(0.0, 0.9, 1.0) == 0.0
    assert gate.flash(1 / 60, 0.05, 1.0) == pytest.approx(1.0)
    later = [gate.flash(i / 60, 0.05 + i / 60, 1.0) for i in range(2, 30)]
    assert 0.0 < later[0] < 1.0 and later[-1] == 0.0


# --- effects in the picture ---------------------------------------------------------------------------------


def test_kaleidoscope_mirrors_the_picture_about_the_horizontal_axis(gl_ctx, look):
    """Wedges start at angle 0 and alternate mirrored, so the picture is symmetric under y -> -y; any
    frame the net draws becomes a kaleidoscope, which a plain picture of noise is not."""
    frame = noise(4)
    plain = draw(gl_ctx, look, frame)
    kaleidoscope = draw(gl_ctx, look, frame, controls={"kaleidoscope": 6})
    assert np.abs(plain - plain[::-1]).mean() > 20
    assert np.abs(kaleidoscope - kaleidoscope[::-1]).max() <= 3
    assert np.abs(kaleidoscope - plain).mean() > 20, "the kaleidoscope changed the picture"


def test_kaleidoscope_repeats_around_the_centre(gl_ctx, look):
    """6 wedge pairs: the picture repeats every 60 degrees, so the points at 0 and 60 degrees match."""
    size = (180, 180)
    picture = draw(gl_ctx, look, noise(5), size=size, controls={"kaleidoscope": 6, "vignette": 0.0})
    centre, radius = 89.5, 60.0
    errors = []
    for degrees in range(5, 60, 10):
        a, b = np.radians(degrees), np.radians(degrees + 60)
        row_a, col_a = round(centre - radius * np.sin(a)), round(centre + radius * np.cos(a))
        row_b, col_b = round(centre - radius * np.sin(b)), round(centre + radius * np.cos(b))
        errors.append(np.abs(picture[row_a, col_a] - picture[row_b, col_b]).max())
    assert np.median(errors) <= 25, errors  # pixel positions round, so compare a typical point


def test_chroma_shifts_red_and_blue_at_the_edges_only(gl_ctx, look):
    """The chromatic shift scales red and blue about the centre: the edges fringe, the centre stays."""
    size = (320, 180)
    frame = noise(6)
    plain = draw(gl_ctx, look, frame, size=size, beat=1.0)
    shifted = draw(gl_ctx, look, frame, size=size, beat=1.0, controls={"chroma": 1.0})
    edges = np.zeros(plain.shape[:2], bool)
    edges[:, :20] = edges[:, -20:] = True
    difference = np.abs(shifted - plain)
    assert difference[edges][:, 0].mean() > 15 and difference[edges][:, 2].mean() > 15
    assert difference[..., 1].max() <= 1, "green is read unshifted"
    assert difference[89:91, 159:161].max() <= 2, "the centre pixels stay"
    centre = difference[80:100, 150:170, 0::2].mean()
    assert centre < difference[edges][:, 0::2].mean() / 5, "the shift grows towards the edges"


def test_vignette_darkens_the_corners(gl_ctx, look):
    flat = np.full((9, 16, 3), 0.5, np.float32)

    def corners_to_centre(vignette: float) -> float:
        picture = draw(gl_ctx, look, flat, controls={"vignette": vignette}).mean(axis=2)
        corners = np.mean([picture[:8, :8].mean(), picture[:8, -8:].mean(), picture[-8:, :8].mean(),
                           picture[-8:, -8:].mean()])
        return corners / picture[40:50, 75:85].mean()

    off, default, strong = corners_to_centre(0.0), corners_to_centre(0.6), corners_to_centre(1.5)
    assert off == pytest.approx(1.0, abs=0.02), "a flat frame stays flat without a vignette"
    assert strong < default - 0.2 and default < off - 0.15


def test_strobe_param_flashes_white_on_the_beat(gl_ctx, look):
    """The phase wraps between the two frames: a beat, so the second frame is the flash."""
    frame = noise(7)
    target = OffscreenTarget(gl_ctx, 160, 90)
    controls = CONTROLS | {"strobe": 1.0}
    look.draw(frame, features(time=0.0, beat_phase=0.9), target.framebuffer, controls)
    before = target.read().astype(int)
    look.draw(frame, features(time=1 / 30, beat_phase=0.05), target.framebuffer, controls)
    flash = target.read().astype(int)
    look.draw(frame, features(time=0.5, beat_phase=0.95), target.framebuffer, controls)
    after = target.read().astype(int)
    target.release()
    assert before.mean() < 200 and after.mean() < 200
    assert flash.min() >= 245, "the flash is near white everywhere, corners included"


# --- live shader reload ---------------------------------------------------------------------------------


RED = """#version 330
out vec4 colour;
void main() { colour = vec4(1.0, 0.0, 0.0, 1.0); }
"""


def edit(path, text: str, stamp: list[int]) -> None:
    """Write ``text`` with a modification time surely later than the last (file systems round mtimes)."""
    path.write_text(text)
    stamp[0] += 10**9
    os.utime(path, ns=(stamp[0], stamp[0]))


@pytest.fixture
def shaders(tmp_path, monkeypatch):
    """A writable copy of shaders/ that the look reads from."""
    folder = tmp_path / "shaders"
    shutil.copytree(resource_dir("shaders"), folder)
    monkeypatch.setattr(vj.look.shaders, "shader_path", lambda name: folder / name)
    return folder


def test_shader_reload_keeps_the_last_good_program_then_takes_the_fix(gl_ctx, shaders):
    """A VJ editing colour.frag mid-show: a typo keeps the picture (and reports the error), the fix shows."""
    post = shaders / "colour.frag"
    stamp = [post.stat().st_mtime_ns]
    look = Look(gl_ctx, LookParams(), watch_shaders=True)
    frame = noise(8)
    try:
        good = draw(gl_ctx, look, frame)
        assert look.shader_errors == {}

        edit(post, "#version 330\nvoid main() { this is not glsl }\n", stamp)
        look.shaders._next_check = 0.0  # instead of waiting CHECK_S
        broken = draw(gl_ctx, look, frame)
        assert set(look.shader_errors) == {"colour.frag"}
        message = look.shader_errors["colour.frag"]
        assert message and "\n" not in message and "error" in message.lower()
        np.testing.assert_array_equal(broken, good)

        edit(post, RED, stamp)
        draw(gl_ctx, look, frame)  # not yet: the next check is CHECK_S away
        assert "colour.frag" in look.shader_errors
        look.shaders._next_check = 0.0
        red = draw(gl_ctx, look, frame)
        assert look.shader_errors == {} and look.shaders.reloads == 1
        assert (red[..., 0] == 255).all() and (red[..., 1:] == 0).all()

        edit(post, (resource_dir("shaders") / "colour.frag").read_text(), stamp)
        look.shaders._next_check = 0.0
        np.testing.assert_array_equal(draw(gl_ctx, look, frame), good)
    finally:
        look.release()


def test_without_watching_edits_are_ignored(gl_ctx, shaders):
    """Offline renders (no watch) must not change shaders under a render."""
    post = shaders / "post.frag"
    look = Look(gl_ctx, LookParams())
    try:
        good = draw(gl_ctx, look, noise(9))
        edit(post, RED, [post.stat().st_mtime_ns])
        look.shaders._next_check = 0.0
        np.testing.assert_array_equal(draw(gl_ctx, look, noise(9)), good)
        assert look.shaders.reloads == 0
    finally:
        look.release()


def test_a_broken_shader_at_start_is_a_one_line_error(gl_ctx, shaders):
    """At start there is no good program to keep: a broken install says which file and why."""
    (shaders / "colour.frag").write_text("#version 330\nnot glsl\n")
    with pytest.raises(VJError) as caught:
        Look(gl_ctx, LookParams(), watch_shaders=True)
    assert "colour.frag" in str(caught.value) and "does not compile" in str(caught.value)
    assert "\n" not in str(caught.value)
