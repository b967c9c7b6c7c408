"""Offline renders at each --quality, and the threaded render against a plain frame-by-frame loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vj.cli import main
from vj.look.headless import OffscreenTarget
from vj.output.frames import PngWriter
from vj.audio.decode import open_audio
from vj.audio.framestream import FrameStream
from vj.render.offline import _Setup
from vj.render.plan import plan_render
from vj.render.quality import quality_for
from vj.render.settings import RenderSettings
from vj.render.stages import Ahead, Behind
from test_render import decode, read_png


def test_the_threaded_render_draws_what_a_frame_by_frame_loop_draws(click_wav: Path, tmp_path: Path) -> None:
    """Decode and analysis, the net, the look and the encoder on four threads change when work happens,
    not what a frame shows: every PNG equals the same frame drawn in one thread, one step after another."""
    settings = RenderSettings(audio=click_wav, output=tmp_path / "a.mp4", width=160, height=90, net="16x3",
                              duration_s=1.5, frames_dir=tmp_path / "threaded")
    assert main(["render", str(click_wav), "-o", str(settings.output), "--res", "160x90", "--net", "16x3",
                 "--duration", "1.5", "--frames", str(settings.frames_dir), "--quiet"]) == 0
    plan = plan_render(settings)
    setup = _Setup(plan, plan.params(), 45)
    target = OffscreenTarget(setup.ctx, *plan.quality.look_size(160, 90))
    pngs = PngWriter(tmp_path / "plain", (160, 90))
    try:
        for index, features, _ in FrameStream(open_audio(click_wav), plan.timebase, plan.first, plan.last):
            setup.params.advance(features.time)
            setup.pipeline.draw(features, setup.internal, target.framebuffer, setup.params)
            pngs.write(index, target.read())
    finally:
        setup.release()
    threaded = sorted(settings.frames_dir.glob("*.png"))
    assert [p.name for p in threaded] == [p.name for p in sorted(pngs.directory.glob("*.png"))]
    assert len(threaded) == 45
    for path in threaded:
        np.testing.assert_array_equal(read_png(path), read_png(pngs.directory / path.name), err_msg=path.name)


@pytest.mark.parametrize("quality", ["draft", "normal", "high"])
def test_each_quality_renders_the_output_size(quality: str, click_wav: Path, tmp_path: Path) -> None:
    out = tmp_path / f"{quality}.mp4"
    assert main(["render", str(click_wav), "-o", str(out), "--res", "320x180", "--duration", "1",
                 "--quality", quality, "--quiet"]) == 0
    decoded = decode(out)
    assert decoded.size == (320, 180) and len(decoded.frames) == 30
    assert decoded.frames[10:].std() > 10  # a picture, not a flat field


def test_quality_choices_and_overrides() -> None:
    draft, normal, high = (quality_for(name, "cpu") for name in ("draft", "normal", "high"))
    assert (draft.net, normal.net, high.net) == ("32x4", None, None)
    assert draft.scale < normal.scale < high.scale == 1.0
    assert normal.mixed and not high.mixed
    assert quality_for("draft", "cpu", scale=0.5, net="8x2").internal(1280, 720) == (640, 360)
    assert quality_for("draft", "cpu", net="8x2").net == "8x2"
    assert quality_for("normal", "cuda").scale == 1.0


def test_an_unknown_quality_is_a_usage_error(click_wav: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["render", str(click_wav), "-o", str(tmp_path / "x.mp4"), "--quality", "ultra"])
    assert stop.value.code == 2
    assert "--quality" in capsys.readouterr().err


def test_a_stage_error_comes_out_where_the_render_waits() -> None:
    def items():
        yield 1
        raise ValueError("decoder broke")

    with pytest.raises(ValueError, match="decoder broke"):
        list(Ahead(items(), depth=2, name="test"))
    seen = []

    def consume(item: int) -> None:
        if item == 3:
            raise OSError("disk full")
        seen.append(item)

    sink = Behind(consume, depth=2, name="test")
    for item in range(3):
        sink.put(item)
    sink.put(3)
    with pytest.raises(OSError, match="disk full"):
        sink.finish()
    assert seen == [0, 1, 2]
