"""MIDI messages to parameters through a map: curves, channels, soft takeover, 14-bit, buttons, learn, clock."""

from __future__ import annotations

import pytest

from vj.control.clock import MidiClock
from vj.control.mapping import Binding, load_map
from vj.control.router import LEARN_PAIR_S, MidiRouter, Pickup
from vj.control.standard import show_params
from vj.presets import load_preset

MAP = """schema = 1
pickup = false
bind = [
    {param = "zoom", cc = 1, min = 0.5, max = 2.0, curve = "log", invert = true},
    {param = "hue", cc = 2, channel = 2},
    {param = "hue", cc = 3, pickup = true},
    {param = "morph", cc14 = 4},
    {param = "freeze", note = 37},
    {param = "reseed", note = 36},
    {param = "palette", note = 40, value = 3},
    {param = "preset", note = 39, step = 1},
    {param = "preset", note = 38, step = -1},
    {param = "freeze", cc = 64},
    {param = "preset", program = true},
    {param = "rotation", pitchbend = true},
]
"""


@pytest.fixture
def params():
    return show_params(load_preset("default"), 4, 0)


@pytest.fixture
def router(tmp_path, params):
    path = tmp_path / "map.toml"
    path.write_text(MAP, encoding="utf-8")
    return MidiRouter(load_map(path, params), params, MidiClock())


def cc(router, number, value, channel=1, t=0.0):
    return router.handle((0xB0 | channel - 1, number, value), t)


def note(router, number, velocity=100, channel=1, t=0.0):
    return router.handle((0x90 | channel - 1, number, velocity), t)


def test_cc_follows_the_bindings_curve_range_and_invert(router, params):
    assert cc(router, 1, 127) and params.targets["zoom"] == pytest.approx(0.5)
    cc(router, 1, 0)
    assert params.targets["zoom"] == pytest.approx(2.0)
    cc(router, 1, 127 // 2)
    assert params.targets["zoom"] == pytest.approx(1.0, rel=0.02)  # the middle of a log 0.5..2


def test_channel_filtering(router, params):
    assert not cc(router, 2, 64, channel=1) and params.targets["hue"] == 0.0
    assert cc(router, 2, 64, channel=2) and params.targets["hue"] == pytest.approx(64 / 127)


def test_soft_takeover_waits_then_follows(router, params):
    params.set("hue", 0.5, "osc")
    assert not cc(router, 3, 114) and params.targets["hue"] == 0.5
    assert router.pickups["hue"] == Pickup("hue", pytest.approx(114 / 127), pytest.approx(0.5))
    assert not cc(router, 3, 90)
    assert cc(router, 3, 40) and params.targets["hue"] == pytest.approx(40 / 127)  # passed through 0.5
    assert "hue" not in router.pickups
    assert cc(router, 3, 120) and params.targets["hue"] == pytest.approx(120 / 127)
    params.set("hue", 0.2, "osc")  # someone else moved it: the knob must pick it up again
    assert not cc(router, 3, 110) and params.targets["hue"] == 0.2
    assert cc(router, 3, 27) and params.targets["hue"] == pytest.approx(27 / 127)  # within the window


def test_without_pickup_a_knob_jumps_at_once(router, params):
    params.set("hue", 0.9, "osc")
    assert cc(router, 2, 0, channel=2) and params.targets["hue"] == 0.0


def test_cc14_pairs_give_14_bit_resolution(router, params):
    cc(router, 4, 64)
    cc(router, 36, 0)
    coarse = params.targets["morph"]
    cc(router, 36, 1)
    assert coarse == pytest.approx(8192 / 16383) and params.targets["morph"] - coarse == pytest.approx(1 / 16383)


def test_note_buttons(router, params):
    assert note(router, 37) and params.targets["freeze"] == 1.0
    note(router, 37)
    assert params.targets["freeze"] == 0.0
    assert note(router, 36) and params.fired("reseed")
    assert note(router, 40) and params.targets["palette"] == 3.0
    note(router, 39), note(router, 39)
    assert params.targets["preset"] == 2.0
    note(router, 38), note(router, 38), note(router, 38)
    assert params.targets["preset"] == 0.0  # clamped


def test_note_off_and_velocity_zero_do_nothing(router, params):
    assert not router.handle((0x80, 37, 64), 0.0) and not note(router, 37, velocity=0)
    assert params.targets["freeze"] == 0.0


def test_cc_buttons_act_on_the_rising_edge_only(router, params):
    presses = [cc(router, 64, v) for v in (0, 127, 127, 100, 63, 64, 0, 30)]
    assert presses == [False, True, False, False, False, True, False, False] and params.targets["freeze"] == 0.0


def test_program_change_selects_the_preset(router, params):
    assert router.handle((0xC0, 2), 0.0) and params.targets["preset"] == 2.0
    router.handle((0xC0, 100), 0.0)
    assert params.targets["preset"] == 3.0


def test_pitch_bend_is_14_bit(router, params):
    router.handle((0xE0, 0x7F, 0x7F), 0.0)
    assert params.targets["rotation"] == pytest.approx(0.5)
    router.handle((0xE0, 0, 0x40), 0.0)
    middle = params.targets["rotation"]
    router.handle((0xE0, 1, 0x40), 0.0)
    assert middle == pytest.approx(-0.5 + 8192 / 16383) and params.targets["rotation"] - middle == pytest.approx(1 / 16383)


def test_learn_binds_a_high_cc_at_once_and_it_works(router, params):
    router.learn.arm("hue")
    assert cc(router, 40, 10, channel=3) and router.learned == Binding("hue", "cc", 40, 3)
    assert router.learn.param is None
    assert cc(router, 40, 127, channel=3) and params.targets["hue"] == 1.0
    assert Binding("hue", "cc", 40, 3) in router.map.bindings


def test_learn_waits_for_a_partner_then_binds_7_bit(router):
    router.learn.arm("hue")
    assert not cc(router, 7, 20, t=1.0)
    assert not router.tick(1.0 + LEARN_PAIR_S / 2)
    assert router.tick(1.0 + LEARN_PAIR_S + 1e-3) and router.learned == Binding("hue", "cc", 7, 1)


def test_learn_a_msb_lsb_pair_binds_cc14(router, params):
    router.learn.arm("hue")
    cc(router, 7, 20, t=1.0)
    assert not cc(router, 39, 5, channel=2, t=1.01)  # another channel is not its partner
    assert cc(router, 39, 5, t=1.02) and router.learned == Binding("hue", "cc14", 7, 1)


def test_learn_a_note(router):
    router.learn.arm("freeze")
    assert note(router, 50, channel=4) and router.learned == Binding("freeze", "note", 50, 4)


def test_a_pad_learned_to_a_choice_selects_the_current_one(router, params):
    params.set("palette", 5)
    router.learn.arm("palette")
    note(router, 50)
    assert router.learned.value == 5.0
    params.set("palette", 0)
    assert note(router, 50) and params.targets["palette"] == 5.0


def test_clock_bytes_go_to_the_clock(router):
    for i in range(24):
        assert router.handle((0xF8,), i * 0.02) is False
    assert router.clock.bpm == pytest.approx(125.0)


def test_a_new_msb_resets_the_lsb_so_turning_up_never_overshoots(router, params):
    cc(router, 4, 64), cc(router, 36, 127)
    cc(router, 4, 65)  # MIDI 1.0: "when an MSB is received, the receiver should set its concept of the LSB to zero"
    assert params.targets["morph"] == pytest.approx(65 * 128 / 16383)
