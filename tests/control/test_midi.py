"""The parent's supervision of the real MIDI child: a slow start is not a hang, a silent child is."""

import os
import signal
import time

from vj.control.midi import ALIVE_S, CHILD_START_S, HUNG_CHILD_S, MidiInput


def test_a_child_still_starting_is_left_alone_and_a_child_gone_silent_is_replaced():
    midi = MidiInput("no such controller")
    midi.open()
    try:
        starting = midi._process
        midi.poll(midi._spawned_at + HUNG_CHILD_S + ALIVE_S + 1.0)  # long before a fresh interpreter speaks
        assert midi._process is starting and starting.is_alive(), "a child that has not spoken yet is starting"
        deadline = time.monotonic() + CHILD_START_S
        while not midi._spoken and time.monotonic() < deadline:  # it says "alive", or that there is no MIDI
            midi.poll()
            time.sleep(0.05)
        assert midi._spoken
        os.kill(starting.pid, signal.SIGSTOP)  # as if stuck in a dead driver
        time.sleep(2 * ALIVE_S)
        midi.poll()
        midi.poll(time.monotonic() + HUNG_CHILD_S + ALIVE_S + 0.1)
        starting.join(timeout=5)
        assert not starting.is_alive(), "the silent child is killed"
        assert midi._process is not starting and midi._process.is_alive(), "and another takes its place"
    finally:
        midi.close()
