"""Recording a live show and replaying it: real window (Xvfb), real audio and MIDI (JACK), real decoded
video (PyAV). A show is recorded with knobs, a preset switch and taps; its replay must give the same
frames; a killed show must leave a playable file; a full disk must stop the recording, not the show."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from tests.live.conftest import start_player, start_vj
from tests.live.test_live_control import PORT, SOURCE, Sender, free_udp_port, osc_send
from vj.record.lossless import read_flac
from vj.record.showlog import read_show_log

DEMO = Path(__file__).resolve().parents[2] / "assets" / "demo.ogg"
FPS = 30


def decoded_frames(path: Path) -> dict[int, np.ndarray]:
    """Every frame of the video by its frame number (pts at 30 fps), as int16 RGB."""
    frames = {}
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.video[0]):
            frames[round(float(frame.pts * frame.time_base) * FPS)] = frame.to_ndarray(format="rgb24").astype(np.int16)
    return frames


def decoded_audio(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        blocks = [frame.to_ndarray() for frame in container.decode(container.streams.audio[0])]
    return np.concatenate(blocks, axis=1).T


def start_show(live_env, jack, tmp_path, *args) -> tuple[subprocess.Popen, subprocess.Popen]:
    """`vj live` at 30 fps with the demo track playing into its input from the moment it listens."""
    vj = start_vj(live_env, "live", "--input", "system", "--target-fps", FPS, *args)
    player = start_player(live_env, DEMO, tmp_path / "player.json")
    jack.wait_for_port("vj:in_0")
    jack.wait_for_port("vjplayer:out_0")
    for port in ("vj:in_0", "vj:in_1"):
        jack.connect("vjplayer:out_0", port)
    return vj, player


def wait_for_logged_frames(log: Path, frames: int, vj: subprocess.Popen, timeout: float = 90.0) -> None:
    """Until the show's performance log holds ``frames`` frames (it is flushed twice a second)."""
    deadline = time.monotonic() + timeout
    while vj.poll() is None and time.monotonic() < deadline:
        if log.exists() and log.read_bytes().count(b"\n") > frames:
            return
        time.sleep(0.2)
    raise AssertionError(f"the show logged fewer than {frames} frames in {timeout:g} s (exit code {vj.poll()})")


def test_a_recorded_show_replays_to_the_same_frames(live_env, jack, tmp_path):
    show, stats_path, osc = tmp_path / "show.mp4", tmp_path / "stats.json", free_udp_port()
    vj, player = start_show(live_env, jack, tmp_path, "--duration", "120", "--midi", PORT, "--osc", osc,
                            "--record", show, "--stats", stats_path)
    send = Sender(live_env)
    try:
        send("open")
        jack.wait_for_connection(SOURCE, "vj-midi")
        time.sleep(2.0)
        send("sweep 1 1 0 127")  # zoom (cc 1), picked up on its way
        send("send 144 39 100")  # the next preset (note 39): it loads in the background and morphs in
        for _ in range(4):  # taps on the beat clock, over OSC
            osc_send(osc, "/vj/beat", 1.0)
            time.sleep(0.5)
        send("sweep 1 6 0 90")  # symmetry (cc 6)
    finally:
        send.close()
    # Stopped by the test once 13 s are logged, not by --duration: on a loaded machine a fixed length ran
    # out before the controls above were sent (a fresh-clone run logged none of them).
    wait_for_logged_frames(show.with_suffix(".vjlog"), 13 * FPS, vj)
    vj.send_signal(signal.SIGTERM)
    out, err = vj.communicate(timeout=90)
    player.terminate()
    assert vj.returncode == 0, err
    assert "Traceback" not in err

    stats = json.loads(stats_path.read_text())
    recording = stats["recording"]
    assert recording["problem"] == "" and recording["takes"], recording
    log = read_show_log(show.with_suffix(".vjlog"))
    events = [event[0] for frame in log.frames for event in frame.events]
    took = [kind for frame in log.frames for kind in frame.took]
    assert events.count("set") >= 3 and events.count("tap") == 4 and took == ["switch"], (events, took)

    replay = tmp_path / "replay.mp4"
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "vj", "render", "--replay", show.with_suffix(".vjlog"), "-o", replay,
                             "--frames", tmp_path / "replayed", "--quiet"], env=live_env, capture_output=True,
                            text=True, timeout=300)
    replay_s = time.monotonic() - started
    assert result.returncode == 0, result.stderr

    # The same replay on two Ray workers in 4 s parts (each replays the controls from the show's start and
    # draws from its pre-roll): the same pictures, byte for byte, morph and knobs included.
    cluster = subprocess.run([sys.executable, "-m", "vj", "render", "--replay", show.with_suffix(".vjlog"), "-o",
                              tmp_path / "cluster.mp4", "--frames", tmp_path / "cluster", "--quiet", "--cluster",
                              "local:2", "--chunk", "4"], env=live_env, capture_output=True, text=True, timeout=300)
    assert cluster.returncode == 0, cluster.stderr
    pngs = sorted(path.name for path in (tmp_path / "replayed").glob("*.png"))
    assert len(pngs) >= 0.9 * 10 * FPS and pngs == sorted(path.name for path in (tmp_path / "cluster").glob("*.png"))
    differing = [name for name in pngs if (tmp_path / "replayed" / name).read_bytes() != (tmp_path / "cluster" / name).read_bytes()]
    assert differing == [], f"{len(differing)} of {len(pngs)} frames differ on the cluster, first {differing[:3]}"
    assert sorted(decoded_frames(tmp_path / "cluster.mp4")) == sorted(decoded_frames(replay))

    live, again = decoded_frames(show), decoded_frames(replay)
    common = sorted(set(live) & set(again))
    same = [float(np.abs(live[n] - again[n]).mean()) for n in common]
    shifted = [float(np.abs(live[n] - again[n + 1]).mean()) for n in common if n + 1 in again]
    figures = {"live_fps": stats["fps_median"], "live_frame_ms": stats["frame_time_ms"],
               "recorded": len(live), "replayed": len(again), "dropped": recording["frames_dropped"],
               "match_mean": round(float(np.mean(same)), 3), "match_worst_frame": round(max(same), 3),
               "next_frame_mean": round(float(np.mean(shifted)), 3), "replay_s": round(replay_s, 1)}
    print(json.dumps(figures))
    # Both files hold the same frames, each H.264-encoded once at CRF 18-20: two such encodes of a frame
    # differ by about 2 levels on average (measured 1.4-2.4 per frame). Encoded with the recording's own
    # settings, the replay decodes to identical frames (0.0); a frame's neighbour differs by ~26 levels.
    assert len(common) >= 0.95 * len(live) and len(live) >= 0.9 * 10 * FPS
    assert figures["match_mean"] < 3.0 and figures["match_worst_frame"] < 4.5
    assert figures["next_frame_mean"] > 3 * figures["match_mean"], "the comparison cannot tell frames apart"

    # A/V: the recording's sound is the input the analyzer heard (the FLAC), from the same first sample.
    heard = read_flac(show.with_suffix(".flac"))[:, :2]
    sound = decoded_audio(show)
    window = slice(48000, 48000 * 4)
    lags = range(-480, 481, 4)
    scores = [float(np.dot(sound[window.start + lag:window.stop + lag, 0], heard[window, 0])) for lag in lags]
    assert abs(list(lags)[int(np.argmax(scores))]) <= 4, "the recording's audio is shifted against the input"


def test_a_killed_show_leaves_a_playable_recording(live_env, jack, tmp_path):
    """SIGKILL to the show and its recorder at once (a power cut): the fragments written so far play, and
    the log replays; SIGKILL to the show alone: the recorder finishes the file properly."""
    for everything in (True, False):
        folder = tmp_path / ("power-cut" if everything else "show-killed")
        folder.mkdir()
        show = folder / "show.mp4"
        vj, player = start_show(live_env, jack, folder, "--record", show)
        deadline = time.monotonic() + 30
        while not _seconds_logged(show.with_suffix(".vjlog")) >= 6.0:
            assert vj.poll() is None and time.monotonic() < deadline, vj.stderr.read() if vj.poll() is not None else ""
            time.sleep(0.1)
        recorder = _children(vj.pid)
        os.kill(vj.pid, signal.SIGKILL)
        if everything:
            for pid in recorder:
                os.kill(pid, signal.SIGKILL)
        vj.wait(timeout=10)
        player.terminate()
        if everything:
            video = folder / "show.partial.mp4"
        else:
            video = show
            for _ in range(200):  # the orphaned recorder notices within a second, then remuxes
                if show.exists() and not (folder / "show.partial.mp4").exists():
                    break
                time.sleep(0.1)
        frames = decoded_frames(video)
        last = max(frames) / FPS
        audio_s = len(decoded_audio(video)) / 48000
        print(json.dumps({"killed": "show and recorder" if everything else "show", "file": video.name,
                          "video_s": round(last, 2), "audio_s": round(audio_s, 2), "frames": len(frames)}))
        assert last >= 4.0 and audio_s >= 4.0
        if not everything:
            assert last >= 5.5, "the recorder lost frames the show had sent"
    replay = subprocess.run([sys.executable, "-m", "vj", "render", "--replay", tmp_path / "power-cut" / "show.vjlog",
                             "-o", tmp_path / "replay.mp4", "--quiet"], env=live_env, capture_output=True, text=True,
                            timeout=300)
    assert replay.returncode == 0, replay.stderr
    assert max(decoded_frames(tmp_path / "replay.mp4")) / FPS >= 5.0


def _seconds_logged(log: Path) -> float:
    """How far the show's performance log has got (its lines are flushed every half second)."""
    try:
        lines = log.read_bytes().splitlines()
    except OSError:
        return 0.0
    for line in reversed(lines[1:]):
        try:
            return json.loads(line)["at"] / 48000
        except (ValueError, KeyError):
            continue
    return 0.0


def _children(pid: int) -> list[int]:
    result = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in result.stdout.split()]


def test_a_full_disk_stops_the_recording_and_the_show_goes_on(live_env, jack, tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        stats_path = tmp_path / "stats.json"
        vj, player = start_show(live_env, jack, tmp_path, "--duration", "10", "--record", disk / "show.mp4",
                                "--stats", stats_path, "--trace", tmp_path / "trace.csv")
        out, err = vj.communicate(timeout=90)
        player.terminate()
        kept = sorted(path.name for path in disk.iterdir())
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
    assert vj.returncode == 0, err
    assert "Traceback" not in err
    stats = json.loads(stats_path.read_text())
    problem = stats["recording"]["problem"]
    print(json.dumps({"problem": problem, "fps": stats["fps_median"], "frames": stats["frames"], "kept": kept}))
    assert "disk full" in problem and "show.partial.mp4" in problem
    assert stats["fps_median"] >= 0.9 * FPS and stats["frames"] >= 0.85 * 9 * FPS, "the show did not go on"
