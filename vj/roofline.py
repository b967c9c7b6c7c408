"""What this machine can do for a net, measured in the same run as the paths that run it.

A CPPN pixel is a chain of matrix products (2*in*out FLOPs per layer: the first layer takes the three
coordinates, the frame's features being folded into its bias) and one activation per hidden unit. The
roofline is the pixel rate the machine would reach if every product ran at the best rate this machine
multiplies any of the net's layer shapes in that precision (the skinny first and last layers run far
slower alone, but a better kernel could fold them into their neighbours), and every activation at the
best rate torch computes it (eager or compiled), with nothing else in between:

    seconds per pixel = sum(layer FLOPs / best matmul rate) + sum(activations / activation rate)

Rows of `vj bench` show their fraction of it: near 1, a path wastes nothing the machine could give.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from vj.engine.device import engine_workers, torch_threads
from vj.engine.forward import activate
from vj.engine.net import ACTIVATIONS, NetSpec

PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class Throughput:
    """Measured rates on one device: FLOP/s per (precision, layer shape) and elements/s per activation."""

    device: str
    rows: int
    """Pixels per product measured: the chunk the engine runs on this device."""
    matmul: dict[tuple[str, tuple[int, int]], float]
    activation: dict[str, float]
    activation_dtype: str
    threads: int
    """torch's threads for the measured ops: all the engine's (its chunks run side by side, one each)."""


def _seconds(fn, device: torch.device, budget_s: float = 0.25) -> float:
    """Mean seconds of ``fn()`` over enough calls to fill about ``budget_s``, after a warm-up."""
    fn()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        if calls % 4 == 0:
            sync()
            elapsed = time.perf_counter() - start
            if elapsed >= budget_s:
                return elapsed / calls


def measure(spec: NetSpec, device: torch.device, precisions: list[str], activation_dtype: str,
            rows: int, compile_activations: bool = True) -> Throughput:
    """Time ``spec``'s layer shapes in each precision and the four activations, on ``rows`` pixels, with
    as many torch threads as the engine has chunk threads on this device."""
    matmul = {}
    shapes = sorted(set(engine_shapes(spec)))
    threads = engine_workers() if device.type == "cpu" else torch.get_num_threads()
    with torch.inference_mode(), torch_threads(threads):
        for name in precisions:
            dtype = PRECISIONS[name]
            for rows_out, cols_in in shapes:
                a = torch.rand(rows, cols_in, dtype=dtype, device=device)
                w = torch.rand(cols_in, rows_out, dtype=dtype, device=device)
                b = torch.rand(rows_out, dtype=dtype, device=device)
                out = torch.empty(rows, rows_out, dtype=dtype, device=device)
                seconds = _seconds(lambda: torch.addmm(b, a, w, out=out), device)
                matmul[(name, (rows_out, cols_in))] = 2.0 * rows * rows_out * cols_in / seconds
        dtype = PRECISIONS[activation_dtype]
        x = torch.rand(rows, spec.width, dtype=dtype, device=device)
        activation = {}
        for name in ACTIVATIONS:
            eager = _seconds(lambda: activate(name, x), device)
            best = eager
            if compile_activations:
                fused = torch.compile(lambda t, name=name: activate(name, t.clone()), dynamic=False)
                try:
                    best = min(eager, _seconds(lambda: fused(x), device))
                except Exception:  # noqa: BLE001 - no compiler here: torch's eager rate is the best there is
                    compile_activations = False
            activation[name] = x.numel() / best
    return Throughput(str(device), rows, matmul, activation, activation_dtype, threads)


def engine_shapes(spec: NetSpec) -> list[tuple[int, int]]:
    """(out, in) of each product the engine runs per pixel: the first layer over the coordinates alone."""
    return [(spec.width, spec.n_coords)] + spec.layer_shapes()[1:]


def best_rate(throughput: Throughput, precision: str) -> float:
    return max(rate for (name, _), rate in throughput.matmul.items() if name == precision)


def seconds_per_pixel(spec: NetSpec, throughput: Throughput, layer_precisions: list[str]) -> float:
    """The roofline's time for one pixel with each layer's product in ``layer_precisions``
    (first to output), at the measured rates."""
    seconds = 0.0
    for (rows_out, cols_in), name in zip(engine_shapes(spec), layer_precisions):
        seconds += 2.0 * rows_out * cols_in / best_rate(throughput, name)
    for layer in range(spec.depth):
        seconds += spec.width / throughput.activation[spec.activation(layer)]
    return seconds


def layer_precisions(spec: NetSpec, base: str, low_layers: int) -> list[str]:
    """Each product's precision: ``base``, with the last ``low_layers`` hidden products in bf16."""
    hidden = spec.depth - 1
    return [base] + [("bf16" if layer >= hidden - low_layers else base) for layer in range(hidden)] + [base]


def roofline_mpx(spec: NetSpec, throughput: Throughput, precisions: list[str]) -> float:
    return 1e-6 / seconds_per_pixel(spec, throughput, precisions)


def format_throughput(spec: NetSpec, throughput: Throughput) -> str:
    """The measured rates, as the roofline's first table."""
    lines = [f"roofline inputs on {throughput.device} ({throughput.rows} pixels per product, "
             f"torch {torch.__version__}, {throughput.threads} threads)"]
    for (name, (rows_out, cols_in)), rate in sorted(throughput.matmul.items()):
        lines.append(f"  matmul {name:<5} {cols_in:>4} -> {rows_out:<4} {rate / 1e9:>9.1f} GFLOP/s")
    for name, rate in throughput.activation.items():
        lines.append(f"  {name:<12} {throughput.activation_dtype:<5} {rate / 1e9:>9.2f} G/s")
    flops = sum(2 * r * c for r, c in engine_shapes(spec))
    lines.append(f"  net {spec}: {flops / 1e3:.1f} kFLOP and {spec.width * spec.depth} activations per pixel")
    return "\n".join(lines)
