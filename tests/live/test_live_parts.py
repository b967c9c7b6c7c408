"""The live loop's parts on their own: the shared ring, device choice, pacing, resolution, tap tempo."""

from __future__ import annotations

import numpy as np
import pytest

from vj.live.capture import InputDevice, check_channels, find_input
from vj.live.pacer import FramePacer
from vj.live.resolution import ResolutionController
from vj.live.ring import SharedRing
from vj.control.tap import TapTempo


@pytest.fixture
def ring():
    ring = SharedRing(channels=2, capacity=1000)
    yield ring
    ring.close(unlink=True)


def test_ring_hands_over_blocks_in_order_across_the_wrap(ring):
    writer = SharedRing(2, 1000, name=ring.name)  # the child's side attaches by name
    source = np.arange(3 * 4 * 700, dtype=np.float32).reshape(-1, 4)  # a 4-channel device
    position, got = 0, []
    for start in range(0, len(source), 300):
        writer.write(source[start : start + 300], (2, 0), now=float(start))
        block, position, lost = ring.read(position)
        assert lost == 0
        got.append(block)
    assert np.array_equal(np.concatenate(got), source[:, [2, 0]])
    times, seen = ring.block_times(0)
    assert seen == 7 and list(times[:, 0]) == [300, 600, 900, 1200, 1500, 1800, 2100]
    writer.close()


def test_ring_reports_an_overrun_instead_of_returning_stale_samples(ring):
    block = np.arange(2 * 800, dtype=np.float32).reshape(-1, 2)
    ring.write(block, (0, 1), now=1.0)
    ring.write(block + 10_000, (0, 1), now=2.0)
    samples, position, lost = ring.read(0)
    assert lost == 600 and position == 1600 and len(samples) == 1000
    assert np.array_equal(samples, np.concatenate([block, block + 10_000])[600:])


DEVICES = [InputDevice(0, "HDA Intel PCH: ALC3246 Analog (hw:0,0)", "ALSA", 2, 44100.0),
           InputDevice(3, "Scarlett 18i20 USB: Audio (hw:1,0)", "ALSA", 18, 48000.0),
           InputDevice(7, "system", "JACK Audio Connection Kit", 2, 48000.0),
           InputDevice(8, "Scarlett", "ALSA", 2, 48000.0)]


@pytest.mark.parametrize("wanted, index", [(None, 3), ("7", 7), ("scarlett", 8), ("SCARLETT 18", 3),
                                           ("jack", None), ("system", 7), ("alc", 0)])
def test_find_input_by_index_exact_name_then_part_of_a_name(wanted, index):
    if index is None:
        with pytest.raises(LookupError, match="no audio input matches 'jack'"):
            find_input(DEVICES, wanted, default_index=3)
    else:
        assert find_input(DEVICES, wanted, default_index=3).index == index


def test_find_input_errors_say_what_is_missing():
    with pytest.raises(LookupError, match="no audio input device found"):
        find_input([], None, default_index=-1)
    with pytest.raises(LookupError, match="index 5"):
        find_input(DEVICES, "5", default_index=3)
    assert find_input(DEVICES, None, default_index=-1).index == 0  # no default: the first input
    with pytest.raises(LookupError):
        find_input(DEVICES, "scar", default_index=3, exact=True)  # re-attaching wants the same device


def test_channels_default_to_the_first_two_and_must_exist():
    assert check_channels(DEVICES[1], ()) == (0, 1)
    assert check_channels(InputDevice(1, "mic", "ALSA", 1, 48000.0), ()) == (0, 0)
    assert check_channels(DEVICES[1], (16, 17)) == (16, 17)
    with pytest.raises(ValueError, match="has 2 input channels; channel 3 does not exist"):
        check_channels(DEVICES[0], (0, 2))


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_pacer_keeps_an_even_cadence_and_restarts_after_a_long_stall():
    clock = FakeClock()
    pacer = FramePacer(50.0, clock=clock, sleep=clock.sleep)
    presents = []
    for work in (0.005, 0.005, 0.025, 0.005, 0.005, 0.2, 0.005, 0.005):
        clock.now += work
        pacer.wait()
        presents.append(clock.now)
    intervals = np.round(np.diff(presents), 4)
    # 20 ms apart; a 25 ms frame borrows from the next one; a 200 ms stall restarts the schedule.
    assert list(intervals) == [0.02, 0.025, 0.015, 0.02, 0.2, 0.02, 0.02]


def run_controller(controller, cost_of, seconds, fps=60.0, start=0.0):
    now = start
    for _ in range(int(seconds * fps)):
        now += 1 / fps
        controller.observe(cost_of(controller.internal), now)
    return now


def test_resolution_settles_on_the_largest_size_that_fits_and_does_not_hunt():
    budget = 1 / 60
    cost = lambda size: 0.004 + size[0] * size[1] * 0.4e-6  # 4 ms fixed + 0.4 us per CPPN pixel
    controller = ResolutionController(budget, (1280, 720), start_height=540)
    now = run_controller(controller, cost, 10.0)
    settled = controller.internal
    assert cost(settled) < 0.85 * budget  # fits
    heights = []
    for _ in range(10):  # ten more seconds: no change
        now = run_controller(controller, cost, 1.0, start=now)
        heights.append(controller.internal[1])
    assert set(heights) == {settled[1]}, heights
    assert settled[1] == 108  # the largest step that fits: 126p would be 15.3 ms, over 85% of the budget
    assert controller.look == (min(2 * settled[0], 1280), min(2 * settled[1], 720))


def test_resolution_climbs_to_the_window_when_frames_are_cheap_and_follows_a_resize():
    controller = ResolutionController(1 / 60, (1280, 720), start_height=144)
    run_controller(controller, lambda size: 0.002, 30.0)
    assert controller.internal == (1280, 720) and controller.look == (1280, 720)
    controller.resize((800, 600))
    assert controller.internal == (800, 600)


def test_tap_tempo_needs_three_taps_and_restarts_after_a_pause():
    tap = TapTempo()
    tap.tap(10.0)
    tap.tap(10.5)
    assert tap.bpm == 0.0 and tap.beat_at(11.0) == (0.0, 0.0)
    tap.tap(11.0)
    assert tap.bpm == pytest.approx(120.0)
    pulse, phase = tap.beat_at(13.0)  # on a beat
    assert pulse == pytest.approx(1.0) and phase == pytest.approx(0.0)
    assert tap.beat_at(13.25)[1] == pytest.approx(0.5)
    tap.tap(20.0)  # a new count: the old tempo runs on until three new taps land
    tap.tap(20.4)
    assert tap.bpm == pytest.approx(120.0)
    tap.tap(20.8)
    assert tap.bpm == pytest.approx(150.0)
    tap.clear()
    assert tap.bpm == 0.0
