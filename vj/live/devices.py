"""`vj devices`: the audio inputs, MIDI ports and monitors `vj live` can use, each found its own safe way.

Audio is listed from a child process (a dead audio server can hang PortAudio for good), MIDI through
rtmidi (ALSA first, JACK where ALSA has no sequencer), monitors through glfw when there is a display.
"""

from __future__ import annotations


from vj.children import start_child, stop_child
from vj.control.midiports import list_ports
from vj.errors import VJError
from vj.live.capture import list_inputs_main

LIST_TIMEOUT_S = 10.0


def audio_inputs() -> list[tuple]:
    """[(InputDevice, is_default)], from a child process; VJError if PortAudio is missing or hangs."""
    child, receiver = start_child(list_inputs_main, name="vj-devices")
    try:
        if not receiver.poll(LIST_TIMEOUT_S):
            raise VJError("the audio system did not answer within 10 s; is the audio server stuck?")
        kind, payload = receiver.recv()
    except EOFError:
        raise VJError("the audio system failed while listing devices") from None
    finally:
        stop_child(child)
    if kind != "ok":
        raise VJError(payload)
    return payload


def describe_devices() -> str:
    """The text `vj devices` prints."""
    lines = ["Audio inputs (--input INDEX or a part of the name):"]
    inputs = audio_inputs()
    for device, default in inputs:
        mark = "*" if default else " "
        lines.append(f" {mark}{device.index:3d}  {device.name}  [{device.hostapi}, {device.channels} ch, "
                     f"{device.default_rate / 1000:g} kHz]")
    if not inputs:
        lines.append("   none found (plug in an interface or start the audio server)")
    elif any(default for _, default in inputs):
        lines.append("   (* the system default)")
    api, ports = list_ports()
    lines.append(f"MIDI inputs{f' ({api})' if api else ''}:")
    lines += [f"  {i:3d}  {name}" for i, name in enumerate(ports)] or ["   none found"]
    lines.append("Monitors (--fullscreen INDEX or a part of the name):")
    try:
        from vj.live.window import monitors

        lines += [f"  {m['index']:3d}  {m['name']}  {m['width']}x{m['height']} @ {m['refresh_hz']} Hz at "
                  f"({m['x']}, {m['y']})" for m in monitors()] or ["   none found"]
    except VJError as error:
        lines.append(f"   none: {str(error).split(';')[0]}")
    return "\n".join(lines)
