"""`vj bench --analyzer`: what the audio analysis costs, per second of audio, as a share of one core.

The analyzer runs on the render thread live, so its cost comes straight out of the frame budget. It is
timed on the shipped demo track with the thread's CPU clock (not the wall clock, so a busy machine does
not inflate it), in the block sizes live and offline feed it, beside the beat tracker alone and the
budget it must stay under.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np

from vj.audio.analyzer import HOP, Analyzer
from vj.audio.beat import BeatTracker
from vj.audio.decode import read_audio, to_mono
from vj.resources import resource_dir
from vj.timebase import ANALYSIS_RATE, Timebase

BUDGET = 0.02
"""The analyzer may take at most 2% of one core."""


@dataclass(frozen=True)
class CostRow:
    path: str
    ms_per_audio_s: float
    core_pct: float
    budget_ratio: float
    """Cost over the budget: below 1.0 is within it."""


def _cpu_seconds(run) -> float:
    start = time.thread_time()
    run()
    return time.thread_time() - start


def measure_cost(fps: int = 60, live_block: int = 800, offline_block: int = 4096) -> list[CostRow]:
    """Time the analyzer at ``fps`` over the demo track in live-sized and offline-sized blocks."""
    mono = to_mono(read_audio(resource_dir("assets") / "demo.ogg"))
    seconds = len(mono) / ANALYSIS_RATE
    timebase = Timebase(Fraction(fps))

    def feed(block: int):
        def run():
            analyzer = Analyzer(timebase)
            for start in range(0, len(mono), block):
                analyzer.process(mono[start:start + block])
        return run

    activations = np.random.default_rng(0).normal(-2.0, 2.0, len(mono) // HOP)  # the tracker alone, busy input

    def track():
        tracker = BeatTracker(ANALYSIS_RATE / HOP)
        for value in activations:
            tracker.push(float(value))

    paths = {f"analyzer, {live_block}-sample blocks (live)": feed(live_block),
             f"analyzer, {offline_block}-sample blocks (offline)": feed(offline_block),
             "beat tracker alone": track}
    feed(offline_block)()  # warm-up: FFT plans, first-call allocations
    rows = []
    for name, run in paths.items():
        share = _cpu_seconds(run) / seconds
        rows.append(CostRow(name, round(share * 1000, 2), round(share * 100, 3), round(share / BUDGET, 3)))
    return rows


def format_cost(rows: list[CostRow], as_json: bool) -> str:
    if as_json:
        return "\n".join(json.dumps(asdict(row)) for row in rows)
    lines = [f"{'path':<40} {'ms per s of audio':>18} {'% of a core':>12} {'x budget':>9}"]
    lines += [f"{r.path:<40} {r.ms_per_audio_s:>18.2f} {r.core_pct:>12.2f} {r.budget_ratio:>9.2f}" for r in rows]
    lines.append(f"budget: {BUDGET * 100:.0f}% of one core (x budget below 1.00 is within it)")
    return "\n".join(lines)
