"""What recording and the outputs cost a live show: `vj live` at 720p plain, with `--record`, with
`--output ndi` (a receiver on this machine taking every frame) and with both, side by side.

Runs the real thing headless: an Xvfb display, a JACK dummy server, the demo track playing into vj's
input. Each row is one run of --seconds; the configurations take turns so a busy machine hurts all alike.
The frame rate is held by the pacer, so a cost shows first in the frame's work time and the CPPN size the
resolution controller settles at, then in frames dropped. Ratios are against the plain show in the same run.

    python bench/live_cost.py [--seconds 15] [--rounds 2] [--target-fps 30 60] [--configs plain record ndi ndi+record]
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
            sys.exit(f"live_cost: {what} did not come up")
        time.sleep(0.1)


def _ports(env: dict) -> str:
    return subprocess.run(["jack_lsp"], env=env, capture_output=True, text=True).stdout


def run(env: dict, folder: Path, seconds: float, fps: float, config: str) -> dict:
    stats = folder / f"stats-{fps:g}-{config}.json"
    args = [sys.executable, "-m", "vj", "live", "--input", "system", "--duration", str(seconds), "--target-fps",
            str(fps), "--stats", str(stats), "--size", "1280x720"]
    if "record" in config:
        video = folder / f"show-{fps:g}-{time.monotonic_ns()}.mp4"
        args += ["--record", str(video), "--record-res", "720p"]
    receiver = None
    if "ndi" in config:
        args += ["--output", "ndi:vjbench"]
        receiver = subprocess.Popen([sys.executable, str(ROOT / "tests/live/ndi_receiver.py"), "vjbench",
                                     str(folder / f"ndi-{time.monotonic_ns()}"), "--keep", "100000"], env=env,
                                    stderr=subprocess.DEVNULL)
    vj = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True)
    player = subprocess.Popen([sys.executable, str(ROOT / "tests/live/jack_player.py"), str(ROOT / "assets/demo.ogg"),
                               str(folder / "player.json")], env=env, stderr=subprocess.DEVNULL)
    _wait(lambda: "vj:in_0" in _ports(env) and "vjplayer:out_0" in _ports(env), "vj's input")
    for port in ("vj:in_0", "vj:in_1"):
        subprocess.run(["jack_connect", "vjplayer:out_0", port], env=env, check=True)
    _, err = vj.communicate(timeout=seconds + 120)
    player.terminate()
    if receiver is not None:
        receiver.wait(timeout=30)
    if vj.returncode != 0:
        sys.exit(f"live_cost: vj live failed: {err.strip().splitlines()[-1:]}")
    document = json.loads(stats.read_text())
    settled = document["internal_resolution"][-1]
    recording = document.get("recording") or {}
    outputs = (document.get("outputs") or {"outputs": [{}]})["outputs"][0]
    return {"target_fps": fps, "config": config, "fps": document["fps_median"],
            "frames_per_s": round(document["frames"] / document["duration_s"], 2),
            "work_p50_ms": document["work_time_ms"]["p50"], "work_p95_ms": document["work_time_ms"]["p95"],
            "frame_p99_ms": document["frame_time_ms"]["p99"], "dropped": document["dropped_frames"],
            "cppn": f"{settled['width']}x{settled['height']}", "record_dropped": recording.get("frames_dropped"),
            "ndi_delivered": outputs.get("delivered"), "ndi_dropped": outputs.get("dropped")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--target-fps", type=float, nargs="+", default=[30.0])
    parser.add_argument("--configs", nargs="+", default=["plain", "record"],
                        choices=["plain", "record", "ndi", "ndi+record"], help="the first is the baseline")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="vj-live-cost-"))
    (folder / "ndi-config.v1.json").write_text('{"ndi": {"networks": {"ips": "127.0.0.1"}}}')
    display = next(n for n in range(120, 200) if not Path(f"/tmp/.X{n}-lock").exists())
    env = {**os.environ, "DISPLAY": f":{display}", "JACK_DEFAULT_SERVER": f"vjbench{os.getpid()}",
           "JACK_NO_START_SERVER": "1", "JACK_NO_AUDIO_RESERVATION": "1", "NDI_CONFIG_DIR": str(folder)}
    xvfb = subprocess.Popen(["Xvfb", env["DISPLAY"], "-screen", "0", "1920x1080x24", "-nolisten", "tcp", "-noreset"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    jackd = subprocess.Popen(["jackd", "-n", env["JACK_DEFAULT_SERVER"], "--no-realtime", "-d", "dummy", "-r", "48000",
                              "-p", "512"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: "system:capture_1" in _ports(env), "jackd")
        rows = [run(env, folder, args.seconds, fps, config)
                for fps in args.target_fps for _ in range(args.rounds) for config in args.configs]
    finally:
        jackd.terminate()
        xvfb.terminate()
    for row in rows:
        print(json.dumps(row))
    for fps in args.target_fps:
        def mean(config: str, key: str) -> float:
            return statistics.mean(r[key] for r in rows if r["target_fps"] == fps and r["config"] == config)

        base = args.configs[0]
        for config in args.configs[1:]:
            print(f"target {fps:g} fps: frames/s {config} / {base} = "
                  f"{mean(config, 'frames_per_s') / mean(base, 'frames_per_s'):.3f}; work p50 "
                  f"{mean(base, 'work_p50_ms'):.1f} -> {mean(config, 'work_p50_ms'):.1f} ms")


if __name__ == "__main__":
    main()
