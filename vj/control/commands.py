"""`vj params` and `vj midi learn|monitor`: the controls from the command line, without a show."""

from __future__ import annotations

import time

from vj.control.mapping import find_map, load_map, save_path, user_map_path
from vj.control.midi import MidiInput
from vj.control.router import MidiRouter
from vj.control.standard import show_params
from vj.errors import VJError
from vj.look.palettes import PALETTES
from vj.presets import load_preset, preset_choices
from vj.resources import shipped_names

SETTLE_S = 0.4
"""After a binding, learn waits until the control has been still this long before arming the next."""


def default_params():
    names = preset_choices("default")
    return show_params(load_preset(), len(names), names.index("default"))


def describe_params() -> str:
    """The text `vj params` prints: every parameter, the palettes, presets and shipped MIDI maps."""
    params = default_params()
    lines = ["Parameters (MIDI maps, OSC /vj/param/NAME, vj render --set NAME=VALUE):"]
    lines += [f"  {spec.describe()}" for spec in params.specs.values()]
    lines.append("Palettes (palette = N): 0 the preset's own, " +
                 ", ".join(f"{i} {name}" for i, name in enumerate(PALETTES, start=1)))
    lines.append("Presets (preset = N): " + ", ".join(f"{i} {name}" for i, name in enumerate(preset_choices("default"))))
    lines.append(f"MIDI maps (--map NAME): {', '.join(shipped_names('maps'))}; your own: {user_map_path()}")
    return "\n".join(lines)


def describe_message(data: tuple[int, ...]) -> str:
    """'ch 1  cc 7 = 64' and the like, for `vj midi monitor`."""
    status = data[0]
    names = {0xF8: "clock", 0xFA: "start", 0xFB: "continue", 0xFC: "stop", 0xF2: "song position"}
    if status >= 0xF0:
        return names.get(status, f"system {status:#04x}")
    kind, channel = status & 0xF0, f"ch {(status & 0x0F) + 1:<2}"
    values = list(data[1:])
    if kind == 0xB0:
        return f"{channel} cc {values[0]} = {values[1]}"
    if kind in (0x80, 0x90):
        on = kind == 0x90 and values[1] > 0
        return f"{channel} note {values[0]} {'on' if on else 'off'}" + (f" velocity {values[1]}" if on else "")
    if kind == 0xC0:
        return f"{channel} program {values[0]}"
    if kind == 0xE0:
        return f"{channel} pitchbend {values[0] | values[1] << 7}"
    return f"{channel} {' '.join(f'{b:02x}' for b in data)}"


def learn(names: list[str], map_name: str | None, wanted: str | None, timeout_s: float, say=print) -> None:
    """Bind each parameter in ``names`` to the next control that moves, saving the map after each."""
    params = default_params()
    for name in names:
        params.spec(name)  # an unknown name fails before any MIDI opens
    source = find_map(map_name)
    midi_map = load_map(source, params, missing_ok=True)
    path = save_path(midi_map)
    router = MidiRouter(midi_map, params)
    midi = MidiInput(wanted)
    midi.open()
    try:
        for name in names:
            router.learn.arm(name)
            say(f"move a knob, fader or pad for {name} ...")
            deadline = time.monotonic() + timeout_s
            while router.learned is None:
                now = time.monotonic()
                if now > deadline:
                    where = f"ports: {', '.join(midi.ports)}" if midi.ports else midi.problem or "no MIDI input port"
                    raise VJError(f"no control moved within {timeout_s:g} s ({where}); check `vj devices`")
                for arrival, _port, data in midi.poll(now):
                    router.handle(data, arrival)
                router.tick(now)
                time.sleep(0.005)
            binding, router.learned = router.learned, None
            midi_map.save(path)
            say(f"{binding.describe()} -> {name}, saved to {path}")
            quiet_since = time.monotonic()
            while time.monotonic() - quiet_since < SETTLE_S:
                if midi.poll():
                    quiet_since = time.monotonic()
                time.sleep(0.01)
    finally:
        midi.close()


def monitor(wanted: str | None, duration_s: float | None, say=print) -> None:
    """Print every MIDI message as it arrives (what a controller really sends), until Ctrl-C or the duration."""
    midi = MidiInput(wanted)
    midi.open()
    ports: list[str] = []
    started = time.monotonic()
    try:
        while duration_s is None or time.monotonic() - started < duration_s:
            for arrival, port, data in midi.poll():
                say(f"{arrival - started:9.3f}  {port}  {describe_message(data)}")
            if midi.ports != ports:
                ports = list(midi.ports)
                say(f"ports: {', '.join(ports) or 'none'}")
            time.sleep(0.005)
    finally:
        midi.close()
