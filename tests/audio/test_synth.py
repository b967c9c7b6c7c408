"""The synthesized test signals and demo track: on the beat grid, deterministic, and encodable."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from vj.audio import synth
from vj.errors import VJError
from vj.timebase import ANALYSIS_RATE

SR = synth.SAMPLE_RATE
DEMO = Path(__file__).resolve().parents[2] / "assets" / "demo.ogg"


@pytest.fixture(scope="module")
def demo() -> np.ndarray:
    return synth.demo_track()


def _band(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Brick-wall band-pass of a mono signal, for measuring where the energy is."""
    size = 1 << (len(x) - 1).bit_length()  # a power of two keeps the FFT fast
    spectrum = np.fft.rfft(x, size)
    f = np.fft.rfftfreq(size, 1 / SR)
    spectrum[(f < lo) | (f >= hi)] = 0
    return np.fft.irfft(spectrum, size)[: len(x)]


def _db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x))) + 1e-12))


def _decode(path: Path) -> tuple[np.ndarray, int]:
    """Samples as (channels, n) float32 in [-1, 1], whatever the codec's own sample format."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp")
        frames = [out.to_ndarray() for frame in container.decode(stream) for out in resampler.resample(frame)]
        frames += [out.to_ndarray() for out in resampler.resample(None)]
        return np.concatenate(frames, axis=1), stream.rate


def test_sample_rate_is_the_analysis_rate() -> None:
    assert synth.SAMPLE_RATE == ANALYSIS_RATE == 48_000


def test_click_times_are_one_per_beat_from_the_offset() -> None:
    np.testing.assert_allclose(synth.click_times(3.0, 100.0), [0.0, 0.6, 1.2, 1.8, 2.4])
    np.testing.assert_allclose(synth.click_times(2.0, 120.0, offset_s=0.25), [0.25, 0.75, 1.25, 1.75])


@pytest.mark.parametrize(("bpm", "offset_s"), [(120.0, 0.0), (128.0, 0.3), (93.5, 0.117)])
def test_click_onsets_match_click_times(bpm: float, offset_s: float) -> None:
    x = synth.click_track(10.0, bpm, offset_s=offset_s)
    assert x.dtype == np.float32 and x.shape == (10 * SR,)
    assert 0.7 <= np.abs(x).max() <= 0.85
    loud = np.flatnonzero(np.abs(x) > 0.1)
    onsets = loud[np.diff(loud, prepend=-SR) > SR // 20] / SR  # first loud sample of each click
    np.testing.assert_allclose(onsets, synth.click_times(10.0, bpm, offset_s), atol=0.001)


def test_click_track_sits_on_a_noise_floor() -> None:
    x = synth.click_track(2.0, 60.0, noise_db=-60.0, offset_s=0.5)
    gap = x[int(0.6 * SR) : int(1.4 * SR)]
    assert -61.0 < _db(gap) < -59.0
    assert np.count_nonzero(x[: int(0.5 * SR)] == 0) < 10


def test_demo_is_stereo_float_at_minus_1_dbfs(demo: np.ndarray) -> None:
    assert demo.dtype == np.float32 and demo.ndim == 2 and demo.shape[1] == 2
    assert 40.0 <= len(demo) / SR <= 50.0
    assert 0.85 <= np.abs(demo).max() <= 10 ** (-1 / 20) + 1e-6
    assert np.all(np.abs(demo.mean(axis=0)) < 1e-3)  # no DC offset
    assert 0.5 < np.corrcoef(demo[:, 0], demo[:, 1])[0, 1] < 0.99  # wide, yet mono-compatible


def test_demo_is_deterministic_per_seed() -> None:
    a = synth.demo_track(bars=6)
    np.testing.assert_array_equal(a, synth.demo_track(bars=6))
    assert not np.array_equal(a, synth.demo_track(bars=6, seed=8))


def test_demo_sections_and_beats_tile_the_track(demo: np.ndarray) -> None:
    sections = synth.demo_sections()
    assert [name for name, _, _ in sections] == ["intro", "build", "drop", "breakdown", "drop2"]
    assert sections[0][1] == 0 and all(a[2] == b[1] for a, b in zip(sections, sections[1:]))
    beats = synth.demo_beat_times()
    np.testing.assert_allclose(np.diff(beats), 60 / 124)
    assert beats[0] == 0 and beats[-1] == pytest.approx(sections[-1][2]) and beats[-1] < len(demo) / SR


def test_every_section_sounds_and_the_drops_are_loudest(demo: np.ndarray) -> None:
    mono = demo.mean(axis=1)
    bands = {"bass": _band(mono, 20, 250), "mid": _band(mono, 250, 4000), "treble": _band(mono, 4000, SR / 2)}
    level = {}
    for name, start, end in synth.demo_sections():
        cut = slice(int(start * SR), int(end * SR))
        level[name] = _db(mono[cut])
        for band, x in bands.items():
            assert _db(x[cut]) > -50, f"{band} is silent in the {name}"
    assert level["intro"] < level["drop"] - 6 and level["breakdown"] < level["drop"] - 3
    assert level["drop"] > -14 and abs(level["drop"] - level["drop2"]) < 2
    for band, x in bands.items():  # every band the visuals read moves with the arrangement
        per_section = [_db(x[int(a * SR) : int(b * SR)]) for _, a, b in synth.demo_sections()]
        assert max(per_section) - min(per_section) > 6, band


def test_kicks_land_on_the_beat_in_the_drops_and_not_in_the_breakdown(demo: np.ndarray) -> None:
    low = _band(demo.mean(axis=1), 20, 150)
    window = int(0.01 * SR)
    power = np.concatenate([[0], np.cumsum(low**2)])
    envelope = np.sqrt((power[window:] - power[:-window]) / window)  # RMS of low[i : i + 10 ms]
    beats = synth.demo_beat_times()

    def jump(i: int) -> float:
        """How much louder the 50 ms after sample i are than the 50 ms before."""
        n = int(0.05 * SR)
        return _db(low[i : i + n]) - _db(low[i - n : i])

    for name, start, end in synth.demo_sections():
        on_grid = [int(round(t * SR)) for t in beats if start + 0.1 < t < end]
        if name.startswith("drop"):
            for i in on_grid:
                seg = envelope[i - int(0.06 * SR) : i + int(0.06 * SR)]
                onset = (np.argmax(seg > 0.5 * seg.max()) - int(0.06 * SR) + window / 2) / SR
                assert abs(onset) < 0.01, f"kick at {i / SR:.3f} s is {onset * 1000:.1f} ms off the beat"
                assert jump(i) > 6
            off_grid = [i + int(30 / 124 * SR) for i in on_grid]  # half a beat later: no kicks there
            assert np.median([jump(i) for i in off_grid]) < 0
        if name == "breakdown":
            assert np.median([jump(i) for i in on_grid]) < 3


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg"])
@pytest.mark.parametrize("channels", [1, 2])
def test_write_audio_round_trips(tmp_path: Path, suffix: str, channels: int) -> None:
    t = np.arange(SR) / SR
    x = 0.5 * np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)], axis=1)[:, :channels]
    path = tmp_path / f"tone{suffix}"
    synth.write_audio(path, x[:, 0] if channels == 1 else x)
    decoded, rate = _decode(path)
    assert rate == SR and decoded.shape == (channels, SR)
    if suffix == ".ogg":  # lossy: the waveform survives, not the exact samples
        for c in range(channels):
            assert np.corrcoef(decoded[c], x[:, c])[0, 1] > 0.99
    else:
        np.testing.assert_allclose(decoded, x.T, atol=1.5 / 32768)


def test_write_audio_rejects_unknown_formats_and_shapes(tmp_path: Path) -> None:
    with pytest.raises(VJError, match="cannot write"):
        synth.write_audio(tmp_path / "x.xyz", np.zeros(100))
    with pytest.raises(VJError, match="48000 Hz"):
        synth.write_audio(tmp_path / "x.ogg", np.zeros(100), sample_rate=44_100)
    with pytest.raises(VJError, match="mono or stereo"):
        synth.write_audio(tmp_path / "x.wav", np.zeros((100, 3)))


def test_shipped_demo_decodes_at_full_length() -> None:
    audio, rate = _decode(DEMO)
    assert rate == SR and audio.shape[0] == 2
    assert 40.0 <= audio.shape[1] / SR <= 50.0
    assert np.abs(audio).max() <= 1.0
    assert DEMO.stat().st_size < 1.2e6
