"""`vj analyze`: a whole file through the streaming analyzer, as JSON and as a plot."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vj.audio.analyzer import analyze_blocks
from vj.audio.decode import AudioSource, open_audio, to_mono
from vj.audio.features import EXTRA_NAMES, FEATURE_NAMES, FeatureTable
from vj.errors import VJError
from vj.timebase import Timebase


def analyze_source(source: AudioSource, timebase: Timebase, progress: bool = True,
                   keep_waveform: bool = False) -> tuple[FeatureTable, int, np.ndarray | None]:
    """Feed the file through the analyzer in decoded blocks, with a progress bar in seconds of audio.

    Returns:
        (the feature table, samples read, the mono waveform if ``keep_waveform`` else None)
    """
    kept: list[np.ndarray] = []
    bar = tqdm(total=source.duration_s and round(source.duration_s, 1), unit="s", desc="analyse", leave=False,
               disable=not progress, file=sys.stderr, bar_format="{l_bar}{bar}| {n:.0f}/{total_fmt} s")

    def mono_blocks():
        for block in source.blocks():
            seconds = len(block) / timebase.sample_rate
            bar.update(min(seconds, bar.total - bar.n) if bar.total else seconds)
            mono = to_mono(block)
            if keep_waveform:
                kept.append(mono)
            yield mono

    with bar:
        frames, beats, total = analyze_blocks(mono_blocks(), timebase)
    waveform = np.concatenate(kept) if keep_waveform and kept else None
    return FeatureTable(frames, beats), total, waveform


def report(table: FeatureTable, timebase: Timebase, total: int) -> dict:
    """The `vj analyze --json` document: per-frame features, committed beats and tempo."""
    columns = table.columns
    return {
        "fps": float(timebase.fps),
        "sample_rate": timebase.sample_rate,
        "duration_s": total / timebase.sample_rate,
        "features": {name: _rounded(columns[name]) for name in FEATURE_NAMES + EXTRA_NAMES if name != "tempo_bpm"},
        "beats": [{"t": round(b.t, 5), "known_at": round(b.known_at, 5)} for b in table.beats],
        "tempo_bpm": _rounded(columns["tempo_bpm"]),
    }


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 5) for v in values]


def analyze_file(audio: Path, fps, json_path: Path | None, plot_path: Path | None, progress: bool = True) -> dict:
    """Analyse ``audio`` at ``fps`` and write the JSON and/or plot; returns the JSON document."""
    for path, flag in ((json_path, "--json"), (plot_path, "--plot")):
        if path is not None and path.is_dir():
            raise VJError(f"{flag} {path}: is a directory; give a file name")
    timebase = Timebase(fps)
    table, total, waveform = analyze_source(open_audio(audio), timebase, progress, keep_waveform=plot_path is not None)
    document = report(table, timebase, total)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(document))
    if plot_path is not None:
        from vj.audio.plot import plot_analysis  # matplotlib is slow to import; only when asked

        plot_analysis(waveform, table, timebase, plot_path, title=audio.name)
    return document
