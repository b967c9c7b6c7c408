"""MIDI input in a child process: every matching port opened, hot-plugged, and batched to the parent.

Why a process: after the audio server dies, rtmidi sends silently nothing and ``close_port()`` segfaults,
while a fresh process opens MIDI in ~40 ms. A child can crash or hang and the show does not notice; the
parent (`vj.control.midi.MidiInput`) starts another.

Why batches: a controller (or a flood) can send thousands of messages a second. rtmidi's callback only
stamps and queues each one; every couple of milliseconds the child keeps the first and newest value of
each knob (control change, pitch bend), keeps everything else in order (notes, clock, transport), and
sends one batch. The render thread then sees tens of messages a frame, never thousands.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from dataclasses import dataclass

from vj.children import ask_for_priority, detach_from_terminal, exit_if_orphaned

RESCAN_S = 0.5
"""How often the child looks for ports that came or went: a re-plugged controller is back within this."""
BATCH_S = 0.002
"""How long the child gathers messages after the first of a batch: the most a batch delays a message."""
ALIVE_S = 0.25
"""The child speaks at least this often, so the parent can tell a hung child from a quiet controller."""
CLIENT_NAME = "vj-midi"


@dataclass(frozen=True)
class MidiRequest:
    """Which input ports to open: those whose name contains ``wanted`` (any case), or all of them."""

    wanted: str | None = None

    def matches(self, port: str) -> bool:
        return self.wanted is None or self.wanted.casefold() in port.casefold()


def midi_api(rtmidi) -> tuple[int, str] | None:
    """(rtmidi API, label): ALSA where the kernel has a sequencer, else JACK; None without either.
    A plain ``MidiIn()`` picks ALSA and fails where there is no /dev/snd/seq instead of falling back."""
    compiled = rtmidi.get_compiled_api()
    if rtmidi.API_LINUX_ALSA in compiled and os.path.exists("/dev/snd/seq"):
        return rtmidi.API_LINUX_ALSA, "ALSA"
    if rtmidi.API_UNIX_JACK in compiled:
        return rtmidi.API_UNIX_JACK, "JACK"
    if compiled:
        return compiled[0], rtmidi.get_api_display_name(compiled[0])
    return None


def _knob(message: tuple[float, str, tuple[int, ...]]) -> tuple | None:
    """The knob a control change or pitch bend comes from (port, status, controller); None for the rest."""
    data = message[2]
    kind = data[0] & 0xF0
    if kind in (0xB0, 0xE0) and len(data) >= 2:
        return message[1], data[0], data[1] if kind == 0xB0 else None
    return None


def coalesce(batch: list[tuple[float, str, tuple[int, ...]]]) -> list[tuple[float, str, tuple[int, ...]]]:
    """The batch with only the first and the newest position of each knob (control change, pitch bend);
    every other message stays, in order. The first is kept so soft takeover still sees a knob that was
    turned *through* its parameter's value within one batch."""
    first: dict[tuple, int] = {}
    last: dict[tuple, int] = {}
    for index, message in enumerate(batch):
        knob = _knob(message)
        if knob is not None:
            first.setdefault(knob, index)
            last[knob] = index
    return [message for index, message in enumerate(batch)
            if (knob := _knob(message)) is None or index in (first[knob], last[knob])]


def midi_main(request: MidiRequest, conn) -> None:
    """The child's whole life. Messages to the parent:
    ("ports", [names open now]) on every change; ("midi", (batch, received)) with the messages since the
    last batch and how many arrived before coalescing; ("alive", None) when quiet; ("error", reason)."""
    detach_from_terminal()
    ask_for_priority()
    parent = os.getppid()
    try:
        import rtmidi
    except ImportError as error:
        conn.send(("error", f"python-rtmidi cannot be loaded ({error}); reinstall vj"))
        os._exit(1)
    found = midi_api(rtmidi)
    if found is None:
        conn.send(("error", "this rtmidi has no MIDI system compiled in"))
        os._exit(1)
    api = found[0]
    incoming: deque = deque()
    wake = threading.Event()
    opened: dict[str, object] = {}
    scanner = None
    last_error = None
    next_scan = next_alive = 0.0

    def receive(event, port):  # rtmidi's thread: stamp and queue, nothing else
        incoming.append((time.monotonic(), port, tuple(event[0])))
        wake.set()

    while True:
        exit_if_orphaned(parent)
        now = time.monotonic()
        if now >= next_scan:
            next_scan = now + RESCAN_S
            try:
                scanner = scanner or rtmidi.MidiIn(api, name=f"{CLIENT_NAME}-scan")
                ports = scanner.get_ports()
            except rtmidi.RtMidiError as error:  # no MIDI system (yet): say so once, look again later
                scanner = None
                if str(error) != last_error:
                    last_error = str(error)
                    conn.send(("error", f"no MIDI system: {error}"))
                time.sleep(RESCAN_S)
                continue
            if _follow_ports(rtmidi, api, request, ports, opened, receive):
                conn.send(("ports", sorted(opened)))
        if wake.wait(timeout=ALIVE_S):
            time.sleep(BATCH_S)
            wake.clear()
        batch = []
        while incoming:
            batch.append(incoming.popleft())
        if batch:
            conn.send(("midi", (coalesce(batch), len(batch))))
            next_alive = now + ALIVE_S
        elif now >= next_alive:
            conn.send(("alive", None))
            next_alive = now + ALIVE_S


def _follow_ports(rtmidi, api, request: MidiRequest, ports: list[str], opened: dict, receive) -> bool:
    """Close the ports that went away and open the matching ones that appeared; True when any did."""
    changed = False
    for name in [n for n in opened if n not in ports]:
        opened.pop(name).delete()  # the server is alive (it just listed ports): closing is safe
        changed = True
    for index, name in enumerate(ports):
        if name in opened or not request.matches(name):
            continue
        try:
            midi_in = rtmidi.MidiIn(api, name=CLIENT_NAME)
            midi_in.ignore_types(sysex=True, timing=False, active_sense=True)  # clock: yes; sysex: never
            midi_in.set_callback(receive, name)
            midi_in.open_port(index, "in")
        except rtmidi.RtMidiError:
            continue  # gone again between listing and opening: the next scan decides
        opened[name] = midi_in
        changed = True
    return changed


def list_ports() -> tuple[str, list[str]]:
    """(the MIDI API used, input port names), in this process: for `vj devices`."""
    try:
        import rtmidi
    except ImportError:
        return "", []
    found = midi_api(rtmidi)
    if found is None:
        return "", []
    try:
        midi_in = rtmidi.MidiIn(found[0], name=f"{CLIENT_NAME}-list")
    except rtmidi.RtMidiError:
        return found[1], []
    try:
        return found[1], midi_in.get_ports()
    finally:
        midi_in.delete()
