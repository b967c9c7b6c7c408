"""The MIDI child's batching: knobs thin out to their first and newest positions, nothing else does."""

from vj.control.midiports import MidiRequest, coalesce


def test_a_batch_keeps_each_knobs_first_and_newest_value_and_every_other_message():
    knob = [(0.001 * i, "nano", (0xB0, 7, i)) for i in range(100)]
    other_knob = [(0.2, "nano", (0xB1, 7, 5)), (0.3, "nano", (0xB1, 7, 6))]  # channel 2: another knob
    notes = [(0.15, "nano", (0x90, 36, 100)), (0.16, "nano", (0x80, 36, 0))]
    clock = [(0.05 + 0.01 * i, "nano", (0xF8,)) for i in range(3)]
    bend = [(0.4 + 0.001 * i, "pads", (0xE0, i, 64)) for i in range(10)]
    batch = sorted(knob + other_knob + notes + clock + bend)
    kept = coalesce(batch)
    assert [m for m in kept if m[2][0] == 0xB0] == [knob[0], knob[-1]]
    assert [m for m in kept if m[2][0] == 0xB1] == other_knob
    assert [m for m in kept if m[2][0] == 0xE0] == [bend[0], bend[-1]]
    assert [m for m in kept if m[2][0] in (0x90, 0x80, 0xF8)] == sorted(notes + clock)
    assert kept == sorted(kept), "order is kept"


def test_ports_are_chosen_by_a_part_of_their_name_in_any_case():
    assert MidiRequest("NANO").matches("nanoKONTROL2:nanoKONTROL2 MIDI 1")
    assert not MidiRequest("apc").matches("nanoKONTROL2:nanoKONTROL2 MIDI 1")
    assert MidiRequest(None).matches("anything")
