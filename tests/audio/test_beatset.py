"""The beat-tracking evaluation set: its truth follows the tempo maps and sits on the music, its degradations
do what they claim, and the files it writes decode back to the same audio and beats."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from vj.audio import beatset
from vj.audio.decode import read_audio
from vj.audio.degrade import CONDITIONS, degrade
from vj.audio.synth import PEAK, click_track

SR = 48_000
SONG = {song.name: song for song in beatset.SONGS}


@pytest.fixture(scope="module")
def pop() -> tuple[np.ndarray, np.ndarray]:
    """A drum song with an offset, a soft two-bar intro and a one-bar break."""
    return beatset.render_song(SONG["pop-100"])


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-30))


def _bands(x: np.ndarray, edges: tuple[float, ...]) -> list[np.ndarray]:
    """Brick-wall band splits of a mono signal, one per pair of neighbouring ``edges`` (Hz)."""
    size = 1 << (len(x) - 1).bit_length()
    spectrum, f = np.fft.rfft(x, size), np.fft.rfftfreq(size, 1 / SR)
    return [np.fft.irfft(np.where((f >= lo) & (f < hi), spectrum, 0), size)[: len(x)]
            for lo, hi in zip(edges, edges[1:])]


def _share_db(x: np.ndarray, lo: float, hi: float) -> float:
    """The share of the energy of mono ``x`` between ``lo`` and ``hi`` Hz, in dB."""
    power, f = np.abs(np.fft.rfft(x)) ** 2, np.fft.rfftfreq(len(x), 1 / SR)
    return float(10 * np.log10(power[(f >= lo) & (f < hi)].sum() / power.sum()))


def test_the_set_spans_the_specified_styles_and_tempi() -> None:
    songs = beatset.SONGS
    assert 14 <= len(songs) <= 16 and len(SONG) == len(songs)
    assert {"pop", "rock", "electronic", "game", "orchestral", "hiphop", "funk"} <= {s.style for s in songs}
    for kind in ("house", "techno", "dnb", "reggaeton", "chiptune", "ballad", "punk"):
        assert any(s.name.startswith(kind) for s in songs), kind
    tempi = [bpm for s in songs for bpm in (s.bpm, *(v for _, v in s.tempo))]
    assert min(tempi) == 80 and max(tempi) == 180
    assert any(a[0] == b[0] and a[1] != b[1] for s in songs for a, b in zip(s.tempo, s.tempo[1:]))  # a jump
    assert any(a[0] != b[0] and a[1] != b[1] for s in songs for a, b in zip(s.tempo, s.tempo[1:]))  # a ramp
    assert any(0.55 <= s.swing <= 0.65 for s in songs)
    assert sum(bool(s.breaks) for s in songs) >= 3 and sum(s.intro > 0 for s in songs) >= 3
    assert sum(0.1 <= s.offset_s <= 0.7 for s in songs) >= 3 and sum(s.offset_s == 0 for s in songs) >= 3
    assert not {"kick", "snare", "hat"} & set(beatset.GROOVES[SONG["orchestral-92"].groove].drums)
    for song in songs:
        assert song.groove in beatset.GROOVES
        assert 25 <= song.beat_times()[-1] + beatset.TAIL_S <= 40, song.name


@pytest.mark.parametrize("song", beatset.SONGS, ids=lambda s: s.name)
def test_truth_is_the_quarter_note_grid_of_the_tempo_map(song: beatset.Song) -> None:
    beats = song.beat_times()
    assert len(beats) == 4 * song.bars + 1 and beats[0] == pytest.approx(song.offset_s)
    assert np.all(np.diff(beats) > 0)
    mid = np.arange(4 * song.bars) + 0.5
    np.testing.assert_allclose(np.diff(beats), 60 / song.tempo_at(mid), rtol=1e-4)
    step = 0.01  # integrate the tempo independently: the midpoint rule, exact across a jump on a grid point
    periods = 60 / song.tempo_at(np.arange(0, 4 * song.bars, step) + step / 2)
    elapsed = np.concatenate([[0], np.cumsum(periods * step)])
    np.testing.assert_allclose(beats, song.offset_s + elapsed[::100], atol=1e-6)


def test_tempo_changes_follow_their_maps() -> None:
    jump = SONG["synthpop-120-132"].beat_times()
    np.testing.assert_allclose(np.diff(jump[:33]), 0.5)  # 8 bars at 120, then 132 from the downbeat of bar 8
    np.testing.assert_allclose(np.diff(jump[32:]), 60 / 132)
    assert jump[32] == pytest.approx(16.0)
    ramp = SONG["folk-100-116"]
    np.testing.assert_allclose(ramp.tempo_at([0, 4, 20, 36, 50, 56, 60, 64]),
                               [100, 100, 108, 116, 116, 116, 108, 100])
    periods = np.diff(ramp.beat_times())
    assert np.all(np.diff(periods[4:36]) < 0) and np.all(np.diff(periods[56:]) > 0)  # accelerando, ritardando


def test_render_is_deterministic_per_seed() -> None:
    short = replace(SONG["chiptune-160"], bars=3)
    digest = [hashlib.sha256(beatset.render_song(s)[0].tobytes()).hexdigest() for s in (short, short)]
    assert digest[0] == digest[1]
    assert not np.array_equal(beatset.render_song(short)[0], beatset.render_song(replace(short, seed=99))[0])


def test_render_is_stereo_at_minus_1_dbfs_with_the_truth_inside(pop: tuple[np.ndarray, np.ndarray]) -> None:
    samples, beats = pop
    assert samples.dtype == np.float32 and samples.ndim == 2 and samples.shape[1] == 2
    assert np.abs(samples).max() == pytest.approx(PEAK, abs=1e-6)
    assert np.all(np.abs(samples.mean(axis=0)) < 1e-3)
    assert 0.3 < np.corrcoef(samples[:, 0], samples[:, 1])[0, 1] < 0.99
    np.testing.assert_array_equal(beats, SONG["pop-100"].beat_times())
    assert beats[-1] < len(samples) / SR - 1.0
    assert _db(samples[: int(0.2 * SR)]) < -80  # silence before the first downbeat at 0.25 s


def test_intro_is_soft_and_the_break_drops_the_drums(pop: tuple[np.ndarray, np.ndarray]) -> None:
    samples, beats = pop
    mono = samples.mean(axis=1)
    bars = [mono[int(a * SR): int(b * SR)] for a, b in zip(beats[:-1:4], beats[4::4])]
    song = SONG["pop-100"]
    assert song.intro == 2 and song.breaks == (8,)
    assert max(_db(bar) for bar in bars[:2]) < min(_db(bar) for bar in bars[2:]) - 4
    treble = [_db(bar) for bar in (_bands(b, (6000, SR / 2))[0] for b in bars)]
    assert treble[8] < min(treble[2:8] + treble[9:]) - 10


def test_truth_sits_on_the_drum_hits(pop: tuple[np.ndarray, np.ndarray]) -> None:
    """Energy rises (summed over four bands, as an onset detector hears them) are larger just after the truth's
    beats than just after the half-way points between them."""
    samples, beats = pop
    song, hop = SONG["pop-100"], SR // 100
    rise = 0
    for band in _bands(samples.mean(axis=1).astype(np.float64), (30, 200, 2000, 8000, SR / 2)):
        energy = np.log10(np.add.reduceat(band**2, np.arange(0, len(band), hop)) + 1e-9)
        rise = rise + np.maximum(np.diff(energy, prepend=energy[0]), 0)

    def strength(times: np.ndarray) -> float:
        return float(np.mean([rise[int(t * 100) - 1: int(t * 100) + 4].max() for t in times]))

    drums = np.flatnonzero(np.repeat(song.drums_on(), 4))  # beats in bars with drums
    on_beat, between = beats[drums], (beats[drums] + beats[drums + 1]) / 2
    assert strength(on_beat) > 1.4 * strength(between)
    assert strength(on_beat) > 3 * strength((3 * beats[drums] + beats[drums + 1]) / 4)  # the 16th after


@pytest.mark.parametrize("condition", CONDITIONS)
def test_every_condition_keeps_shape_and_range(pop: tuple[np.ndarray, np.ndarray], condition: str) -> None:
    samples, _ = pop
    out = degrade(samples, condition, seed=3)
    assert out.shape == samples.shape and out.dtype == np.float32
    assert np.all(np.isfinite(out)) and np.abs(out).max() <= 1.0
    np.testing.assert_array_equal(out, degrade(samples, condition, seed=3))
    mono = degrade(samples[: 5 * SR, 0], condition, seed=3)
    assert mono.shape == (5 * SR,) and mono.dtype == np.float32 and np.abs(mono).max() <= 1.0


def test_unknown_condition_is_refused() -> None:
    with pytest.raises(ValueError, match="clean, room"):
        degrade(np.zeros((10, 2)), "underwater")


def test_room_adds_a_reverberant_tail() -> None:
    def tail_db(x: np.ndarray) -> float:
        """How loud the 100-400 ms after each click are, relative to the click's first 10 ms."""
        clicks = (int(t * SR) for t in (0.5, 1.5, 2.5))
        return float(np.mean([_db(x[i + SR // 10: i + 2 * SR // 5]) - _db(x[i: i + SR // 100]) for i in clicks]))

    clicks = click_track(4.0, 60.0, noise_db=-90.0, offset_s=0.5)
    assert tail_db(clicks) < -50 and tail_db(degrade(clicks, "room", seed=1)) > -30
    impulse = np.zeros(3 * SR)
    impulse[SR // 10] = 0.5
    tail = degrade(impulse, "room", seed=2)[SR // 10:].astype(np.float64)
    decay = 10 * np.log10(np.cumsum(tail[::-1] ** 2)[::-1] / np.sum(tail**2))  # Schroeder integration
    rt60 = 3 * (np.argmax(decay < -25) - np.argmax(decay < -5)) / SR
    assert 0.55 < rt60 < 0.95


def test_phone_keeps_only_the_telephone_band(pop: tuple[np.ndarray, np.ndarray]) -> None:
    clean = pop[0].mean(axis=1)
    phone = degrade(pop[0], "phone", seed=1)[:, 0]
    assert _share_db(clean, 0, 200) > -10 and _share_db(clean, 5000, SR / 2) > -30
    assert _share_db(phone, 0, 200) < -30 and _share_db(phone, 5000, SR / 2) < -40
    assert _share_db(phone, 300, 3400) > -1


def test_quiet_is_30_db_down_over_a_noise_floor(pop: tuple[np.ndarray, np.ndarray]) -> None:
    quiet = degrade(pop[0], "quiet", seed=1)
    assert _db(pop[0]) - _db(quiet) == pytest.approx(30, abs=0.5)
    assert _db(quiet[: int(0.2 * SR)]) == pytest.approx(-80, abs=1)  # before the first downbeat: the floor alone


def test_noisy_is_10_db_snr(pop: tuple[np.ndarray, np.ndarray]) -> None:
    clean = pop[0].astype(np.float64)
    noisy = degrade(pop[0], "noisy", seed=1).astype(np.float64)
    gain = np.sum(noisy * clean) / np.sum(clean**2)  # the noise is independent of the music: project it out
    assert _db(gain * clean) - _db(noisy - gain * clean) == pytest.approx(10, abs=0.5)


def test_write_set_writes_decodable_pairs(tmp_path: Path) -> None:
    song = replace(SONG["chiptune-160"], name="tiny", bars=2)
    samples, beats = beatset.render_song(song)
    calls: list[tuple[int, int]] = []
    paths = beatset.write_set(tmp_path, [song], progress=lambda done, total: calls.append((done, total)))
    assert [p.name for p in paths] == [f"tiny.{c}.flac" for c in CONDITIONS]
    assert calls == [(i, 5) for i in range(1, 6)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"tiny.{c}.{ext}" for c in CONDITIONS for ext in ("flac", "beats"))
    for path in paths:
        audio = read_audio(path)
        assert audio.shape == samples.shape
        text = path.with_suffix(".beats").read_text()
        assert text.splitlines()[0] == f"{beats[0]:.6f}"
        np.testing.assert_allclose(np.loadtxt(path.with_suffix(".beats")), beats, atol=5e-7)
    np.testing.assert_allclose(read_audio(paths[0]), samples, atol=1.5 / 32768)
