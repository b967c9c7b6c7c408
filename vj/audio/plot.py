"""`vj analyze --plot`: waveform, features and beats on one time axis, to see what the picture will see."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from vj.audio.features import FeatureTable  # noqa: E402
from vj.timebase import Timebase  # noqa: E402

PANELS = (("bass", "mid", "treble"), ("rms", "flux", "onset"), ("centroid", "rolloff"), ("beat", "beat_phase"))


def plot_analysis(waveform: np.ndarray, table: FeatureTable, timebase: Timebase, path: Path, title: str) -> None:
    times = table.columns["time"]
    figure, axes = plt.subplots(len(PANELS) + 2, 1, figsize=(14, 11), sharex=True)
    step = max(1, len(waveform) // 20000)
    axes[0].plot(np.arange(0, len(waveform), step) / timebase.sample_rate, waveform[::step], lw=0.4, color="0.3")
    axes[0].set_ylabel("waveform")
    for axis, names in zip(axes[1:], PANELS):
        for name in names:
            axis.plot(times, table.columns[name], lw=0.8, label=name)
        axis.legend(loc="upper right", fontsize=7)
    axes[-1].plot(times, table.columns["tempo_bpm"], color="C3", lw=1.0)
    axes[-1].set_ylabel("tempo (BPM)")
    axes[-1].set_xlabel("time (s)")
    for beat in table.beats:
        for axis in (axes[0], axes[-2]):
            axis.axvline(beat.t, color="C2", lw=0.5, alpha=0.6)
    figure.suptitle(f"{title}: {len(table.beats)} beats (green)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
