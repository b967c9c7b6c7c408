"""MIDI clock (24 ppqn, transport, song position) and the choice between tap, MIDI clock and the tracker."""

from __future__ import annotations

import numpy as np
import pytest

from vj.control.clock import STALE_S, BeatSources, MidiClock
from vj.control.tap import TapTempo

BEAT = 60.0 / 128.0
TICK = BEAT / 24
START, STOP, CONTINUE = (0xFA,), (0xFC,), (0xFB,)


def ticks(clock: MidiClock, t0: float, count: int, jitter: np.ndarray | None = None) -> float:
    """``count`` ticks at 128 BPM from ``t0``; returns the time of the last."""
    times = t0 + TICK * np.arange(count) + (0.0 if jitter is None else jitter)
    for t in times:
        clock.message((0xF8,), float(t))
    return float(times[-1])


def off_beat(phase: float) -> float:
    """How far a phase is from the beat, either side."""
    return min(phase, 1.0 - phase)


@pytest.fixture
def clock():
    clock = MidiClock()
    clock.message(START, 1.0)
    ticks(clock, 1.0, 96)
    return clock


def test_exact_ticks_give_tempo_and_the_downbeat_after_start(clock):
    assert clock.bpm == pytest.approx(128.0, abs=0.01)
    assert off_beat(clock.beat_at(1.0)[1]) < 1e-6  # the first tick after Start
    assert clock.beat_at(1.0 + BEAT / 2)[1] == pytest.approx(0.5, abs=1e-6)
    assert clock.beat_at(1.0 + 3.25 * BEAT)[1] == pytest.approx(0.25, abs=1e-6)
    assert clock.beat_at(1.0 + 4 * BEAT + 1e-5)[0] == pytest.approx(1.0, abs=1e-3)  # the flash on the beat
    assert clock.beat_at(1.0 + 4.5 * BEAT)[0] == pytest.approx(np.exp(-2.0))  # decays over a quarter beat
    assert off_beat(clock.beat_at(1.0 + 100 * BEAT)[1]) < 1e-6  # carried on past the last tick


def test_jittered_ticks_still_give_the_tempo():
    clock = MidiClock()
    clock.message(START, 0.0)
    ticks(clock, 0.0, 200, np.random.default_rng(7).uniform(-0.003, 0.003, 200))
    assert clock.bpm == pytest.approx(128.0, rel=0.003)


def test_too_few_ticks_give_no_beat():
    clock = MidiClock()
    ticks(clock, 0.0, 5)
    assert clock.bpm == 0.0 and clock.beat_at(0.1) == (0.0, 0.0) and not clock.running(0.1)


def test_stop_holds_until_continue_which_carries_the_count_on():
    clock = MidiClock()
    clock.message(START, 0.0)
    ticks(clock, 0.0, 36)  # a beat and a half
    clock.message(STOP, 1.0)
    last = ticks(clock, 1.0, 30)  # gear that keeps sending clock while stopped
    assert clock.bpm == 0.0 and clock.beat_at(last) == (0.0, 0.0) and not clock.running(last)
    clock.message(CONTINUE, 2.0)
    ticks(clock, 2.0, 24)
    assert clock.bpm == pytest.approx(128.0, abs=0.01)
    assert clock.beat_at(2.0)[1] == pytest.approx(0.5, abs=1e-6)  # tick 36 again, not 66


def test_song_position_moves_the_count():
    clock = MidiClock()
    clock.message(START, 0.0)
    ticks(clock, 0.0, 48)
    clock.message((0xF2, 10, 0), 1.0)  # 10 sixteenths: 60 ticks, two and a half beats
    ticks(clock, 1.0, 24)
    assert clock.beat_at(1.0)[1] == pytest.approx(0.5, abs=1e-6)
    assert off_beat(clock.beat_at(1.0 + BEAT / 2)[1]) < 1e-6  # beat 3 of the song


def test_song_position_while_stopped_waits_for_continue():
    clock = MidiClock()
    clock.message(START, 0.0)
    ticks(clock, 0.0, 48)
    clock.message(STOP, 1.0)
    clock.message((0xF2, 4, 0), 1.1)  # relocated while stopped
    last = ticks(clock, 1.2, 24)  # clock still sent while stopped
    assert clock.bpm == 0.0 and not clock.running(last)


def test_clock_goes_stale(clock):
    last = 1.0 + 95 * TICK
    assert clock.running(last + STALE_S - 0.01) and not clock.running(last + STALE_S)


def test_other_messages_are_not_clock():
    assert MidiClock().message((0xFE,), 0.0) is False  # active sensing


def test_beat_sources_precedence(clock):
    tap = TapTempo()
    sources = BeatSources(tap, clock)
    sources.at(2.9)
    assert (sources.source, sources.bpm) == ("MIDI clock", pytest.approx(128.0, abs=0.01))
    assert sources.beat_at(2.9) == clock.beat_at(2.9)
    tap.set_bpm(100.0, 4.0)
    assert (sources.source, sources.bpm) == ("tap", pytest.approx(100.0))
    assert sources.beat_at(4.3)[1] == pytest.approx(0.5)
    tap.clear()
    sources.at(1.0 + 95 * TICK + STALE_S + 1.0)  # the MIDI clock went quiet
    assert (sources.source, sources.bpm, sources.beat_at(10.0)) == ("audio", 0.0, (0.0, 0.0))
    assert BeatSources(TapTempo()).source == "audio"
