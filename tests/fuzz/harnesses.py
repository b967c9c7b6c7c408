"""One harness per door an untrusted byte comes in by, each a function of the bytes alone.

The contract a harness checks: the product answers with one clear line (a VJError without a newline),
or, for OSC and MIDI, counts the message and changes nothing it should not; anything else escaping
(another exception, a MemoryError) is a finding. A hang is caught by the runner (libFuzzer's -timeout,
or the regression test's own limit). Files are written to one scratch folder per process and read back
through the same entry point a user's file takes, so a finding is exactly what a user would hit.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from vj.errors import VJError

_SCRATCH = Path(tempfile.mkdtemp(prefix="vj-fuzz-"))


def _one_line(error: VJError) -> None:
    message = str(error)
    if not message or "\n" in message:
        raise AssertionError(f"an error must be one line, got {message!r}")


def _file(name: str, data: bytes) -> Path:
    path = _SCRATCH / name
    path.write_bytes(data)
    return path


def audio_file(data: bytes) -> None:
    """An audio file handed to `vj render` / `vj analyze`: decoded in full, or one line."""
    from vj.audio.decode import open_audio

    try:
        source = open_audio(_file("track", data))
        for block in source.blocks():
            if not math.isfinite(float(block.sum())):
                raise AssertionError("decoded samples must be finite")
    except VJError as error:
        _one_line(error)


def preset(data: bytes) -> None:
    """A preset file from a stranger (`--preset FILE.toml`)."""
    from vj.presets import load_preset

    try:
        load_preset(str(_file("stranger.toml", data)))
    except VJError as error:
        _one_line(error)


def weights(data: bytes) -> None:
    """A preset's pinned weight file (an .npz), never unpickled, checked before it is allocated."""
    from vj.engine.net import NetSpec
    from vj.engine.weights import load_weights

    try:
        load_weights(_file("weights.npz", data), NetSpec(width=8, depth=2))
    except VJError as error:
        _one_line(error)


def midi_map(data: bytes) -> None:
    """A MIDI map file (`--map FILE.toml`), checked against the show's parameters."""
    from vj.control.mapping import load_map

    try:
        load_map(_file("map.toml", data), _params())
    except VJError as error:
        _one_line(error)


def show_log(data: bytes) -> None:
    """A performance log handed to `vj render --replay`."""
    from vj.record.showlog import read_show_log

    try:
        read_show_log(_file("show.vjlog", data))
    except VJError as error:
        _one_line(error)


def osc_packet(data: bytes) -> None:
    """One UDP datagram on the OSC port: parsed as the listener does, routed as the render thread does."""
    from vj.control.osc import Malformed, OscMessage, apply_osc, parse_datagram
    from vj.control.tap import TapTempo

    try:
        messages = parse_datagram(data)
    except Malformed:  # the listener counts it and reads the next
        return
    params, tap = _params(), TapTempo()
    for address, args in messages:
        apply_osc(OscMessage(address, args, 0.0), params, tap, 1.0, PRESETS)
    _finite(params)


def midi_stream(data: bytes) -> None:
    """Raw MIDI bytes from a controller, framed at status bytes as a driver delivers them, through the
    MIDI child's batching and the router (with a MIDI clock and, for odd first bytes, learn armed)."""
    from vj.control.clock import MidiClock
    from vj.control.mapping import find_map, load_map
    from vj.control.midiports import coalesce
    from vj.control.router import MidiRouter

    params = _params()
    router = MidiRouter(load_map(find_map("generic"), params), params, MidiClock())
    if data[:1] and data[0] & 1:
        router.learn.arm("zoom")
    messages, current = [], []
    for byte in data[1:]:
        if byte & 0x80 and current:
            messages.append(tuple(current))
            current = []
        current.append(byte)
    if current:
        messages.append(tuple(current))
    t = 0.0
    for stamp, _port, message in coalesce([(i * 0.001, "fuzz", m) for i, m in enumerate(messages)]):
        t = stamp
        router.handle(message, t)
        router.tick(t)
    params.advance(t + 1.0)
    _finite(params)


def _params():
    from vj.control.standard import show_params
    from vj.presets import load_preset

    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_preset("default")
    return show_params(_DEFAULT, len(PRESETS), 0)


def _finite(params) -> None:
    for name, value in params.snapshot().items():
        if not math.isfinite(value):
            raise AssertionError(f"{name} became {value}")


_DEFAULT = None
PRESETS = ["default", "ember", "glass"]

HARNESSES = {f.__name__: f for f in (audio_file, preset, weights, midi_map, show_log, osc_packet, midi_stream)}
"""Name (and corpus folder) -> harness."""
