"""`vj bench`: the engine's speed against the naive prototype-style path, in the same run, as ratios."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

import numpy as np

from vj.engine.cppn import CPPN
from vj.engine.device import select_device
from vj.engine.naive import NaiveCPPN
from vj.engine.net import NetSpec
from vj.presets import load_preset


@dataclass(frozen=True)
class BenchRow:
    path: str
    device: str
    net: str
    res: str
    mpx_s: float
    fps: float
    ms_frame: float
    ratio: float
    """Speed relative to the naive path measured in the same run."""


def _time_frames(render, width: int, height: int, frames: int, seed: int) -> float:
    """Median seconds per frame over ``frames`` frames of changing inputs, after one warm-up frame."""
    rng = np.random.default_rng(seed)
    inputs = rng.uniform(0, 0.4, (frames + 1, 9)).astype(np.float32)
    render(inputs[0], 0.0, width, height)
    times = []
    for i in range(1, frames + 1):
        start = time.perf_counter()
        render(inputs[i], i / 30.0, width, height)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def run_bench(spec: NetSpec, width: int, height: int, device: str = "auto", frames: int = 5) -> list[BenchRow]:
    """Time the engine and the naive path on the default preset's settings with ``spec``'s shape."""
    torch_device, dtype = select_device(device)
    preset = load_preset("default")
    params = preset.engine
    engine = CPPN(spec, seed=params.seed, device=torch_device, dtype=dtype, evolution=dict(preset.params)["evolution"],
                  coord_scale=params.coord_scale, output_gain=params.output_gain)
    paths = {"naive": NaiveCPPN(engine).render, "engine": engine.render}
    seconds = {name: _time_frames(render, width, height, frames, seed=2) for name, render in paths.items()}
    rows = []
    for name, sec in seconds.items():
        rows.append(BenchRow(
            path=name, device=f"{torch_device.type}:{str(dtype).removeprefix('torch.')}", net=str(spec),
            res=f"{width}x{height}", mpx_s=round(width * height / sec / 1e6, 4), fps=round(1.0 / sec, 3),
            ms_frame=round(sec * 1000, 2), ratio=round(seconds["naive"] / sec, 2),
        ))
    return rows


def format_rows(rows: list[BenchRow], as_json: bool) -> str:
    if as_json:
        return "\n".join(json.dumps(asdict(row)) for row in rows)
    header = f"{'path':<8} {'device':<14} {'net':<8} {'res':<10} {'Mpx/s':>8} {'fps':>8} {'ms/frame':>9} {'x naive':>8}"
    lines = [header] + [
        f"{r.path:<8} {r.device:<14} {r.net:<8} {r.res:<10} {r.mpx_s:>8.3f} {r.fps:>8.2f} {r.ms_frame:>9.1f} {r.ratio:>8.2f}"
        for r in rows
    ]
    return "\n".join(lines)
