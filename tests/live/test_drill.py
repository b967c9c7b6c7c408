"""`make drill`: each fault played during a live run with recording on, and what came of it, written as a
row of docs/RELIABILITY.md (fault, what the audience sees, what the HUD says, what is kept, time to
recover). Not part of `make test` (tests/live/conftest.py leaves it out unless VJ_DRILL=1): the same
faults are asserted there one by one; this is the whole table, regenerated."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from tests.live.conftest import start_player, start_vj
from tests.live.test_live_control import PORT, SOURCE, Sender
from tests.live.test_record import _children
from tests.live.test_soak import DEMO, _played
from vj.look.shaders import shader_path

FPS = 30
ROWS: list[dict] = []
"""Filled by the drills, written by tests/live/conftest.py when the session ends."""


@pytest.fixture
def shows():
    """Starts Shows and closes them all at the end, whatever the drill's outcome."""
    started: list[Show] = []

    def start(*args, **options) -> Show:
        show = Show(*args, **options)
        started.append(show)
        return show

    yield start
    for show in started:
        show.close()


class Show:
    """`vj live` recording to ``folder``/show.mp4 with music looping in and a MIDI controller plugged in."""

    def __init__(self, env: dict, jack, folder: Path, *extra, video: Path | None = None):
        self.folder, self.jack, self.env = folder, jack, env
        self.video, self.stats, self.trace = video or folder / "show.mp4", folder / "stats.json", folder / "trace.csv"
        folder.mkdir(parents=True, exist_ok=True)
        self.vj = start_vj(env, "live", "--input", "system", "--target-fps", FPS, "--midi", PORT, "--record",
                           self.video, "--stats", self.stats, "--trace", self.trace, *extra)
        self.midi = Sender(env)
        self.midi("open")
        self.player = None
        self.play()
        jack.wait_for_connection(SOURCE, "vj-midi")
        self.wait_for(lambda rows: len(rows) > 3 * FPS, "the show to run 3 s")

    def play(self) -> None:
        if self.player is not None:  # a server that died leaves its player playing nowhere
            self.player.kill()
        self.player = start_player(self.env, DEMO, self.folder / "player.json", "--loop")
        self.jack.wait_for_port("vj:in_0")
        self.jack.wait_for_port("vjplayer:out_0")
        for port in ("vj:in_0", "vj:in_1"):
            self.jack.connect("vjplayer:out_0", port)

    def rows(self) -> list[dict]:
        with self.trace.open() as trace:
            return [row for row in csv.DictReader(trace) if row.get("hud") is not None]

    def wait_for(self, condition, what: str, timeout: float = 30.0) -> float:
        """Until ``condition(trace rows)``; returns when it held (monotonic)."""
        deadline = time.monotonic() + timeout
        while not (self.trace.exists() and condition(self.rows())):
            assert self.vj.poll() is None, f"vj stopped while waiting for {what}: {self.vj.stderr.read()[-2000:]}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.1)
        return time.monotonic()

    def stop(self, how: int = signal.SIGINT) -> tuple[int, str, float]:
        """Signal the show; its exit status, stderr and seconds to exit."""
        sent = time.monotonic()
        self.vj.send_signal(how)
        _, err = self.vj.communicate(timeout=120)
        took = time.monotonic() - sent
        self.close()
        return self.vj.returncode, err, took

    def close(self) -> None:
        if self.midi.process.poll() is None:
            self.midi.close()
        if self.player is not None:
            self.player.kill()
        if self.vj.poll() is None:
            self.vj.kill()

    def seen(self, since: float, until: float) -> tuple[float, list[str]]:
        """Between two monotonic times: the longest wait between frames (s), and what the HUD warned."""
        rows = [r for r in self.rows() if since <= float(r["t"]) <= until]
        t = np.array([float(r["t"]) for r in rows])
        warned: dict[str, str] = {}  # by its text with the numbers taken out: the last count shown
        for row in rows:
            for warning in row["hud"].split(" | "):
                if warning and "frames dropped" not in warning:
                    warning = re.sub(r"(?<![\w.])/\S*/([^/\s]+)", r"\1", warning)  # file names, not the drill's folders
                    warned[re.sub(r"\d+", "N", warning)] = warning
        return (float(np.diff(t).max()) if len(t) > 1 else float("nan")), list(warned.values())


def row(fault: str, audience: str, hud: list[str] | str, kept: str, recover: str) -> None:
    hud_text = hud if isinstance(hud, str) else ("; ".join(f"`{w[:140]}`" for w in hud) or "nothing")
    ROWS.append({"fault": fault, "audience": audience, "hud": hud_text, "kept": kept, "recover": recover})
    print(json.dumps(ROWS[-1]))


def kept_recording(video: Path) -> str:
    video_s, audio_s, gap_s = _played(video)
    return f"`{video.name}` plays: {video_s:.1f} s of picture, {audio_s:.1f} s of sound, longest gap {gap_s:.2f} s"


def test_audio_server_killed_and_restarted(live_env, jack, tmp_path, shows):
    show = shows(live_env, jack, tmp_path)
    killed = time.monotonic()
    jack.kill()
    time.sleep(3.0)
    back = jack.start()
    show.play()
    again = show.wait_for(lambda rows: float(rows[-1]["t"]) > back and rows[-1]["input"] == "streaming",
                          "the input to stream again")
    gap, warned = show.seen(killed, again)
    code, err, _ = show.stop()
    assert code == 0, err
    row("audio server killed, back 3 s later", f"the picture goes on without the sound (longest frame gap "
        f"{1000 * gap:.0f} ms), then reacts again", warned, kept_recording(show.video),
        f"{again - back:.1f} s after the server is back")


def test_midi_port_unplugged_and_plugged_back(live_env, jack, tmp_path, shows):
    show = shows(live_env, jack, tmp_path)
    pulled = time.monotonic()
    show.midi("close")
    time.sleep(3.0)
    plugged = time.monotonic()
    show.midi("open")
    jack.wait_for_connection(SOURCE, "vj-midi")
    connected = time.monotonic()
    gap, warned = show.seen(pulled, connected)
    code, err, _ = show.stop()
    assert code == 0, err
    events = json.loads(show.stats.read_text())["controls"]["midi"]["events"]
    row("MIDI controller unplugged, plugged back 3 s later", f"nothing (longest frame gap {1000 * gap:.0f} ms)",
        warned, kept_recording(show.video), f"{connected - plugged:.1f} s after it is plugged in "
        f"({', '.join(e['event'] for e in events)})")


def test_disk_fills_up_mid_recording(live_env, jack, tmp_path, shows):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        show = shows(live_env, jack, tmp_path, video=disk / "show.mp4")
        start = time.monotonic()
        show.wait_for(lambda rows: "disk full" in rows[-1]["hud"], "the HUD to say the disk is full", 60)
        time.sleep(3.0)
        gap, warned = show.seen(start, time.monotonic())
        code, err, _ = show.stop()
        kept = sorted(f"{p.name} ({p.stat().st_size >> 10} KiB)" for p in disk.iterdir())
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
    assert code == 0, err
    problem = json.loads(show.stats.read_text())["recording"]["problem"]
    row("disk fills up mid-recording (2 MB tmpfs)", f"nothing: the show goes on (longest frame gap {1000 * gap:.0f} ms)",
        warned, f"{', '.join(kept)}; stats: `{problem[:120]}`", "the show never stopped; the recording stopped "
        "when the disk was full")


def test_shader_replaced_by_garbage_then_fixed(live_env, jack, tmp_path, shows):
    path = shader_path("colour.frag")
    good = path.read_bytes()
    show = shows(live_env, jack, tmp_path)
    try:
        broken = time.monotonic()
        path.write_bytes(b"void main() { this is not GLSL }\n")
        show.wait_for(lambda rows: "shader" in rows[-1]["hud"], "the HUD to name the broken shader")
        time.sleep(2.0)
    finally:
        path.write_bytes(good)
    fixed = time.monotonic()
    healed = show.wait_for(lambda rows: float(rows[-1]["t"]) > fixed and "shader" not in rows[-1]["hud"],
                           "the fixed shader to be taken")
    gap, warned = show.seen(broken, healed)
    code, err, _ = show.stop()
    assert code == 0, err
    row("the colour shader replaced by garbage, then fixed", f"nothing: the last good shader runs (longest frame gap "
        f"{1000 * gap:.0f} ms)", warned, kept_recording(show.video), f"{healed - fixed:.1f} s after the fix is saved")


BAD_PRESETS = {
    "nan-weights": ("NaN weights", lambda folder: _weights(folder / "nan-weights.npz", np.nan)),
    "huge-weights": ("an array header of 10^12 floats", lambda folder: _huge(folder / "huge-weights.npz")),
    "escape": ("weights outside its folder (`../../escape.npz`)", None),
}


def _arrays(value: float) -> dict[str, np.ndarray]:
    """Weights of the drill's 8x2 net, every one ``value``."""
    from vj.engine.net import NetSpec

    arrays = {}
    for index, (rows, cols) in enumerate(NetSpec(width=8, depth=2, activations=("sin",)).layer_shapes()):
        arrays[f"w{index}"], arrays[f"b{index}"] = np.full((rows, cols), value, np.float32), np.zeros(rows, np.float32)
    return arrays


def _weights(path: Path, value: float) -> None:
    np.savez(path, **_arrays(value))


def _huge(path: Path) -> None:
    """A weight file whose first array's header declares 10^12 floats (4 TB)."""
    import io
    import zipfile

    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }".ljust(117) + "\n"
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in _arrays(0.1).items():
            if name == "w0":
                archive.writestr("w0.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
            else:
                buffer = io.BytesIO()
                np.save(buffer, array)
                archive.writestr(f"{name}.npy", buffer.getvalue())


def write_table(path: Path) -> None:
    """docs/RELIABILITY.md from the rows the drills left."""
    lines = [
        "# Reliability: the fault drill",
        "",
        "Written by `make drill` (tests/live/test_drill.py): each fault is played during a `vj live` run at",
        "30 fps under Xvfb and a JACK dummy server, with the demo track looping into the input, a MIDI",
        "controller plugged in and recording on. Times are from the drill's machine (2 cores, software GL).",
        "",
        "| fault | what the audience sees | what the HUD says | what is kept on disk | time to recover |",
        "|---|---|---|---|---|",
    ]
    for r in ROWS:
        cells = [r[key].replace("|", "/") for key in ("fault", "audience", "hud", "kept", "recover")]
        lines.append("| " + " | ".join(cells) + " |")
    path.write_text("\n".join(lines) + "\n")


def test_presets_with_bad_weights_are_refused_while_the_show_plays(live_env, jack, tmp_path, shows):
    config = tmp_path / "config"
    folder = config / "vj" / "presets"
    folder.mkdir(parents=True)
    default = (Path(__file__).resolve().parents[2] / "presets" / "default.toml").read_text()
    for name, (_, make) in BAD_PRESETS.items():
        weights = "../../escape.npz" if make is None else f"{name}.npz"
        text = default.replace('shape = "128x6"', 'shape = "8x2"').replace(
            'activations = ["gaussian", "sin", "tanh", "cos", "tanh", "tanh"]', f'activations = ["sin"]\nweights = "{weights}"')
        (folder / f"{name}.toml").write_text(text)
        if make is not None:
            make(folder)
    env = {**live_env, "XDG_CONFIG_HOME": str(config)}
    from vj.presets import preset_choices

    os.environ["XDG_CONFIG_HOME"], saved = str(config), os.environ.get("XDG_CONFIG_HOME")
    try:
        choices = preset_choices("default")
    finally:
        os.environ.pop("XDG_CONFIG_HOME") if saved is None else os.environ.update(XDG_CONFIG_HOME=saved)
    show = shows(env, jack, tmp_path, "--net", "8x2")  # the presets' own shape: on the CPU another drops their weights
    for name, (what, _) in BAD_PRESETS.items():
        asked = time.monotonic()
        show.midi(f"send 192 {choices.index(name)}")
        said = show.wait_for(lambda rows: "preset not loaded" in rows[-1]["hud"] and name in rows[-1]["hud"],
                             f"the HUD to refuse {name}")
        gap, warned = show.seen(asked, said + 1.0)
        warned = [warning for warning in warned if name in warning]
        playing = {r["preset"] for r in show.rows() if float(r["t"]) > asked}
        row(f"a preset with {what}", f"nothing: {', '.join(sorted(playing))} plays on (longest frame gap "
            f"{1000 * gap:.0f} ms)", warned, "the recording, unaffected", f"never stopped; refused {said - asked:.1f} s "
            "after the switch")
    code, err, _ = show.stop()
    assert code == 0, err


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopped_by_a_signal(live_env, jack, tmp_path, how, shows):
    show = shows(live_env, jack, tmp_path)
    time.sleep(3.0)
    shown = float(show.rows()[-1]["t"]) - float(show.rows()[0]["t"])
    code, err, took = show.stop(how)
    said = err.strip().splitlines()[-1][:80] if err.strip() else ""
    row(f"{signal.Signals(how).name} to the show", "the window closes", f"stderr: `{said}`" if said else
        "nothing on stderr", f"{kept_recording(show.video)} "
        f"(the show ran {shown:.1f} s)", f"exit {code} after {took:.1f} s")
    assert code in (0, 130, 143)


def test_power_cut(live_env, jack, tmp_path, shows):
    show = shows(live_env, jack, tmp_path)
    time.sleep(5.0)
    shown = float(show.rows()[-1]["t"]) - float(show.rows()[0]["t"])
    recorder = _children(show.vj.pid)
    for pid in [show.vj.pid, *recorder]:
        os.kill(pid, signal.SIGKILL)
    show.vj.wait(timeout=10)
    show.close()
    partial = show.video.with_name("show.partial.mp4")
    video_s, _, _ = _played(partial)
    logged = [p.name for p in (show.video.with_suffix(".vjlog"), show.video.with_suffix(".flac")) if p.stat().st_size]
    row("SIGKILL to the show and its recorder (a power cut)", "the window is gone", "nothing (no time to say)",
        f"{kept_recording(partial)}: all but the last {shown - video_s:.1f} s of a {shown:.1f} s show; "
        f"{' and '.join(logged)} kept for `vj render --replay`", "start vj again (a few seconds)")
    assert shown - video_s <= 2.5
