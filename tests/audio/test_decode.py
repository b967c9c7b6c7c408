"""Decoding real files, written here with PyAV's own encoders, into 48 kHz stereo float32."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from vj.audio.decode import AudioSource, open_audio, read_audio, to_mono
from vj.errors import VJError
from vj.timebase import ANALYSIS_RATE

LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1"}


def sine(freq: float, rate: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(rate * seconds)) / rate)).astype(np.float32)


def encode(
    path: Path, codec: str, data: np.ndarray, rate: int, fmt: str | None = None, **options: str
) -> Path:
    """Write ``data`` (channels, n) float32 to ``path``; PyAV converts to the sample format the codec wants."""
    channels, n = data.shape
    layout = LAYOUTS[channels]
    container_options = {"movflags": options.pop("movflags")} if "movflags" in options else {}
    with av.open(str(path), "w", format=fmt, options=container_options) as container:
        stream = container.add_stream(codec, rate=rate, layout=layout, options=options)
        for pos in range(0, n, 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data[:, pos : pos + 1024]), "fltp", layout)
            frame.sample_rate, frame.pts = rate, pos
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def peak_hz(signal: np.ndarray, rate: int = ANALYSIS_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    return float(np.fft.rfftfreq(len(signal), 1 / rate)[np.argmax(spectrum)])


def check_shape(audio: np.ndarray, seconds: float, tolerance_s: float) -> None:
    assert audio.dtype == np.float32 and audio.ndim == 2 and audio.shape[1] == 2
    assert abs(len(audio) / ANALYSIS_RATE - seconds) <= tolerance_s, len(audio)
    assert np.isfinite(audio).all()


# (file name, codec, source rate, encoder options, length tolerance in s: lossy codecs pad to whole frames)
FORMATS = [
    ("tone.wav", "pcm_s16le", 44100, {}, 0.002),
    ("tone.flac", "flac", 44100, {}, 0.002),
    ("tone.mp3", "libmp3lame", 44100, {}, 0.03),
    ("tone.ogg", "vorbis", 44100, {"strict": "experimental"}, 0.03),
    ("tone.opus", "libopus", 48000, {}, 0.03),
    ("tone.m4a", "aac", 44100, {}, 0.03),
]


@pytest.mark.parametrize(("name", "codec", "rate", "options", "tolerance"), FORMATS, ids=[f[0] for f in FORMATS])
def test_round_trip_keeps_length_and_pitch(tmp_path, name, codec, rate, options, tolerance):
    tone = sine(440, rate, 1.0)
    path = encode(tmp_path / name, codec, np.stack([tone, tone]), rate, **options)
    source = open_audio(path)
    assert isinstance(source, AudioSource) and source.path == path
    assert source.duration_s == pytest.approx(1.0, abs=0.05)
    audio = read_audio(path)
    check_shape(audio, 1.0, tolerance)
    assert abs(peak_hz(to_mono(audio)) - 440) < 2


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000, 88200, 96000, 192000])
def test_any_rate_is_resampled_to_48k_without_losing_the_tail(tmp_path, rate):
    path = encode(tmp_path / f"r{rate}.wav", "pcm_s16le", sine(440, rate, 1.0)[None], rate)
    audio = read_audio(path)
    check_shape(audio, 1.0, 0.001)
    assert abs(peak_hz(to_mono(audio)) - 440) < 2
    assert np.abs(audio[-480:]).max() > 0.3  # the last 10 ms made it through the flush


def test_mono_is_copied_to_both_channels(tmp_path):
    audio = read_audio(encode(tmp_path / "mono.flac", "flac", sine(440, 48000, 0.5)[None], 48000))
    assert np.array_equal(audio[:, 0], audio[:, 1]) and np.abs(audio).max() > 0.3


def test_stereo_keeps_left_and_right_apart(tmp_path):
    left, right = sine(440, 48000, 0.5), sine(660, 48000, 0.5, amp=0.25)
    audio = read_audio(encode(tmp_path / "lr.wav", "pcm_s16le", np.stack([left, right]), 48000))
    np.testing.assert_allclose(audio[:, 0], left, atol=1e-4)
    np.testing.assert_allclose(audio[:, 1], right, atol=1e-4)


def test_surround_is_downmixed_to_stereo(tmp_path):
    data = np.zeros((6, 24000), np.float32)  # 5.1: FL FR FC LFE BL BR
    data[0], data[1] = sine(440, 48000, 0.5), sine(660, 48000, 0.5)
    audio = read_audio(encode(tmp_path / "51.wav", "pcm_s16le", data, 48000))
    check_shape(audio, 0.5, 0.001)
    assert peak_hz(audio[:, 0]) == pytest.approx(440, abs=3)
    assert peak_hz(audio[:, 1]) == pytest.approx(660, abs=3)


def test_blocks_stream_the_same_samples_as_read_audio_every_time(tmp_path):
    path = encode(tmp_path / "b.mp3", "libmp3lame", np.stack([sine(440, 44100, 2.0)] * 2), 44100)
    source = open_audio(path)
    first = list(source.blocks())
    assert len(first) > 1 and all(b.dtype == np.float32 and b.shape[1] == 2 for b in first)
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate(list(source.blocks())))
    np.testing.assert_array_equal(np.concatenate(first), read_audio(path))


@pytest.mark.parametrize("level", [0.0, 0.5])
def test_silence_and_dc_decode_to_finite_values(tmp_path, level):
    data = np.full((2, 44100), level, np.float32)
    audio = read_audio(encode(tmp_path / "dc.wav", "pcm_s16le", data, 44100))
    check_shape(audio, 1.0, 0.001)
    assert np.median(audio) == pytest.approx(level, abs=1e-3)


def test_to_mono_averages_channels():
    stereo = np.array([[1.0, 0.0], [0.5, -0.5]], np.float32)
    mono = to_mono(stereo)
    assert mono.dtype == np.float32 and mono.tolist() == [0.5, 0.0]


# --- bad input: always one VJError naming the file and saying what is wrong -------------------------------


def expect_error(path: Path, *phrases: str) -> str:
    with pytest.raises(VJError) as caught:
        read_audio(path)
    message = str(caught.value)
    assert path.name in message and "\n" not in message, message
    for phrase in phrases:
        assert phrase in message, message
    return message


def png_file(path: Path) -> Path:
    with av.open(str(path), "w", format="image2") as container:
        stream = container.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = 4, 4, "rgb24"
        container.mux(stream.encode(av.VideoFrame.from_ndarray(np.zeros((4, 4, 3), np.uint8), format="rgb24")))
        container.mux(stream.encode(None))
    assert path.read_bytes().startswith(b"\x89PNG")
    return path


def silent_video(path: Path) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for _ in range(5):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")))
        container.mux(stream.encode(None))
    return path


def test_missing_file(tmp_path):
    expect_error(tmp_path / "song.mp3", "no such file")


def test_directory(tmp_path):
    (tmp_path / "clips").mkdir()
    expect_error(tmp_path / "clips", "is a directory")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path):
    path = encode(tmp_path / "locked.wav", "pcm_s16le", sine(440, 48000, 0.1)[None], 48000)
    path.chmod(0)
    expect_error(path, "cannot be read")


def test_picture(tmp_path):
    expect_error(png_file(tmp_path / "photo.png"), "not an audio file")


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.bin"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    expect_error(path, "not a media file")


def cut_copy(path: Path, size: int) -> Path:
    cut = path.with_name("cut" + path.suffix)
    cut.write_bytes(path.read_bytes()[:size])
    return cut


def test_mp3_cut_before_any_audio(tmp_path):
    path = encode(tmp_path / "full.mp3", "libmp3lame", np.stack([sine(440, 44100, 1.0)] * 2), 44100)
    expect_error(cut_copy(path, 300), "not a media file")


def test_mp3_cut_in_half_decodes_up_to_the_cut(tmp_path):
    # FFmpeg reads a truncated mp3 without complaint, as players do; the user gets the audio that is there.
    path = encode(tmp_path / "full.mp3", "libmp3lame", np.stack([sine(440, 44100, 1.0)] * 2), 44100)
    audio = read_audio(cut_copy(path, path.stat().st_size // 2))
    check_shape(audio, 0.5, 0.1)


def test_ogg_cut_inside_its_first_page(tmp_path):
    path = encode(tmp_path / "full.opus", "libopus", np.stack([sine(440, 48000, 1.0)] * 2), 48000)
    expect_error(cut_copy(path, path.stat().st_size // 2), "cut short")


def test_wav_with_header_but_no_samples(tmp_path):
    path = tmp_path / "empty.wav"
    with wave.open(str(path), "wb") as w:
        w.setparams((2, 2, 44100, 0, "NONE", "not compressed"))  # a header, then nothing
    assert open_audio(path).path == path  # a valid file: it is empty, not broken
    expect_error(path, "contains no audio samples")


def test_video_without_sound(tmp_path):
    expect_error(silent_video(tmp_path / "video.mp4"), "has no audio stream")


def test_damage_part_way_says_where(tmp_path):
    # A fragmented MP4 cut short decodes up to the cut, then FFmpeg raises InvalidDataError.
    data = np.stack([sine(440, 48000, 2.0)] * 2)
    path = encode(tmp_path / "frag.m4a", "aac", data, 48000, fmt="mp4", movflags="frag_keyframe+empty_moov")
    source = open_audio(cut_copy(path, path.stat().st_size // 2))
    got = []
    with pytest.raises(VJError, match=r"cut\.m4a: damaged at 0:0\d\.\d"):
        for block in source.blocks():
            got.append(block)
    assert 0.5 < sum(map(len, got)) / ANALYSIS_RATE < 1.5  # everything before the damage was delivered
