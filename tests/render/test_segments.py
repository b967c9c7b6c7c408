"""A render cut into parts drawn apart (each from the analysis and parameters its driver hands it, with a
pre-roll for the trails) and joined is the render made in one go: the same frames, byte for byte, in one
MP4 with its sound. Here the parts are drawn one after another in this process; tests/render/
test_cluster.py draws them on Ray workers."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from tests.render.test_render import decode, read_png
from vj.audio.decode import open_audio
from vj.audio.features import feature_rows
from vj.audio.framestream import FrameStream
from vj.output.frames import PngWriter
from vj.output.join import encode_sound, join_parts
from vj.audio.synth import write_audio
from vj.render.offline import render_file
from vj.render.plan import plan_render
from vj.render.segments import Part, cut_render, plan_parts, preroll_frames
from vj.render.settings import RenderSettings

FPS = Fraction(30)


def test_parts_cover_the_range_and_preroll_long_enough_for_the_trails_to_fade():
    parts = plan_parts(15, 100, FPS, feedback=0.0, seconds=1.0)
    assert parts[0] == Part(15, 45, 0), "the first part starts the render: nothing to build up"
    assert [(p.start, p.end) for p in parts] == [(15, 45), (45, 75), (75, 100)]
    assert preroll_frames(0.0, FPS) == 30, "a second at least (the strobe limiter's window)"
    assert 0.97 ** preroll_frames(0.97, FPS) <= 1 / 1024 < 0.97 ** (preroll_frames(0.97, FPS) - 1)
    late = plan_parts(15, 100, FPS, feedback=0.97, seconds=1.0)
    assert [p.preroll for p in late] == [0, 30, 60], "a pre-roll never reaches before the render's first frame"


@pytest.fixture(scope="module")
def renders(tmp_path_factory, music):
    """The same 12 s with trails and evolution on, rendered whole and as 3 s parts drawn apart."""
    base = tmp_path_factory.mktemp("parts")
    audio = base / "music.wav"
    write_audio(audio, music)
    common = dict(audio=audio, width=160, height=90, fps=FPS, device="cpu", evolution=1.0,
                  params=(("feedback", 0.9),))
    whole = RenderSettings(output=base / "whole.mp4", frames_dir=base / "whole", **common)
    render_file(whole, progress=False)
    apart = RenderSettings(output=base / "joined.mp4", frames_dir=base / "apart", **common)
    plan = plan_render(apart)
    source = open_audio(audio)
    table = feature_rows([f for _, f, _ in FrameStream(source, plan.timebase, plan.first, plan.last)])
    parts = plan_parts(0, len(table), FPS, feedback=0.9, seconds=3.0)
    assert parts[2].start - parts[2].preroll > 0, "the pre-roll starts mid-render, not at frame 0"
    paths, pngs = [], PngWriter(apart.frames_dir)
    for job in reversed(cut_render(plan, table, parts, pngs=True)):  # out of order, as workers finish
        result = job.draw(table, lambda n: None)
        for index, png in result.pngs:
            pngs.put(index, png)
        paths.insert(0, base / f"part-{job.number}.mp4")
        paths[0].write_bytes(result.video)
    encode_sound(source.span(0, plan.timebase.frame_start(len(table))), base / "sound.m4a")
    assert join_parts(paths, apart.output, base / "sound.m4a") == 360
    return whole, apart, parts


def test_parts_drawn_apart_are_the_frames_of_one_render(renders):
    whole, apart, _ = renders
    names = sorted(p.name for p in whole.frames_dir.iterdir())
    assert len(names) == 360 and names == sorted(p.name for p in apart.frames_dir.iterdir())
    differing = [n for n in names if (whole.frames_dir / n).read_bytes() != (apart.frames_dir / n).read_bytes()]
    assert differing == []


def test_the_joined_video_plays_whole_with_its_sound(renders):
    whole, apart, parts = renders
    one, joined = decode(whole.output), decode(apart.output)
    assert len(joined.frames) == 360 and joined.average_rate == FPS
    assert joined.audio_duration_s == pytest.approx(12.0, abs=0.03)
    drawn = lambda k: read_png(apart.frames_dir / f"frame_{k:06d}.png").astype(int)  # noqa: E731
    error = lambda video, k, drawn_k: np.abs(video.frames[k].astype(int) - drawn(drawn_k)).mean()  # noqa: E731
    for part in parts[1:]:  # at the seams, where one encode ends and the next begins: in place, as sharp
        for k in (part.start - 1, part.start, part.start + 1):
            assert min(range(k - 2, k + 3), key=lambda j: error(joined, k, j)) == k
            assert error(joined, k, k) < error(one, k, k) + 1.0
    assert joined.audio.shape == one.audio.shape
    np.testing.assert_allclose(joined.audio, one.audio, atol=1e-4)


def test_each_part_starts_from_the_parameters_a_render_from_the_start_has_there(tmp_path):
    """Checkpoints where each part's pre-roll begins, also where several begin on the same frame (parts
    shorter than the longest pre-roll all reach back to the render's first frame)."""
    plan = plan_render(RenderSettings(audio=tmp_path / "x.wav", output=tmp_path / "x.mp4", fps=FPS, device="cpu",
                                      evolution=1.0))
    times = np.arange(300) / 30.0
    table = np.zeros((300, 13))
    table[:, 7] = times  # the time column
    parts = plan_parts(0, 300, FPS, feedback=0.97, seconds=1.0)
    assert [p.start - p.preroll for p in parts[:3]] == [0, 0, 0]
    jobs = cut_render(plan, table, parts, pngs=False)
    for job in jobs:
        walked = plan.params()
        for t in times[: job.rows[0]]:
            walked.advance(float(t))
        assert job.params.integrals == walked.integrals and job.params.values == walked.values, job.number
