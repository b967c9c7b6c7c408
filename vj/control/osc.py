"""OSC control input: parameters, presets, tempo and beats from a controller app or another program.

A plain thread listens, not a child process as for MIDI and audio: a UDP socket has no device that can
vanish or hang a driver, so there is nothing to isolate. The thread parses every datagram off the render
thread and queues the messages; the render thread only drains the queue once a frame and routes them.

UDP drops what does not fit the socket's receive buffer, and the default buffer overflows within a burst
(a fader sweep, a sequencer's bundle): on loopback only 256-551 of 1000 quick messages arrived. The
listener asks for 4 MiB (the kernel may grant less), which holds far more than a frame's worth.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from pythonosc.osc_message import OscMessage as ParsedMessage

from vj.control.params import Params
from vj.control.tap import TapTempo
from vj.errors import VJError

PREFIX = "/vj/"
"""Every address vj answers starts with this, so one OSC port can serve several programs."""
WRITER = "osc"
RECEIVE_BUFFER = 4 * 1024 * 1024
QUEUE_LIMIT = 4096
"""Messages held between two drains; past this the render thread has stalled and new ones are dropped."""
POLL_S = 0.2
"""How long a read waits, so `OscServer.close` stops the thread within this."""
MIN_BPM, MAX_BPM = 20.0, 300.0
BUNDLE = b"#bundle\x00"
MAX_BUNDLE_DEPTH = 8


class Malformed(ValueError):
    """A datagram that is not OSC; the listener counts it and reads the next."""


def parse_datagram(data: bytes, depth: int = 0) -> list[tuple[str, tuple]]:
    """The (address, arguments) of every message in one datagram, bundles opened in order.

    Bundles are walked here rather than by python-osc's OscPacket: it trusts each element's size, and a
    negative one (found by fuzzing) walks its index backwards forever, logging a warning per turn, so one
    datagram hung the listener. Here each size must be positive, a multiple of 4 and inside the datagram."""
    if not data.startswith(BUNDLE):
        try:
            message = ParsedMessage(data)
        except Exception as error:  # python-osc raises ParseError, but also IndexError/struct.error on garbage
            raise Malformed(str(error)) from None
        return [(message.address, tuple(message.params))]
    if depth >= MAX_BUNDLE_DEPTH:
        raise Malformed(f"bundles nested deeper than {MAX_BUNDLE_DEPTH}")
    messages, index = [], len(BUNDLE) + 8  # the 8-byte time tag: vj acts on arrival
    if len(data) < index:
        raise Malformed("bundle without a time tag")
    while index < len(data):
        if index + 4 > len(data):
            raise Malformed("bundle element without its size")
        size = int.from_bytes(data[index:index + 4], "big", signed=True)
        index += 4
        if size <= 0 or size % 4 or index + size > len(data):
            raise Malformed(f"bundle element of size {size} at byte {index - 4}")
        messages += parse_datagram(data[index:index + size], depth + 1)
        index += size
    return messages


@dataclass(frozen=True)
class OscMessage:
    address: str
    args: tuple
    arrival: float
    """time.monotonic() when the datagram was read."""


class OscServer:
    """A UDP socket bound at construction and a listener thread that queues parsed messages.

    Counters for the stats file: ``received`` messages parsed, ``malformed`` datagrams that did not parse
    plus messages `apply` refused, ``dropped`` messages that found the queue full.
    """

    def __init__(self, host: str, port: int):
        self.host = host
        self.received = 0
        self.dropped = 0
        self._unparsed = 0  # written by the listener thread only
        self._refused = 0  # written by the render thread only
        self._queue: deque[OscMessage] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        sock = None
        try:
            family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
            sock = socket.socket(family, kind, proto)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            sock.bind(address)
        except (OSError, OverflowError) as exc:
            if sock is not None:
                sock.close()
            reason = getattr(exc, "strerror", None) or str(exc)
            raise VJError(f"OSC: cannot listen on {host}:{port} ({reason}); pick another port with --osc PORT") from None
        sock.settimeout(POLL_S)
        self._sock = sock
        self.port: int = sock.getsockname()[1]

    @property
    def malformed(self) -> int:
        return self._unparsed + self._refused

    def start(self) -> None:
        self._thread = threading.Thread(target=self._listen, name="vj-osc", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:  # the socket was closed
                return
            arrival = time.monotonic()
            try:
                messages = parse_datagram(data)
            except Malformed:
                self._unparsed += 1
                continue
            for address, args in messages:
                self.received += 1
                if len(self._queue) >= QUEUE_LIMIT:
                    self.dropped += 1
                else:
                    self._queue.append(OscMessage(address, args, arrival))

    def drain(self) -> list[OscMessage]:
        """Everything queued since the last drain, oldest first; never waits."""
        messages = []
        while self._queue:
            messages.append(self._queue.popleft())
        return messages

    def apply(self, params: Params, tap: TapTempo, audio_time: Callable[[float], float],
              preset_names: list[str]) -> list[float]:
        """Drain and route every queued message (the render thread, once a frame), each at the audio time
        of its arrival (``audio_time`` maps the monotonic clock to it, so a /vj/beat lands when it was sent).
        Returns the arrival times of those applied (for the control latency) and counts the rest as malformed."""
        applied = []
        for message in self.drain():
            if apply_osc(message, params, tap, audio_time(message.arrival), preset_names):
                applied.append(message.arrival)
            else:
                self._refused += 1
        return applied

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sock.close()

    def summary(self) -> dict:
        return {"host": self.host, "port": self.port, "received": self.received,
                "malformed": self.malformed, "dropped": self.dropped}


def _number(arg) -> float | None:
    """``arg`` as a finite float, or None for a string, blob, nil, array or non-finite number."""
    if isinstance(arg, (int, float)) and math.isfinite(arg):
        return float(arg)
    return None


def apply_osc(message: OscMessage, params: Params, tap: TapTempo, audio_time: float,
              preset_names: list[str]) -> bool:
    """Route one message; False when it is not a well-formed vj message (nothing changes then).

    /vj/param/NAME [value]   set a parameter; without a value a trigger fires and a toggle flips
    /vj/preset N|NAME        switch to preset number N (0-based) or by name
    /vj/tempo BPM            set the tempo clock (20..300)
    /vj/beat                 a tap on the tempo clock
    """
    address, args = message.address, message.args
    if address.startswith(PREFIX + "param/"):
        name = address[len(PREFIX + "param/"):]
        if name not in params.specs:
            return False
        if not args:
            curve = params.specs[name].curve
            if curve == "trigger":
                params.fire(name, WRITER)
            elif curve == "toggle":
                params.toggle(name, WRITER)
            else:
                return False
            return True
        value = _number(args[0]) if len(args) == 1 else None
        if value is None:
            return False
        params.set(name, value, WRITER)
        return True
    if address == PREFIX + "preset" and len(args) == 1:
        index = preset_names.index(args[0]) if args[0] in preset_names else _number(args[0])
        if index is None or index != int(index) or not 0 <= index < len(preset_names):
            return False
        params.set("preset", int(index), WRITER)
        return True
    if address == PREFIX + "tempo" and len(args) == 1:
        bpm = _number(args[0])
        if bpm is None or not MIN_BPM <= bpm <= MAX_BPM:
            return False
        tap.set_bpm(bpm, audio_time)
        return True
    if address == PREFIX + "beat":
        tap.tap(audio_time)
        return True
    return False
