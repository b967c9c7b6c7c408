"""The render loop's view of MIDI input: drain the child's batches, supervise it, follow ports.

Everything here is non-blocking, because it runs on the render thread between frames. A controller that
is unplugged shows as a lost port in the HUD and the stats; when it (or any port matching ``--midi``)
appears, the child opens it within `RESCAN_S`. A child that crashes or stops talking is replaced.
"""

from __future__ import annotations

import time

from vj.children import RESPAWN_INTERVAL_S, start_child, stop_child
from vj.control.midiports import ALIVE_S, MidiRequest, midi_main

HUNG_CHILD_S = 2.0
"""A child silent this long (it speaks every `ALIVE_S`) is stuck in a dead driver: it is killed."""
CHILD_START_S = 15.0
"""A child that has not spoken yet is still starting (a fresh interpreter and a JACK client, on a machine
whose cores the render holds): it is given this long. Killing it sooner loses the messages it has taken."""

Message = tuple[float, str, tuple[int, ...]]
"""(arrival on the monotonic clock, port name, MIDI bytes)."""


class MidiInput:
    """MIDI from every input port whose name contains ``wanted`` (any case), or from all ports.

    Attributes:
        ports: the ports open now.
        lost: ports that went away while no other port has come (the HUD warns about them).
        problem: why there is no MIDI at all, when there is none ("" otherwise).
        received: messages that reached vj (before the child kept only the newest of each knob).
        events: port attachments and losses with wall times, for the stats file.
    """

    def __init__(self, wanted: str | None = None):
        self.request = MidiRequest(wanted)
        self.ports: list[str] = []
        self.lost: list[str] = []
        self.problem = ""
        self.received = 0
        self.events: list[dict] = []
        self._process = None
        self._conn = None
        self._spawned_at = self._heard_at = 0.0
        self._spoken = False

    def open(self) -> None:
        """Start the child; ports open in the background (a show without a controller is normal)."""
        self._spawn(time.monotonic())

    def close(self) -> None:
        stop_child(self._process)
        self._process = None

    def poll(self, now: float | None = None) -> list[Message]:
        """Every message since the last call, oldest first."""
        now = time.monotonic() if now is None else now
        messages: list[Message] = []
        while self._conn is not None:
            try:
                if not self._conn.poll():
                    break
                kind, detail = self._conn.recv()
            except (EOFError, OSError):
                break  # the child died: supervision below starts another
            self._heard_at = now
            self._spoken = True
            if kind == "midi":
                batch, received = detail
                messages.extend(batch)
                self.received += received
            elif kind == "ports":
                self._ports_now(detail, now)
            elif kind == "error":
                self.problem = detail
        self._supervise(now)
        return messages

    def _ports_now(self, ports: list[str], now: float) -> None:
        for name in ports:
            if name not in self.ports:
                self.events.append({"t": now, "event": "attached", "port": name})
        for name in self.ports:
            if name not in ports:
                self.events.append({"t": now, "event": "lost", "port": name})
                self.lost.append(name)
        if any(name not in self.ports for name in ports):
            self.lost = []  # it is back (JACK may give it a new name), or another controller took its place
        self.ports = list(ports)
        self.problem = ""

    def _spawn(self, now: float) -> None:
        self._process, self._conn = start_child(midi_main, self.request, name="vj-midi")
        self._spawned_at = self._heard_at = now
        self._spoken = False

    def _supervise(self, now: float) -> None:
        alive = self._process is not None and self._process.is_alive()
        allowed = HUNG_CHILD_S + ALIVE_S if self._spoken else CHILD_START_S
        if alive and now - self._heard_at > allowed:
            self._process.kill()
            alive = False
        if not alive and now - self._spawned_at > RESPAWN_INTERVAL_S:
            if self.ports:  # the child's ports died with it; the new one reports what it finds
                self._ports_now([], now)
            self._spawn(now)
