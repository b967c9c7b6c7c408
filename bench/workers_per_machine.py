"""How many frames a second one machine gives a cluster render with N workers side by side.

A cluster node runs one part per worker; this starts N `vj render` processes at once, each on its own
span of the demo track (what N workers drawing N parts do, without Ray's scheduling), and prints the
machine's frames/s for each N, as a ratio to one worker in the same run. On a GPU machine the workers
share the GPU: the net takes little of a frame there, the look, the read-back and x264 the rest, so
more workers than GPUs can pay. `docs/SCALING.md` projects long renders from these figures.

    python bench/workers_per_machine.py [--res 4k] [--fps 60] [--seconds 5] [--workers 1 2 4 8] [--device auto]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(workers: int, args: argparse.Namespace, folder: Path) -> dict:
    """N renders of --seconds each, started together: the machine's frames/s from the start of the first
    process to the end of the last, and over the slowest render's own clock (a Ray worker starts once and
    draws many parts, so its start-up is no part's cost)."""
    started = time.perf_counter()
    renders = [
        subprocess.Popen([sys.executable, "-m", "vj", "render", str(ROOT / "assets" / "demo.ogg"), "-o",
                          str(folder / f"w{workers}-{n}.mp4"), "--res", args.res, "--fps", str(args.fps),
                          "--device", args.device, "--quality", args.quality, "--start", str(5 + n * args.seconds),
                          "--duration", str(args.seconds), "--force", "--quiet"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(workers)
    ]
    own = []
    for render in renders:
        out, err = render.communicate()
        if render.returncode:
            sys.exit(f"workers_per_machine: a render failed: {err.strip().splitlines()[-1] if err.strip() else out}")
        own.append(float(out.rsplit(" in ", 1)[1].split(" s,")[0]))  # its own clock: from building its pipeline
    wall = time.perf_counter() - started
    frames = workers * round(args.seconds * args.fps)
    return {"workers": workers, "frames": frames, "wall_s": round(wall, 1), "fps": round(frames / wall, 2),
            "render_s": max(own), "render_fps": round(frames / max(own), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--res", default="720p")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=5.0, help="video each worker renders (default 5)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--quality", default="normal")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="vj-workers-") as folder:
        for workers in args.workers:
            rows.append(run(workers, args, Path(folder)))
            rows[-1]["x_one"] = round(rows[-1]["fps"] / rows[0]["fps"], 2)
            print(json.dumps(rows[-1]) if args.json else
                  f"{rows[-1]['workers']:>3} workers  {rows[-1]['frames']:>6} frames in {rows[-1]['wall_s']:>7.1f} s  "
                  f"{rows[-1]['fps']:>8.2f} frames/s  {rows[-1]['x_one']:>5.2f}x one worker  (rendering alone, "
                  f"without process start-up: {rows[-1]['render_fps']:.2f} frames/s)", flush=True)


if __name__ == "__main__":
    main()
