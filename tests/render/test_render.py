"""`vj render` end to end: a real EGL context, the real encoder, and PyAV decoding what came out.

Every check is made on the *decoded* MP4 (or the PNGs on disk), never on vj's own idea of what it wrote.
Renders are tiny (160x90, a 16x3 net, a few seconds of audio) so the whole module stays quick on a CPU.
"""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import run_vj, sigint_at_default
from vj.audio.synth import click_track, write_audio
from vj.cli import main

SR = 48_000
TINY = ("--res", "160x90", "--net", "16x3", "--quiet")
CLICK_TIMES = 0.25 + 0.5 * np.arange(12)  # the click_wav fixture: 120 BPM from 0.25 s, 6 s long


@dataclass
class Decoded:
    video_codec: str
    pix_fmt: str
    size: tuple[int, int]
    average_rate: Fraction
    audio_codec: str
    sample_rate: int
    channels: int
    audio_duration_s: float
    """From the audio stream's header: what a player shows (the AAC padding excluded)."""
    frames: np.ndarray
    """(n, h, w, 3) uint8, every frame a decoder gets."""
    audio: np.ndarray
    """(2, n) float32, every sample a decoder gets, from t = 0."""


def decode(path: Path) -> Decoded:
    with av.open(str(path)) as container:
        video, sound = container.streams.video[0], container.streams.audio[0]
        info = dict(
            video_codec=video.codec_context.name, pix_fmt=video.codec_context.pix_fmt,
            size=(video.codec_context.width, video.codec_context.height), average_rate=video.average_rate,
            audio_codec=sound.codec_context.name, sample_rate=sound.codec_context.sample_rate,
            channels=sound.codec_context.channels, audio_duration_s=float(sound.duration * sound.time_base),
        )
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    with av.open(str(path)) as container:
        chunks, first = [], None
        for frame in container.decode(audio=0):
            first = frame.time if first is None else first
            chunks.append(frame.to_ndarray())
    assert first == 0.0, f"audio of {path.name} decodes from {first} s, not 0"
    return Decoded(frames=frames, audio=np.concatenate(chunks, axis=1), **info)


def read_png(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


def frame_change(frames: np.ndarray) -> np.ndarray:
    """change[k]: mean absolute pixel difference between frame k-1 and frame k (change[0] = 0)."""
    f = frames.astype(np.float32)
    return np.r_[0.0, np.abs(np.diff(f, axis=0)).mean(axis=(1, 2, 3))]


def click_onsets(audio: np.ndarray) -> np.ndarray:
    """Click times (s) in decoded audio: upward crossings of |x| = 0.3, at least 0.1 s apart.

    The clicks start at 0.8 on their exact sample over a -60 dB floor. 0.3 sits above the AAC pre-echo,
    which was measured to lift the sample before an onset to at most 0.19.
    """
    level = np.abs(audio).max(axis=0)
    up = np.flatnonzero((level[1:] >= 0.3) & (level[:-1] < 0.3)) + 1
    keep = [i for j, i in enumerate(up) if j == 0 or i - up[j - 1] > SR // 10]
    return np.array(keep) / SR


def assert_frames_react_on_clicks(change: np.ndarray, clicks: np.ndarray, fps: int) -> None:
    """Each click's frame, the one whose interval [n/fps, (n+1)/fps) holds it, is where the picture jumps.

    vj computes frame n from the audio up to the end of its interval, so a click anywhere inside it is
    already in frame n: the jump must be in that frame, never one later. Once the beat tracker has
    locked it commits beats ahead and may light the frame before too, so n-1 is left out of the
    "calm before" reference; anything earlier must be calm. Frames 0-1 are left out of it as well: the
    analyzer's first hop sees a rise from an all-zero spectrum, a start-up flash that is not a click.
    """
    half = fps // 4  # a quarter of the click spacing each side
    # Reacting frames found without knowing where the clicks are: big local peaks of change, from a
    # quarter period before the first click passed in to a quarter period after the last.
    first = max(1, math.floor(clicks[0] * fps) - half)
    last = min(len(change), math.floor(clicks[-1] * fps) + half + 1)
    peaks = [k for k in range(first, last)
             if change[k] == change[max(0, k - half):k + half + 1].max() and change[k] > 4 * np.median(change)]
    assert len(peaks) == len(clicks), f"{len(peaks)} reacting frames {peaks} for {len(clicks)} clicks"
    for t, k in zip(clicks, peaks):
        # 0.25 ms of slack for the onset found in lossy audio (at 60 fps the clicks sit exactly on frame starts)
        n = math.floor((t + 0.00025) * fps)
        assert k == n, f"click at {t:.4f} s lies in frame {n} [{n / fps:.4f}, {(n + 1) / fps:.4f}) but frame {k} jumps"
        assert abs(k / fps - t) < 1 / fps
        calm = change[max(2, n - half):n - 1]
        assert change[n] > 3 * calm.max(), f"frame {n} (click at {t:.4f} s) does not jump: {change[n - half:n + 2]}"


# --- one render of the click track, shared -----------------------------------------------------------


@pytest.fixture(scope="module")
def click_render(click_wav: Path, tmp_path_factory) -> tuple[Path, Path, Decoded]:
    """click_wav at 160x90, 30 fps, with --frames: (mp4, frames dir, decoded mp4)."""
    out = tmp_path_factory.mktemp("click_render")
    assert main(["render", str(click_wav), "-o", str(out / "click.mp4"), "--frames", str(out / "frames"), *TINY]) == 0
    return out / "click.mp4", out / "frames", decode(out / "click.mp4")


def test_streams_and_durations(click_render) -> None:
    path, _, d = click_render
    assert sorted(p.name for p in path.parent.iterdir()) == ["click.mp4", "frames"]  # no .partial.mp4 left
    assert (d.video_codec, d.pix_fmt, d.size, d.average_rate) == ("h264", "yuv420p", (160, 90), 30)
    assert (d.audio_codec, d.sample_rate, d.channels) == ("aac", 48_000, 2)
    assert len(d.frames) == 180
    video_s = len(d.frames) / 30
    assert abs(video_s - 6.0) < 1 / 30
    assert abs(d.audio_duration_s - 6.0) < 1 / 30
    assert abs(video_s - d.audio_duration_s) < 1 / 30
    # What a decoder actually gets: at most one AAC frame (1024 samples) of padding, so within a frame too.
    assert abs(d.audio.shape[1] / SR - video_s) < 1 / 30


def test_audio_is_the_input_in_time(click_render) -> None:
    """The muxed audio is not shifted: the clicks decode at their exact times (to a few samples)."""
    clicks = click_onsets(click_render[2].audio)
    assert len(clicks) == len(CLICK_TIMES)
    np.testing.assert_allclose(clicks, CLICK_TIMES, atol=3 / SR)


def test_picture_reacts_in_the_frame_of_each_click_30fps(click_render) -> None:
    d = click_render[2]
    clicks = click_onsets(d.audio)
    assert len(clicks) == 12
    assert_frames_react_on_clicks(frame_change(d.frames), clicks, 30)  # the first too, after a quiet start


def test_picture_reacts_in_the_frame_of_each_click_60fps(click_wav: Path, tmp_path: Path) -> None:
    """At 60 fps every click of click_wav falls on the first sample of a frame: the hardest case."""
    assert main(["render", str(click_wav), "-o", str(tmp_path / "c60.mp4"), "--fps", "60", *TINY]) == 0
    d = decode(tmp_path / "c60.mp4")
    assert d.average_rate == 60 and len(d.frames) == 360
    assert abs(d.audio_duration_s - len(d.frames) / 60) < 1 / 60
    clicks = click_onsets(d.audio)
    np.testing.assert_allclose(clicks, CLICK_TIMES, atol=3 / SR)
    assert_frames_react_on_clicks(frame_change(d.frames), clicks, 60)


def test_png_frames_match_the_video(click_render) -> None:
    _, frames_dir, d = click_render
    names = sorted(p.name for p in frames_dir.iterdir())
    assert names == [f"frame_{k:06d}.png" for k in range(len(d.frames))]
    pngs = np.stack([read_png(frames_dir / name) for name in names]).astype(np.float32)
    video = d.frames.astype(np.float32)
    assert pngs.shape == video.shape == (180, 90, 160, 3)
    # The video went through x264 at CRF 18 and 4:2:0 chroma (one colour per 2x2 pixels) on a busy
    # 160x90 picture: measured 2.3-4.6 levels (of 255) mean abs error per frame (30 and 60 fps). Bound: 6.
    error = np.abs(pngs - video).mean(axis=(1, 2, 3))
    assert error.max() < 6, f"worst frame {error.argmax()}: {error.max():.2f}"
    # Numbering: PNG k is no further from video frame k than from k-1 or k+1 (0.5 levels of slack, as
    # between clicks neighbours differ by only ~1-2 levels). Around the clicks neighbours differ by ~70,
    # so an off-by-one fails there; the count below makes sure such frames exist.
    neighbours = [np.abs(pngs[k] - video[j]).mean() for k in range(len(pngs)) for j in (k - 1, k + 1)
                  if 0 <= j < len(video)]
    assert sum(n > 10 * error.max() for n in neighbours) >= 10
    for k in range(len(pngs)):
        for j in (k - 1, k + 1):
            if 0 <= j < len(video):
                assert error[k] <= np.abs(pngs[k] - video[j]).mean() + 0.5, f"PNG {k} looks more like frame {j}"


def test_start_and_duration_render_the_same_pictures(click_wav: Path, click_render, tmp_path: Path) -> None:
    """The picture is a function of the frame index and the audio up to it, wherever a render starts."""
    full_frames = click_render[1]
    assert main(["render", str(click_wav), "-o", str(tmp_path / "part.mp4"), "--start", "2", "--duration", "1",
                 "--frames", str(tmp_path / "frames"), *TINY]) == 0
    names = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert names == [f"frame_{k:06d}.png" for k in range(60, 90)]
    for name in names:
        np.testing.assert_array_equal(read_png(tmp_path / "frames" / name), read_png(full_frames / name),
                                      err_msg=name)
    d = decode(tmp_path / "part.mp4")
    assert len(d.frames) == 30
    assert abs(d.audio_duration_s - 1.0) < 1 / 30
    # Its audio is the slice from 2 s: the clicks at 2.25 and 2.75 s decode 0.25 and 0.75 s in.
    np.testing.assert_allclose(click_onsets(d.audio), [0.25, 0.75], atol=3 / SR)


def test_existing_output_needs_force(click_wav: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.mp4"
    out.write_bytes(b"precious")
    capsys.readouterr()
    assert main(["render", str(click_wav), "-o", str(out), "--duration", "0.5", *TINY]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(out) in err and "--force" in err, err
    assert out.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]

    assert main(["render", str(click_wav), "-o", str(out), "--duration", "0.5", "--force", *TINY]) == 0
    d = decode(out)
    assert len(d.frames) == 15 and abs(d.audio_duration_s - 0.5) < 1 / 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


@dataclass
class Interrupted:
    returncode: int
    stdout: str
    stderr: str
    tmp: Path
    out: Path
    pngs: int


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory) -> Interrupted:
    """A real `vj render` process of 30 s of clicks, sent SIGINT once ~3 s of picture were made."""
    tmp = tmp_path_factory.mktemp("ctrl_c")
    audio = tmp / "long.wav"
    write_audio(audio, click_track(30.0, 120.0, offset_s=0.25))
    out, frames = tmp / "out.mp4", tmp / "frames"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vj", "render", str(audio), "-o", str(out), "--res", "160x90", "--net", "32x4",
         "--frames", str(frames), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=sigint_at_default,
    )
    try:
        # frames 0..90 on disk: ~3 s of picture, so at least one 2 s fragment is complete in the partial file
        deadline = time.monotonic() + 120
        while not (frames / "frame_000090.png").exists():
            assert proc.poll() is None, f"render ended before it could be interrupted: {proc.communicate()}"
            assert time.monotonic() < deadline, "no 90 frames within 120 s"
            time.sleep(0.02)
        assert (tmp / "out.partial.mp4").exists()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return Interrupted(proc.returncode, stdout, stderr, tmp, out, len(list(frames.glob("frame_*.png"))))


def test_ctrl_c_keeps_a_playable_file(interrupted: Interrupted) -> None:
    r = interrupted
    assert r.returncode == 130, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr and str(r.out) in lines[0], r.stderr
    assert lines[0].startswith("vj: stopped after ")
    assert r.stdout == ""
    assert sorted(p.name for p in r.tmp.iterdir()) == ["frames", "long.wav", "out.mp4"]  # no .partial.mp4
    made = int(lines[0].split("after ")[1].split(" frames")[0])
    assert 91 <= made < 900 and made in (r.pngs, r.pngs - 1), (made, r.pngs)  # stopped mid-render, said how far
    d = decode(r.out)
    assert (d.video_codec, d.audio_codec, d.size) == ("h264", "aac", (160, 90))
    assert len(d.frames) >= 60  # at least the first complete fragments
    assert d.audio_duration_s > 2.0


def test_ctrl_c_file_holds_exactly_the_reported_frames_in_sync(interrupted: Interrupted) -> None:
    r = interrupted
    made = int(r.stderr.split("after ")[1].split(" frames")[0])
    d = decode(r.out)
    assert d.average_rate == 30
    assert len(d.frames) == made
    video_s = len(d.frames) / 30
    assert abs(d.audio_duration_s - video_s) < 1 / 30
    assert abs(d.audio.shape[1] / SR - video_s) < 1 / 30
    # and it still plays in sync: the clicks it holds decode where they were
    clicks = click_onsets(d.audio)
    np.testing.assert_allclose(clicks, 0.25 + 0.5 * np.arange(len(clicks)), atol=3 / SR)


@pytest.mark.parametrize("value", [0.0, 0.3], ids=["silence", "dc"])
def test_silence_and_dc_render_a_calm_picture(value: float, click_render, tmp_path: Path) -> None:
    audio = tmp_path / "flat.wav"
    write_audio(audio, np.full(2 * SR, value, np.float32))
    assert main(["render", str(audio), "-o", str(tmp_path / "flat.mp4"), *TINY]) == 0
    d = decode(tmp_path / "flat.mp4")
    assert len(d.frames) == 60 and abs(d.audio_duration_s - 2.0) < 1 / 30
    luma = d.frames.astype(np.float32) @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    # Not NaN-black or a flat field: every frame has structure (measured std 72-90 levels).
    assert luma.std(axis=(1, 2)).min() > 15
    assert 20 < luma.mean() < 235
    # Calm: the weights still drift (evolution), but nothing hits. Measured mean change per frame: click
    # render ~13 levels, silence 0.45, DC 1.2 (its first sample is a step from nothing to 0.3, a real
    # transient that settles within ~0.3 s). Bound: a fifth of the click render's.
    click_change = frame_change(click_render[2].frames)[1:].mean()
    change = frame_change(d.frames)[1:].mean()
    assert change < 0.2 * click_change, (change, click_change)


def test_quiet_summary_reports_real_speed(click_wav: Path, tmp_path: Path) -> None:
    result = run_vj("render", click_wav, "-o", tmp_path / "o.mp4", "--duration", "1", *TINY)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    (line,) = result.stdout.splitlines()
    assert "30 frames" in line and "1.0 s at 160x90" in line
    speed = float(line.rsplit(", ", 1)[1].split("x real time")[0])
    assert speed > 0
