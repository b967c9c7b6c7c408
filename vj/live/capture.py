"""Audio capture in a child process: PortAudio, one callback that copies into the shared ring, a watchdog.

Why a process and not a thread: when the audio server dies (a USB interface unplugged, JACK restarted)
PortAudio streams just stop, and closing them, terminating PortAudio or even leaving the interpreter then
hangs forever in C. A child can always be abandoned: it watches its own heartbeat and leaves with
``os._exit`` when the callbacks stop, and the parent starts a fresh one, which finds the device again
once it is back. Nothing here knows about analysis, torch or windows.
"""

from __future__ import annotations

import ctypes
import os
import time
from dataclasses import dataclass

from vj.children import ask_for_priority, detach_from_terminal, exit_if_orphaned
from vj.live.ring import HEARTBEAT, OVERFLOWS, SharedRing
from vj.timebase import ANALYSIS_RATE

JACK_CLIENT_NAME = b"vj"
"""The JACK client name of the input, so a patchbay (or a test) can connect to ``vj:in_1``."""
SEARCH_INTERVAL_S = 0.25
"""How often a child that has no device looks again."""
STALL_S = 0.5
"""Callbacks silent this long mean the stream is dead: the child leaves."""
FIRST_BLOCK_S = 2.0
"""A stream that has delivered nothing this long after starting is dead too."""
EXIT_STALLED, EXIT_ERROR = 3, 4


@dataclass(frozen=True)
class CaptureRequest:
    """What the child opens: a device (name part, index or None for the default) and which channels.

    ``channels`` are 0-based device channels, or empty for the first two (one on a mono device).
    ``exact`` asks for the device by its full name: how a lost device is found again after indices moved.
    """

    device: str | None
    channels: tuple[int, ...]
    ring_name: str
    ring_capacity: int
    exact: bool = False

    @property
    def ring_channels(self) -> int:
        return len(self.channels) or 2


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    hostapi: str
    channels: int
    default_rate: float


def input_devices(sd) -> list[InputDevice]:
    """Every device PortAudio can record from."""
    hostapis = sd.query_hostapis()
    return [
        InputDevice(d["index"], d["name"], hostapis[d["hostapi"]]["name"], d["max_input_channels"],
                    d["default_samplerate"])
        for d in sd.query_devices() if d["max_input_channels"] > 0
    ]


def find_input(devices: list[InputDevice], wanted: str | None, default_index: int, exact: bool = False) -> InputDevice:
    """The device a ``--input`` value names: an index, a case-insensitive part of a name, or the default.

    Raises:
        LookupError: with a one-line reason.
    """
    if not devices:
        raise LookupError("no audio input device found (is a sound card plugged in, or the audio server running?)")
    if wanted is None:
        by_index = {d.index: d for d in devices}
        return by_index.get(default_index, devices[0])
    if wanted.isdigit():
        for device in devices:
            if device.index == int(wanted):
                return device
        raise LookupError(f"no audio input with index {wanted}")
    key = wanted.casefold()
    exact_matches = [d for d in devices if d.name.casefold() == key]
    partial = [] if exact else [d for d in devices if key in d.name.casefold()]
    if exact_matches or partial:
        return (exact_matches or partial)[0]
    raise LookupError(f"no audio input matches {wanted!r}")


def check_channels(device: InputDevice, channels: tuple[int, ...]) -> tuple[int, ...]:
    """The device channels to record: the requested ones, or the first two (one on a mono device)."""
    if not channels:
        return (0, 1) if device.channels >= 2 else (0, 0)
    bad = [c + 1 for c in channels if c >= device.channels]
    if bad:
        raise ValueError(f"{device.name} has {device.channels} input channels; channel {bad[0]} does not exist")
    return channels


def name_jack_client(sd, name: bytes = JACK_CLIENT_NAME) -> None:
    """Give PortAudio's JACK client a fixed name. PortAudio keeps the pointer, not a copy: pass a
    constant that lives as long as the process."""
    try:
        set_name = ctypes.CDLL(sd._libname).PaJack_SetClientName
    except (OSError, AttributeError):
        return  # a PortAudio without JACK
    sd._terminate()
    set_name(ctypes.c_char_p(name))
    sd._initialize()


def capture_main(request: CaptureRequest, conn) -> None:
    """The child's whole life: find the device, stream it into the ring, leave when the stream dies.

    Messages to the parent: ("streaming", device dict), ("missing", reason), ("error", reason).
    """
    detach_from_terminal()
    ask_for_priority()
    parent = os.getppid()
    ring = SharedRing(request.ring_channels, request.ring_capacity, name=request.ring_name)
    try:
        import sounddevice as sd
    except OSError:
        conn.send(("error", "the PortAudio library is missing; install it (Debian/Ubuntu: apt install libportaudio2)"))
        os._exit(EXIT_ERROR)
    name_jack_client(sd)
    last_message = None
    while True:
        try:
            device = find_input(input_devices(sd), request.device, sd.default.device[0], request.exact)
            columns = check_channels(device, request.channels)
            rate = _pick_rate(sd, device, max(columns) + 1)
        except (LookupError, ValueError, sd.PortAudioError) as error:
            message = ("missing" if isinstance(error, LookupError) else "error", str(error))
            if message != last_message:
                conn.send(message)
                last_message = message
            exit_if_orphaned(parent)
            time.sleep(SEARCH_INTERVAL_S)
            sd._terminate()  # PortAudio lists devices once per initialisation: look afresh
            sd._initialize()
            continue
        break
    _stream(sd, ring, device, columns, rate, conn, parent)


def _pick_rate(sd, device: InputDevice, channels: int) -> int:
    """48 kHz when the device offers it (no resampling), else its own default rate."""
    try:
        sd.check_input_settings(device.index, channels=channels, samplerate=ANALYSIS_RATE, dtype="float32")
        return ANALYSIS_RATE
    except sd.PortAudioError:
        return int(device.default_rate)


def _stream(sd, ring: SharedRing, device: InputDevice, columns: tuple[int, ...], rate: int, conn, parent: int) -> None:
    """Run the callback until it stops; then leave at once (closing a dead stream would hang)."""
    monotonic = time.monotonic

    def callback(indata, frames, time_info, status):  # the real-time path: copy and count, nothing else
        if status.input_overflow:
            ring.ints[OVERFLOWS] += 1
        ring.write(indata, columns, monotonic())

    ring.floats[HEARTBEAT] = 0.0
    try:
        stream = sd.InputStream(device=device.index, channels=max(columns) + 1, samplerate=rate,
                                dtype="float32", latency="low", callback=callback)
        stream.start()
    except sd.PortAudioError as error:
        conn.send(("error", f"cannot open {device.name}: {error}"))
        os._exit(EXIT_ERROR)
    conn.send(("streaming", {"index": device.index, "name": device.name, "hostapi": device.hostapi,
                             "rate": rate, "channels": [c + 1 for c in columns],
                             "latency_ms": 1000.0 * float(stream.latency)}))
    started = monotonic()
    while True:
        time.sleep(0.05)
        exit_if_orphaned(parent)
        now = monotonic()
        last = float(ring.floats[HEARTBEAT])
        if (last and now - last > STALL_S) or (not last and now - started > FIRST_BLOCK_S):
            os._exit(EXIT_STALLED)


def list_inputs_main(conn) -> None:
    """Child entry for `vj devices`: send the input list (or why there is none) and leave."""
    detach_from_terminal()
    try:
        import sounddevice as sd

        default = sd.default.device[0]
        conn.send(("ok", [(d, d.index == default) for d in input_devices(sd)]))
    except OSError:
        conn.send(("error", "the PortAudio library is missing; install it (Debian/Ubuntu: apt install libportaudio2)"))
    os._exit(0)
