"""The analyzer is streaming, causal and sample-timed: these pin down what live and offline rely on."""

from fractions import Fraction

import numpy as np
import pytest

from vj.audio.analyzer import Analyzer, analyze_blocks
from vj.audio.decode import to_mono
from vj.audio.features import FEATURE_NAMES, FeatureTable
from vj.audio.synth import click_times, click_track
from vj.control.tap import TapTempo
from vj.timebase import ANALYSIS_RATE, Timebase

TB30 = Timebase(Fraction(30))


def analyze(samples: np.ndarray, block: int = 4096, timebase: Timebase = TB30) -> FeatureTable:
    blocks = (samples[i : i + block] for i in range(0, len(samples), block))
    frames, beats, _ = analyze_blocks(blocks, timebase)
    return FeatureTable(frames, beats)


def test_block_size_does_not_change_the_features(music):
    mono = to_mono(music[: 6 * ANALYSIS_RATE])
    tables = [analyze(mono, block) for block in (64, 512, 4096, 1031)]
    reference = tables[0]
    for table in tables[1:]:
        assert len(table) == len(reference)
        for name, column in reference.columns.items():
            np.testing.assert_allclose(table.columns[name], column, atol=1e-6, err_msg=name)
        assert [b.t for b in table.beats] == pytest.approx([b.t for b in reference.beats], abs=1e-9)


@pytest.mark.parametrize("fps", [Fraction(24), Fraction(60), Fraction(30000, 1001)])
def test_one_frame_per_frame_interval_covering_all_audio(fps):
    timebase = Timebase(fps)
    samples = np.zeros(ANALYSIS_RATE * 2 + 123, np.float32)
    table = analyze(samples, 777, timebase)
    assert len(table) == timebase.frame_count(len(samples))
    assert [f.index for f in table] == list(range(len(table)))
    assert table.columns["time"] == pytest.approx([timebase.frame_time(n) for n in range(len(table))])


def test_frames_come_out_as_soon_as_their_interval_ends():
    analyzer = Analyzer(TB30)
    assert analyzer.process(np.zeros(1599, np.float32)) == []
    assert [f.index for f in analyzer.process(np.zeros(1, np.float32))] == [0]
    assert [f.index for f in analyzer.process(np.zeros(3200, np.float32))] == [1, 2]


def test_click_track_tempo_and_beats_are_predicted_on_time():
    bpm, offset = 128.0, 0.13
    samples = click_track(16.0, bpm, offset_s=offset)
    table = analyze(samples)
    truth = click_times(16.0, bpm, offset)
    beats = np.array([b.t for b in table.beats])
    known = np.array([b.known_at for b in table.beats])
    assert len(beats) > 20
    assert beats[0] < 4.0, "locks within 4 s"
    assert np.all(known <= beats), "every beat is committed before it happens"
    errors = np.array([np.min(np.abs(truth - b)) for b in beats])
    assert np.all(errors < 0.035), f"beats off the clicks by up to {errors.max() * 1000:.0f} ms"
    assert table.columns["tempo_bpm"][-1] == pytest.approx(bpm, rel=0.01)
    # The beat pulse peaks in the frame whose interval holds the beat, not a frame later.
    pulse = table.columns["beat"]
    for t in beats[beats < 15.5]:
        n = TB30.frame_at(round(t * ANALYSIS_RATE))
        assert pulse[n] > 0.6 and pulse[n] >= pulse[n + 1]


def test_adaptive_gain_makes_quiet_and_loud_recordings_alike(music):
    mono = to_mono(music[: 10 * ANALYSIS_RATE])
    loud, quiet = analyze(mono), analyze(mono * 0.05)  # -26 dB
    skip = 3 * 30  # the gain settles within the first seconds
    for name in ("bass", "mid", "treble", "rms", "flux", "centroid", "rolloff"):
        difference = np.abs(loud.columns[name][skip:] - quiet.columns[name][skip:]).mean()
        assert difference < 0.05, name
    settled = lambda table: np.array([b.t for b in table.beats if b.t > 7.5])  # noqa: E731
    np.testing.assert_allclose(settled(quiet), settled(loud), atol=0.015)


@pytest.mark.parametrize("value", [0.0, 0.3, -1.0])
def test_silence_and_dc_give_finite_calm_features(value):
    table = analyze(np.full(ANALYSIS_RATE * 5, value, np.float32))
    matrix = table.matrix()
    assert np.all(np.isfinite(matrix))
    assert table.beats == []
    for name in ("mid", "treble", "flux", "beat"):
        assert table.columns[name][30:].max() < 0.05, name


def test_features_stay_in_their_ranges(music):
    table = analyze(to_mono(music))
    for name in FEATURE_NAMES + ("beat_phase", "onset"):
        if name == "time":
            continue
        column = table.columns[name]
        assert column.min() >= 0.0 and column.max() <= 1.0, name
        assert column.std() > 0.01, f"{name} never moves on music"


def test_broken_input_gives_finite_features_and_dc_offset_changes_nothing(music):
    """What a failing interface can send live: NaN bursts, infinities, a DC offset, hard clipping."""
    mono = to_mono(music[: 4 * ANALYSIS_RATE])
    broken = mono + 0.3  # a DC offset
    broken[ANALYSIS_RATE : ANALYSIS_RATE + 500] = np.nan
    broken[2 * ANALYSIS_RATE : 2 * ANALYSIS_RATE + 7] = np.inf
    broken[3 * ANALYSIS_RATE :] *= 20.0  # clipped hard
    table = analyze(broken)
    for name, column in table.columns.items():
        assert np.isfinite(column).all(), name
    quiet = mono * 0.5  # room for the offset below full scale, so it is an offset and not clipping
    reference, offset_only = analyze(quiet), analyze(quiet + 0.3)
    for name in ("bass", "mid", "treble", "rms", "onset", "centroid"):
        np.testing.assert_allclose(offset_only.columns[name][30:], reference.columns[name][30:], atol=0.02,
                                   err_msg=name)  # after the first second: the offset starts as a step


def test_an_external_clock_overrides_the_beat_and_clearing_it_returns_to_the_tracker():
    """A tap tempo (or MIDI clock) stands in for the tracker; the tracker keeps listening underneath."""
    samples = click_track(24.0, 128.0, offset_s=0.1)
    analyzer = Analyzer(TB30)
    frames = analyzer.process(samples[: 8 * ANALYSIS_RATE])
    assert frames[-1].tempo_bpm == pytest.approx(128.0, rel=0.01)
    tap = TapTempo()
    analyzer.clock = tap
    for t in (8.0, 8.6, 9.2):  # 100 BPM, tapped at the audio's time
        frames += analyzer.process(samples[len(frames) * 1600 : round(t * 30) * 1600])
        tap.tap(t)
    frames += analyzer.process(samples[len(frames) * 1600 : 16 * ANALYSIS_RATE])
    tapped = [f for f in frames if 10.0 <= f.time < 16.0]
    assert all(f.tempo_bpm == pytest.approx(100.0) for f in tapped)
    peaks = [f.time for f in tapped if f.beat > 0.9]
    assert peaks and all(abs((t - 9.2 + 0.05) % 0.6 - 0.05) < 1 / 30 for t in peaks), "flashes on the tapped grid"
    tap.clear()
    frames += analyzer.process(samples[16 * ANALYSIS_RATE :])
    after = [f for f in frames if f.time >= 16.0]
    assert after[0].tempo_bpm == pytest.approx(128.0, rel=0.01), "back to the audio's tempo at once"
    truth = click_times(24.0, 128.0, 0.1)
    beats = [b.t for b in analyzer.beats if 16.0 < b.t < truth[-1] + 0.1]
    assert beats and all(np.min(np.abs(truth - t)) < 0.035 for t in beats), "the tracker never stopped"
