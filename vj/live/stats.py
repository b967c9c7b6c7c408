"""What a live run measured, for the stats file users read after a gig (and tests read after a run)."""

from __future__ import annotations

import csv
import json
import math
from array import array
from collections import deque
from pathlib import Path

import numpy as np

DROP_FACTOR = 1.5
"""A present interval this many periods long or more means frames were dropped."""


def _percentiles(values) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None}
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"p50": round(float(p50), 3), "p95": round(float(p95), 3), "p99": round(float(p99), 3)}


class LiveStats:
    """Per-frame figures, kept compactly: 8 bytes a figure (an array, not a list of float objects at 32),
    so a four-hour night at 60 fps holds about 20 MB."""

    def __init__(self, period_s: float, started: float):
        self.period = period_s
        self.started = started
        self.frame_ms = array("d")  # present-to-present intervals
        self.work_ms = array("d")  # time spent making each frame, before pacing
        self.latency_ms = array("d")
        self.control_latency_ms: deque[float] = deque(maxlen=100_000)
        """From a control message reaching vj to the present of the first frame drawn after it."""
        self.dropped = 0
        self.frame_errors = 0
        self.resolutions: list[dict] = []
        self._last_present: float | None = None

    def frame(self, presented: float, work_s: float, latency_s: float | None) -> None:
        if self._last_present is not None:
            interval = presented - self._last_present
            self.frame_ms.append(1000.0 * interval)
            self.dropped += self._dropped(1000.0 * interval)
        self._last_present = presented
        self.work_ms.append(1000.0 * work_s)
        if latency_s is not None:
            self.latency_ms.append(1000.0 * latency_s)

    def controls(self, presented: float, arrivals: list[float]) -> None:
        self.control_latency_ms.extend(1000.0 * (presented - arrival) for arrival in arrivals)

    def resolution(self, now: float, internal: tuple[int, int], look: tuple[int, int]) -> None:
        self.resolutions.append({"t": round(now - self.started, 3), "width": internal[0], "height": internal[1],
                                 "look": list(look)})

    @property
    def frames(self) -> int:
        return len(self.work_ms)

    def recent_drops(self, frames: int) -> int:
        """Dropped frames among the last ``frames`` intervals (for the HUD's warning)."""
        return sum(self._dropped(ms) for ms in self.frame_ms[-frames:])

    def _dropped(self, interval_ms: float) -> int:
        """Frames missed in one present interval: none unless it is DROP_FACTOR periods or longer."""
        periods = interval_ms / (1000.0 * self.period)
        return round(periods) - 1 if periods >= DROP_FACTOR else 0

    def fps(self, frames: int = 60) -> float:
        recent = self.frame_ms[-frames:]
        return 1000.0 / float(np.median(recent)) if recent else 0.0

    def summary(self, ended: float, audio, params: dict, extra: dict) -> dict:
        median = float(np.median(self.frame_ms)) if self.frame_ms else math.nan
        return {
            "duration_s": round(ended - self.started, 3),
            "frames": self.frames,
            "dropped_frames": self.dropped,
            "frame_errors": self.frame_errors,
            "fps_median": round(1000.0 / median, 2) if self.frame_ms else None,
            "frame_time_ms": _percentiles(self.frame_ms),
            "work_time_ms": _percentiles(self.work_ms),
            "audio_to_frame_latency_ms": _percentiles(self.latency_ms),
            "control_to_frame_latency_ms": _percentiles(list(self.control_latency_ms)),
            "internal_resolution": self.resolutions,
            "audio": {
                "device": audio.device,
                "blocks": audio.blocks,
                "input_overflows": audio.overflows,
                "overrun_samples": audio.overrun_samples,
                "samples": audio.position,
                "events": [{**e, "t": round(e["t"] - self.started, 3)} for e in audio.events],
            },
            "params": params,
            **extra,
        }

    def write(self, path: Path, document: dict) -> None:
        path.write_text(json.dumps(document, indent=2) + "\n")


class FrameTrace:
    """One CSV row per presented frame (`--trace`): for checking a run frame by frame, and for the tests.

    ``t`` is when the frame was presented on the system's monotonic clock (comparable across processes);
    ``luma`` is the picture's mean brightness, 0..1, read back from the GPU (tracing costs a little);
    ``preset`` the preset playing; ``hud`` the HUD's warnings, joined by " | " (empty with the HUD hidden);
    ``seen`` the sample position it is seen at (the performance log's, and the outputs' timecode).
    Each row is written out as the frame is presented, so another process
    can follow the show while it runs.
    """

    COLUMNS = ("frame", "t", "input", "audio_s", "frame_ms", "work_ms", "width", "height", "level", "onset", "bass",
               "beat", "luma", "latency_ms", "preset", "hud", "seen")

    def __init__(self, path: Path):
        self._file = path.open("w", newline="", buffering=1)
        self._writer = csv.writer(self._file)
        self._writer.writerow(self.COLUMNS)

    def row(self, **values) -> None:
        self._writer.writerow([_cell(values[name]) for name in self.COLUMNS])

    def close(self) -> None:
        self._file.close()


def _cell(value) -> str:
    if value is None:
        return ""
    return repr(round(float(value), 6)) if isinstance(value, float) else str(value)
