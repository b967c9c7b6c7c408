"""MIDI and OSC steering `vj live` end to end: a JACK virtual MIDI port plays a controller (knobs, pads,
clock, a flood, a pulled cable) and OSC comes over loopback; --stats and --trace show what vj did."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.control.test_osc import udp_listeners
from tests.live.conftest import start_vj
from tests.live.test_live_show import read_trace
from vj.control.params import curve_value
from vj.presets import preset_choices

PORT = "vjknobs"
SOURCE = f"vjsender:{PORT}"


class Sender:
    """tests/live/midi_sender.py as a child: one command, one reply."""

    def __init__(self, env: dict):
        self.process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("midi_sender.py")), PORT],
                                        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def __call__(self, command: str) -> str:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        reply = self.process.stdout.readline().strip()
        assert reply, f"the MIDI sender died on {command!r}"
        return reply

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write("exit\n")
            self.process.stdin.flush()
            self.process.wait(timeout=10)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_udp_listener(port: int, timeout: float = 30.0) -> set[str]:
    deadline = time.monotonic() + timeout
    while not (addresses := udp_listeners(port)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return addresses


def osc_send(port: int, address: str, value: float) -> None:
    from pythonosc.udp_client import SimpleUDPClient

    SimpleUDPClient("127.0.0.1", port).send_message(address, value)


def frames_between(trace: dict, start: float, end: float) -> int:
    return int(np.count_nonzero((trace["t"] >= start) & (trace["t"] < end)))


def wait_for_preset_change(trace_path, timeout: float = 30.0) -> None:
    """Until the show's trace has a frame of another preset than its first (a load takes longer on a
    busy machine: knobs turned before it lands are reset by it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with trace_path.open() if trace_path.exists() else io.StringIO() as trace:
            presets = {row["preset"] for row in csv.DictReader(trace) if row.get("hud") is not None}
        if len(presets) > 1:
            return
        time.sleep(0.1)
    raise AssertionError(f"no preset switch reached the show in {timeout:g} s")


def test_midi_and_osc_steer_a_live_show(live_env, jack, tmp_path):
    osc = free_udp_port()
    stats_path, trace_path = tmp_path / "stats.json", tmp_path / "trace.csv"
    vj = start_vj(live_env, "live", "--input", "system", "--duration", "26", "--target-fps", "30", "--midi", PORT,
                  "--clock", "midi", "--osc", osc, "--stats", stats_path, "--trace", trace_path)
    send = Sender(live_env)
    try:
        jack.wait_for_port("vj:in_0")
        assert wait_for_udp_listener(osc) == {"127.0.0.1"}, "OSC must listen on this machine only unless told"
        send("open")
        jack.wait_for_connection(SOURCE, "vj-midi")
        send("send 144 39 100")  # the next preset (note 39): it resets the parameters it owns, zoom too
        wait_for_preset_change(trace_path)  # it loads in the background and lands at a frame
        send("sweep 1 1 0 127")  # zoom (cc 1): passes the parameter's value, so it picks up
        send("sweep 1 1 127 100")
        send("sweep 1 6 0 64")  # symmetry (cc 6) from where it stands
        send("send 144 37 100")  # freeze (note 37) on and off again
        send("send 144 37 100")
        send("send 176 7 100")  # feedback (cc 7) far from its value: soft takeover holds it
        osc_send(osc, "/vj/param/brightness", 1.5)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as garbage:
            garbage.sendto(b"\x00not osc", ("127.0.0.1", osc))
        send("clock 128 4")
        time.sleep(0.5)
        quiet = (time.monotonic(), time.monotonic() + 3.0)
        time.sleep(3.0)
        flood = json.loads(send("flood 10000 3 3"))  # hue (cc 3), 10,000 messages a second
        send("close")  # the cable is pulled...
        time.sleep(1.0)
        send("open")  # ...and plugged back
        jack.wait_for_connection(SOURCE, "vj-midi")
        send("sweep 1 3 0 127")
        send("sweep 1 3 127 90")
    finally:
        send.close()
    out, err = vj.communicate(timeout=90)
    assert vj.returncode == 0, err
    assert "Traceback" not in err

    stats = json.loads(stats_path.read_text())
    params, controls = stats["params"], stats["controls"]
    trace = read_trace(trace_path)
    quiet_frames = frames_between(trace, *quiet)
    flood_frames = frames_between(trace, flood["start"], flood["end"])
    figures = {"control_to_frame_latency_ms": stats["control_to_frame_latency_ms"], "midi": controls["midi"]["received"],
               "flood_sent": flood["sent"], "fps_quiet": quiet_frames / 3.0,
               "fps_flood": flood_frames / (flood["end"] - flood["start"]), "clock": controls["clock"],
               "midi_events": controls["midi"]["events"], "frame_errors": stats.get("frame_errors"),
               "jackd": jack.log_tail()}
    print(json.dumps(figures))

    assert params["zoom"] == pytest.approx(curve_value("log", 100 / 127, 0.25, 4.0), abs=1e-5)
    assert params["symmetry"] == pytest.approx(64 / 127, abs=1e-5)
    assert params["freeze"] == 0.0
    assert params["feedback"] == 0.0, "a knob far from its parameter must not make it jump"
    names = preset_choices("default")
    assert params["preset"] == names.index("default") + 1 and params["preset_name"] == names[names.index("default") + 1]
    assert params["brightness"] == 1.5
    assert params["hue"] == pytest.approx(90 / 127, abs=1e-5), "the re-plugged controller works again"
    assert controls["osc"]["received"] >= 1 and controls["osc"]["malformed"] == 1
    assert controls["clock"]["midi_clock_bpm"] == pytest.approx(128.0, abs=0.5)
    events = [e["event"] for e in controls["midi"]["events"]]
    assert events.count("attached") >= 2 and "lost" in events
    assert controls["midi"]["received"] >= 0.9 * flood["sent"]
    assert figures["fps_flood"] >= 0.9 * figures["fps_quiet"] > 20, "the flood cost frames"
    latency = stats["control_to_frame_latency_ms"]  # a frame period is 33 ms here
    assert latency["p50"] < 100 and latency["p95"] < 200


def test_midi_learn_binds_the_next_moving_controls_and_saves_the_map(jack, tmp_path):
    path = tmp_path / "my-controller.toml"
    learn = start_vj(jack.env, "midi", "learn", "zoom", "freeze", "--map", path, "--midi", PORT, "--timeout", "30")
    send = Sender(jack.env)
    try:
        send("open")
        jack.wait_for_connection(SOURCE, "vj-midi")
        send("sweep 2 21 0 40")  # a knob on channel 2: zoom
        time.sleep(1.0)  # learn waits for the knob to rest before it arms the next parameter
        send("send 144 50 90")  # a pad: freeze
        out, err = learn.communicate(timeout=30)
    finally:
        send.close()
    assert learn.returncode == 0, err
    assert "cc 21 ch 2 -> zoom" in out and "note 50 ch 1 -> freeze" in out
    from vj.control.commands import default_params
    from vj.control.mapping import load_map

    bindings = {b.param: b for b in load_map(path, default_params()).bindings}
    assert (bindings["zoom"].kind, bindings["zoom"].number, bindings["zoom"].channel) == ("cc", 21, 2)
    assert (bindings["freeze"].kind, bindings["freeze"].number) == ("note", 50)


def test_midi_learn_with_nothing_moving_gives_up_in_one_line(jack, tmp_path):
    learn = start_vj(jack.env, "midi", "learn", "zoom", "--map", tmp_path / "m.toml", "--timeout", "1")
    out, err = learn.communicate(timeout=30)
    assert learn.returncode == 2 and "Traceback" not in err
    assert err.startswith("vj: error: no control moved within 1 s") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.toml").exists()
