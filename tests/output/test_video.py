"""The MP4 writer: decode what it wrote with PyAV and check streams, sync, colours and crash safety."""

import os
import signal
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from vj.errors import VJError
from vj.output.video import VideoWriter, encoder_name
from vj.timebase import Timebase

W, H, SR = 64, 48, 48_000


def _render(path: Path, fps: Fraction, frames: list[np.ndarray], audio: np.ndarray) -> Path:
    """Write frames interleaved with their audio intervals, as the renderer does."""
    tb = Timebase(fps, SR)
    with VideoWriter(path, W, H, fps) as writer:
        for n, rgb in enumerate(frames):
            writer.write_frame(rgb)
            writer.write_audio(audio[tb.frame_start(n):tb.frame_end(n)])
        writer.write_audio(audio[tb.frame_start(len(frames)):])
    assert writer.frames_written == len(frames)
    return writer.close()


def _decode_video(path: Path) -> list[av.VideoFrame]:
    """Every frame a decoder gets, stopping where a cut-off fragmented file ends (DESIGN.md)."""
    frames = []
    with av.open(str(path)) as container:
        try:
            frames.extend(container.decode(video=0))
        except av.error.InvalidDataError:
            pass
    return frames


def _solid(rgb: tuple[int, int, int]) -> np.ndarray:
    return np.full((H, W, 3), rgb, np.uint8)


@pytest.mark.parametrize("fps", [Fraction(30), Fraction(30000, 1001)])
def test_streams_are_h264_and_aac_with_exact_durations(tmp_path: Path, fps: Fraction) -> None:
    n_frames, n_samples = 45, 72_000
    audio = np.random.default_rng(0).uniform(-0.3, 0.3, (n_samples, 2)).astype(np.float32)
    path = _render(tmp_path / "out.mp4", fps, [_solid((0, 0, 0))] * n_frames, audio)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]  # temp files are gone
    with av.open(str(path)) as container:
        video, sound = container.streams.video[0], container.streams.audio[0]
        assert (video.codec_context.name, video.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert (video.codec_context.width, video.codec_context.height) == (W, H)
        assert video.average_rate == fps
        assert (sound.codec_context.name, sound.codec_context.sample_rate, sound.codec_context.channels) == (
            "aac", SR, 2)
        assert video.start_time == 0 and sound.start_time == 0
        assert float(video.duration * video.time_base) == pytest.approx(float(n_frames / fps), abs=1e-3)
        assert float(sound.duration * sound.time_base) == pytest.approx(n_samples / SR, abs=float(1 / fps))
        decoded_samples = sum(frame.samples for frame in container.decode(audio=0))
    assert abs(decoded_samples - n_samples) < SR / fps
    assert len(_decode_video(path)) == n_frames


@pytest.mark.parametrize("fps", [Fraction(30), Fraction(60)])
def test_click_and_flash_line_up(tmp_path: Path, fps: Fraction) -> None:
    """A click in the audio and the white frame that shows it decode at the same time, within a frame."""
    tb = Timebase(fps, SR)
    audio = np.zeros((3 * SR, 2), np.float32)
    clicks = [int(0.5 * SR) + 77, int(1.7 * SR) + 1234, int(2.6 * SR) + 5]
    for sample in clicks:
        audio[sample:sample + 240] = 0.9
    flashes = {tb.frame_at(sample) for sample in clicks}
    frames = [_solid((255, 255, 255) if n in flashes else (0, 0, 0)) for n in range(tb.frame_count(3 * SR))]
    path = _render(tmp_path / "click.mp4", fps, frames, audio)

    with av.open(str(path)) as container:
        decoded = list(container.decode(audio=0))
    pcm = np.concatenate([frame.to_ndarray()[0] for frame in decoded])
    loud = np.abs(pcm) > 0.3
    onsets = np.flatnonzero(loud & ~np.concatenate([[False], loud[:-1]]))
    click_times = [decoded[0].time + i / SR for i in onsets]
    flash_times = [frame.time for frame in _decode_video(path) if frame.to_ndarray(format="rgb24").mean() > 128]

    assert decoded[0].time == 0
    assert len(click_times) == len(flash_times) == len(clicks)
    for click, flash in zip(click_times, flash_times):
        assert abs(click - flash) < 1 / fps
    np.testing.assert_allclose(click_times, np.array(clicks) / SR, atol=1e-3)  # no priming delay


@pytest.mark.parametrize("fps", [Fraction(30), Fraction(30000, 1001)])
def test_frames_from_a_later_slot_and_with_gaps_keep_their_times(tmp_path: Path, fps: Fraction) -> None:
    """A recording's first picture comes a few frames in and a late one skips a slot; with sound beside
    them, every frame must decode at the time it was given (the fragmented file's muxer moved the first
    packet by another amount than the rest: frames after it were 0.64 frame late)."""
    slots = [3, 4, 6, 8, 9, 10, 11, 13, 15, 16, 17, 18, 20]
    tb = Timebase(fps, SR)
    with VideoWriter(tmp_path / "late.mp4", W, H, fps) as writer:
        writer.write_audio(np.zeros((tb.frame_start(slots[0]), 2), np.float32))
        for slot in slots:
            writer.write_frame(_solid((slot * 10, 0, 0)), slot)
            writer.write_audio(np.zeros((tb.frame_end(slot) - tb.frame_start(slot), 2), np.float32))
    with av.open(str(tmp_path / "late.mp4")) as container:
        times = [float(frame.pts * frame.time_base) for frame in container.decode(video=0)]
    np.testing.assert_allclose(times, [float(slot / fps) for slot in slots], atol=1e-4)


def test_solid_colours_survive_encoding(tmp_path: Path) -> None:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [_solid(c) for c in colours for _ in range(10)]
    path = _render(tmp_path / "rgb.mp4", Fraction(30), frames, np.zeros((SR, 2), np.float32))
    decoded = _decode_video(path)
    assert len(decoded) == 30
    for n in (0, 9, 10, 19, 20, 29):
        mean = decoded[n].to_ndarray(format="rgb24").reshape(-1, 3).mean(axis=0)
        np.testing.assert_allclose(mean, colours[n // 10], atol=6)


def test_ctrl_c_keeps_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "stopped.mp4"
    with pytest.raises(KeyboardInterrupt):
        with VideoWriter(path, W, H, Fraction(30)) as writer:
            for n in range(40):
                writer.write_frame(_solid((n * 6, 0, 0)))
                writer.write_audio(np.zeros((1600, 2), np.float32))
            raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stopped.mp4"]
    assert len(_decode_video(path)) == 40


_KILLED_CHILD = """
import os, signal, sys
from fractions import Fraction
from pathlib import Path
import numpy as np
from vj.output.video import VideoWriter
writer = VideoWriter(Path(sys.argv[1]), 64, 48, Fraction(30))
for n in range(150):
    writer.write_frame(np.full((48, 64, 3), n, np.uint8))
    writer.write_audio(np.zeros((1600, 2), np.float32))
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_killed_process_leaves_a_decodable_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "killed.mp4"
    root = Path(__file__).resolve().parents[2]
    child = subprocess.run([sys.executable, "-c", _KILLED_CHILD, str(path)], cwd=root,
                           env={**os.environ, "PYTHONPATH": str(root)}, timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert not path.exists()
    frames = _decode_video(tmp_path / "killed.partial.mp4")
    assert 100 <= len(frames) <= 150  # fragments end at keyframes, every 2 s: at most ~2 s is lost
    assert frames[0].to_ndarray(format="rgb24").mean() < 8


@pytest.mark.parametrize("size", [(63, 48), (64, 47), (0, 48)])
def test_odd_sizes_are_refused(tmp_path: Path, size: tuple[int, int]) -> None:
    with pytest.raises(VJError, match="even"):
        VideoWriter(tmp_path / "odd.mp4", *size, Fraction(30))
    assert not list(tmp_path.iterdir())


def test_ctrl_c_before_any_frame_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        with VideoWriter(tmp_path / "none.mp4", W, H, Fraction(30)):
            raise KeyboardInterrupt
    assert not list(tmp_path.iterdir())
    with pytest.raises(VJError, match="no video frames"):
        VideoWriter(tmp_path / "none.mp4", W, H, Fraction(30)).close()


def test_encoder_falls_back_and_is_cached() -> None:
    first = encoder_name()
    assert first in {"h264_nvenc", "libx264"}
    assert encoder_name() == first and encoder_name.cache_info().hits >= 1
