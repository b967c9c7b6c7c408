"""What recording costs a live show: `vj live` with and without `--record` (720p), side by side.

Runs the real thing headless: an Xvfb display, a JACK dummy server, the demo track playing into vj's
input. Each row is one run of --seconds; rows alternate without/with recording so a busy machine hurts
both alike. The frame rate is held by the pacer, so the cost shows first in the frame's work time and
the CPPN size the resolution controller settles at, then in frames dropped.

    python bench/record_cost.py [--seconds 15] [--rounds 2] [--target-fps 30 60]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _wait(condition, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            sys.exit(f"record_cost: {what} did not come up")
        time.sleep(0.1)


def _ports(env: dict) -> str:
    return subprocess.run(["jack_lsp"], env=env, capture_output=True, text=True).stdout


def run(env: dict, folder: Path, seconds: float, fps: float, record: bool) -> dict:
    stats = folder / f"stats-{fps:g}-{record}.json"
    args = [sys.executable, "-m", "vj", "live", "--input", "system", "--duration", str(seconds), "--target-fps",
            str(fps), "--stats", str(stats)]
    if record:
        video = folder / f"show-{fps:g}-{time.monotonic_ns()}.mp4"
        args += ["--record", str(video), "--record-res", "720p"]
    vj = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True)
    player = subprocess.Popen([sys.executable, str(ROOT / "tests/live/jack_player.py"), str(ROOT / "assets/demo.ogg"),
                               str(folder / "player.json")], env=env, stderr=subprocess.DEVNULL)
    _wait(lambda: "vj:in_0" in _ports(env) and "vjplayer:out_0" in _ports(env), "vj's input")
    for port in ("vj:in_0", "vj:in_1"):
        subprocess.run(["jack_connect", "vjplayer:out_0", port], env=env, check=True)
    _, err = vj.communicate(timeout=seconds + 120)
    player.terminate()
    if vj.returncode != 0:
        sys.exit(f"record_cost: vj live failed: {err.strip().splitlines()[-1:]}")
    document = json.loads(stats.read_text())
    settled = document["internal_resolution"][-1]
    recording = document.get("recording") or {}
    return {"target_fps": fps, "record": record, "fps": document["fps_median"],
            "frames_per_s": round(document["frames"] / document["duration_s"], 2),
            "work_p50_ms": document["work_time_ms"]["p50"], "work_p95_ms": document["work_time_ms"]["p95"],
            "frame_p99_ms": document["frame_time_ms"]["p99"], "dropped": document["dropped_frames"],
            "cppn": f"{settled['width']}x{settled['height']}", "record_dropped": recording.get("frames_dropped")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--target-fps", type=float, nargs="+", default=[30.0])
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="vj-record-cost-"))
    display = next(n for n in range(120, 200) if not Path(f"/tmp/.X{n}-lock").exists())
    env = {**os.environ, "DISPLAY": f":{display}", "JACK_DEFAULT_SERVER": f"vjbench{os.getpid()}",
           "JACK_NO_START_SERVER": "1", "JACK_NO_AUDIO_RESERVATION": "1"}
    xvfb = subprocess.Popen(["Xvfb", env["DISPLAY"], "-screen", "0", "1920x1080x24", "-nolisten", "tcp", "-noreset"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    jackd = subprocess.Popen(["jackd", "-n", env["JACK_DEFAULT_SERVER"], "--no-realtime", "-d", "dummy", "-r", "48000",
                              "-p", "512"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: "system:capture_1" in _ports(env), "jackd")
        rows = [run(env, folder, args.seconds, fps, record)
                for fps in args.target_fps for _ in range(args.rounds) for record in (False, True)]
    finally:
        jackd.terminate()
        xvfb.terminate()
    for row in rows:
        print(json.dumps(row))
    for fps in args.target_fps:
        plain = [r for r in rows if r["target_fps"] == fps and not r["record"]]
        recorded = [r for r in rows if r["target_fps"] == fps and r["record"]]
        ratio = statistics.mean(r["frames_per_s"] for r in recorded) / statistics.mean(r["frames_per_s"] for r in plain)
        print(f"target {fps:g} fps: frames/s with recording / without = {ratio:.3f}; work p50 "
              f"{statistics.mean(r['work_p50_ms'] for r in plain):.1f} -> "
              f"{statistics.mean(r['work_p50_ms'] for r in recorded):.1f} ms")


if __name__ == "__main__":
    main()
