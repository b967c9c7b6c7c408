"""`vj bench`: every path of the engine against the naive prototype-style path and against this machine's
roofline (`vj.roofline`), all measured in the same run; and offline renders end to end per quality.

Paths: ``naive`` (the prototype's way, `vj.engine.naive`), ``fast`` (the engine, eager), ``compiled``
(the engine's chunk function under torch.compile), ``fused`` (the Triton kernel, CUDA), ``graphed`` (the
fused frame captured as a CUDA graph). Each runs in fp32 (fp16 on CUDA) and, where the CPU has native
bf16, in the mixed precision the engine chooses (see `vj.engine.forward`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from vj import roofline
from vj.engine.cppn import CPPN, Canvas
from vj.engine.device import engine_workers, select_device, torch_threads
from vj.engine.forward import bf16_native
from vj.engine.naive import NaiveCPPN
from vj.engine.net import NetSpec
from vj.presets import load_preset

Render = Callable[[np.ndarray, float, int, int], np.ndarray]


@dataclass(frozen=True)
class BenchRow:
    path: str
    device: str
    precision: str
    net: str
    res: str
    mpx_s: float
    fps: float
    ms_frame: float
    ratio: float
    """Speed relative to the naive path measured in the same run."""
    roofline_frac: float
    """Fraction of this machine's roofline for the net in this precision, measured in the same run."""


@dataclass(frozen=True)
class EndToEndRow:
    path: str
    device: str
    net: str
    res: str
    """The output's size; the net draws at ``internal``."""
    internal: str
    fps: float
    x_realtime: float
    engine_fps: float
    """The same settings' engine alone (net and look, no decode, analysis or encode)."""
    overlap: float
    """End-to-end frames/s over engine-only frames/s: 1.0 when everything else hides behind the engine."""


def _time_frames(renders: list[Render], width: int, height: int, frames: int, seed: int) -> list[float]:
    """Each render's median seconds per frame over ``frames`` frames of changing inputs, after a warm-up
    frame each. The renders take turns frame by frame, so a slower spell of the machine (another
    process, a clock change) falls on all of them alike instead of on whichever ran then."""
    rng = np.random.default_rng(seed)
    inputs = rng.uniform(0, 0.4, (frames + 1, 9)).astype(np.float32)
    for render in renders:
        render(inputs[0], 0.0, width, height)
    times: list[list[float]] = [[] for _ in renders]
    for i in range(1, frames + 1):
        for render, mine in zip(renders, times):
            start = time.perf_counter()
            render(inputs[i], i / 30.0, width, height)
            mine.append(time.perf_counter() - start)
    return [float(np.median(t)) for t in times]


def _engine(spec: NetSpec, device: torch.device, dtype: torch.dtype, mixed: bool) -> CPPN:
    preset = load_preset("default")
    params = preset.engine
    return CPPN(spec, seed=params.seed, device=device, dtype=dtype, evolution=dict(preset.params)["evolution"],
                coord_scale=params.coord_scale, output_gain=params.output_gain, mixed=mixed)


def _canvas_render(engine: CPPN, canvas: Canvas) -> Render:
    return lambda inputs, t, width, height: canvas.render(engine.state(t), inputs, width, height)


def _with_torch_threads(render: Render, device: torch.device) -> Render:
    """The prototype ran each op on all of torch's threads, as a plain torch program does: so does its
    path here (the engine's own paths run chunks side by side instead, one thread each)."""
    if device.type != "cpu":
        return render

    def threaded(*args):
        with torch_threads(engine_workers()):
            return render(*args)

    return threaded


def engine_paths(spec: NetSpec, device: torch.device, dtype: torch.dtype) -> list[tuple[str, str, Render, list[str]]]:
    """(path, precision, render, each product's precision) for every path this machine runs."""
    base = "fp32" if dtype == torch.float32 else "fp16"
    plain = _engine(spec, device, dtype, mixed=False)
    engines = [(base, plain)]
    mixed = _engine(spec, device, dtype, mixed=True)
    if mixed.low_layers:
        engines.append((f"{base}+bf16x{mixed.low_layers}", mixed))
    paths = [("naive", base, _with_torch_threads(NaiveCPPN(plain).render, device),
              roofline.layer_precisions(spec, base, 0))]
    for kind in ("fast", "compiled", "fused", "graphed"):
        for precision, engine in engines:
            canvas = Canvas(device, dtype, compiled=kind == "compiled", fused=kind in ("fused", "graphed"),
                            graphed=kind == "graphed")
            if kind in ("fused", "graphed") and not canvas.fused:
                continue
            paths.append((kind, precision, _canvas_render(engine, canvas),
                          roofline.layer_precisions(spec, base, engine.low_layers)))
    return paths


def run_bench(spec: NetSpec, width: int, height: int, device: str = "auto",
              frames: int = 5) -> tuple[list[BenchRow], str]:
    """Time every path on the default preset's settings with ``spec``'s shape, after measuring the
    roofline; returns the rows and the roofline's inputs and figures as a table."""
    torch_device, dtype = select_device(device)
    if torch_device.type == "cuda":
        precisions = ["fp16", "bf16"]
    else:
        precisions = ["fp32"] + (["bf16"] if bf16_native() else [])
    rows = 4096 if torch_device.type == "cpu" else 1 << 21
    throughput = roofline.measure(spec, torch_device, precisions, "fp32" if dtype == torch.float32 else "fp16", rows)
    paths = engine_paths(spec, torch_device, dtype)
    timings = _time_frames([render for _, _, render, _ in paths], width, height, frames, seed=2)
    naive = timings[0]
    rows = []
    for (path, precision, _, layers), seconds in zip(paths, timings):
        mpx_s = width * height / seconds / 1e6
        rows.append(BenchRow(
            path=path, device=torch_device.type, precision=precision, net=str(spec), res=f"{width}x{height}",
            mpx_s=round(mpx_s, 4), fps=round(1.0 / seconds, 3), ms_frame=round(seconds * 1000, 2),
            ratio=round(naive / seconds, 2),
            roofline_frac=round(mpx_s / roofline.roofline_mpx(spec, throughput, layers), 3),
        ))
    lines = [roofline.format_throughput(spec, throughput), "roofline for this net:"]
    for precision, layers in sorted({(precision, tuple(layers)) for _, precision, _, layers in paths}):
        lines.append(f"  {precision:<12} {roofline.roofline_mpx(spec, throughput, list(layers)):>8.3f} Mpx/s")
    return rows, "\n".join(lines)


def run_end_to_end(audio: Path, seconds: float, device: str, qualities: list[str], workdir: Path,
                   res: tuple[int, int] = (1280, 720), fps: int = 30) -> list[EndToEndRow]:
    """Render ``seconds`` of ``audio`` at each quality with the `vj render` command, whole (decode,
    analysis, engine, look, encode: its own clock, from building the pipeline to the finished file, so
    not the second or two a process takes to start), and the same frames through the net alone."""
    from fractions import Fraction

    from vj.render.offline import engine_only_fps
    from vj.render.quality import quality_for
    from vj.render.settings import RenderSettings

    device_type = select_device(device)[0].type
    rows = []
    for name in qualities:
        output = workdir / f"bench-{name}.mp4"
        command = [sys.executable, "-m", "vj", "render", str(audio), "-o", str(output), "--res", f"{res[0]}x{res[1]}",
                   "--fps", str(fps), "--device", device, "--duration", str(seconds), "--quality", name,
                   "--force", "--quiet"]
        summary = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        wall = float(summary.rsplit(" in ", 1)[1].split(" s,")[0])  # the render's own clock: not the start-up
        frames = round(seconds * fps)
        settings = RenderSettings(audio=audio, output=output, width=res[0], height=res[1], fps=Fraction(fps),
                                  device=device, duration_s=seconds, force=True, quality=name)
        engine_fps = engine_only_fps(settings, frames=min(frames, 30))
        quality = quality_for(name, device_type)
        rows.append(EndToEndRow(
            path=f"offline-{name}", device=device_type, net=quality.net or "preset",
            res=f"{res[0]}x{res[1]}", internal="x".join(map(str, quality.internal(*res))),
            fps=round(frames / wall, 2), x_realtime=round(seconds / wall, 3),
            engine_fps=round(engine_fps, 2), overlap=round(frames / wall / engine_fps, 3),
        ))
    return rows


def format_rows(rows: list[BenchRow], as_json: bool) -> str:
    if as_json:
        return "\n".join(json.dumps(asdict(row)) for row in rows)
    header = (f"{'path':<9} {'device':<6} {'precision':<12} {'net':<7} {'res':<10} {'Mpx/s':>8} {'fps':>8} "
              f"{'ms/frame':>9} {'x naive':>8} {'roofline':>9}")
    lines = [header]
    for r in rows:
        lines.append(f"{r.path:<9} {r.device:<6} {r.precision:<12} {r.net:<7} {r.res:<10} {r.mpx_s:>8.3f} "
                     f"{r.fps:>8.2f} {r.ms_frame:>9.1f} {r.ratio:>8.2f} {r.roofline_frac:>9.0%}")
    return "\n".join(lines)


def format_end_to_end(rows: list[EndToEndRow], as_json: bool) -> str:
    if as_json:
        return "\n".join(json.dumps(asdict(row)) for row in rows)
    header = (f"{'path':<16} {'device':<6} {'net':<7} {'output':<10} {'net res':<10} {'fps':>7} "
              f"{'x realtime':>10} {'engine fps':>10} {'overlap':>8}")
    lines = [header] + [
        f"{r.path:<16} {r.device:<6} {r.net:<7} {r.res:<10} {r.internal:<10} {r.fps:>7.2f} {r.x_realtime:>10.3f} "
        f"{r.engine_fps:>10.2f} {r.overlap:>8.0%}"
        for r in rows
    ]
    return "\n".join(lines)
