"""The per-frame audio snapshot that the engine and the look read: one immutable record per video frame."""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

import numpy as np

FEATURE_NAMES = ("bass", "mid", "treble", "centroid", "rolloff", "flux", "time", "beat", "rms")
"""The prototype's nine per-frame features, in the order the CPPN takes them."""

EXTRA_NAMES = ("tempo_bpm", "beat_phase", "onset")
"""Features beyond the nine: tempo (0 until the tracker locks), predicted beat phase (0..1), onset strength."""


@dataclass(frozen=True)
class FrameFeatures:
    """What the analyzer knows about the audio at the end of one video frame's interval.

    Levels (bass, mid, treble, flux, rms, onset) are adaptively normalised to about 0..1; centroid and
    rolloff map 100 Hz..12 kHz on a log scale to 0..1; ``time`` is seconds from the start; ``beat`` is a
    pulse that is 1 on a (predicted) beat and decays within a fraction of the beat.
    """

    index: int
    bass: float
    mid: float
    treble: float
    centroid: float
    rolloff: float
    flux: float
    time: float
    beat: float
    rms: float
    tempo_bpm: float
    beat_phase: float
    onset: float

    def vector(self) -> np.ndarray:
        """The nine CPPN features as float32, in FEATURE_NAMES order."""
        return np.array([getattr(self, name) for name in FEATURE_NAMES], dtype=np.float32)

    @classmethod
    def from_row(cls, row: np.ndarray) -> FrameFeatures:
        """The frame of one row of `feature_rows` (float64 holds every field exactly)."""
        return cls(int(row[0]), *(float(value) for value in row[1:]))


def feature_rows(frames: list[FrameFeatures]) -> np.ndarray:
    """(frames, fields) float64, one row a frame in field order: features in one array, to hand over whole."""
    return np.array([astuple(f) for f in frames], dtype=np.float64).reshape(len(frames), len(fields(FrameFeatures)))


@dataclass(frozen=True)
class Beat:
    """A beat at ``t`` seconds, committed by the analyzer when the audio had reached ``known_at``."""

    t: float
    known_at: float


class FeatureTable:
    """All frames of a file as columns: what offline renders and `vj analyze` hand around."""

    def __init__(self, frames: list[FrameFeatures], beats: list[Beat]):
        self.beats = beats
        names = [f.name for f in fields(FrameFeatures)]
        rows = feature_rows(frames)
        self.columns = {name: rows[:, i] for i, name in enumerate(names)}
        self._frames = frames

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, index: int) -> FrameFeatures:
        return self._frames[index]

    def matrix(self) -> np.ndarray:
        """(frames, 9) float32 of the CPPN's features."""
        return np.stack([self.columns[n] for n in FEATURE_NAMES], axis=1).astype(np.float32)
