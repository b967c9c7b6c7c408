"""Scoring beat trackers against truth: the figures the beat tracker's targets are stated in.

A folder holds audio files, each with a ``.beats`` file beside it (one beat time in seconds per line).
Each file is run through a *causal* tracker (vj's own streaming analyzer, or aubio's tempo tracker for
comparison) and scored:

- F-measure as mir_eval computes it (70 ms window, beats in the first 5 s ignored);
- lock: seconds from the first true beat to the first run of four hits in a row;
- follow: after an abrupt tempo change in the truth, true beats until the next run of four hits;
- tempo error: median of |estimate / truth - 1| once locked, and whether the estimate sits at a
  metrical multiple (half, double, thirds) rather than the tempo: an octave error;
- lead: how far ahead of each beat it was committed (``t - known_at``), and how many came late.

Files named ``SONG.CONDITION.ext`` (as vj's own set in `vj.audio.beatset` is) are also averaged per
condition, so clean and room-microphone figures can be read side by side.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np

from vj.audio.analyzer import analyze_blocks
from vj.audio.decode import read_audio, to_mono
from vj.errors import VJError
from vj.timebase import ANALYSIS_RATE, Timebase

WINDOW_S = 0.07
SKIP_S = 5.0
LOCK_RUN = 4
"""Hits in a row that count as locked."""
CHANGE = 0.02
"""A step in the true beat interval larger than this fraction is a tempo change."""
METRICAL_RATIOS = (0.5, 2.0, 1 / 3, 3.0, 2 / 3, 1.5)
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".opus", ".mp3", ".m4a", ".aiff", ".aif")
TEMPO_READINGS_FPS = 10
"""How often the tempo estimate is sampled for the tempo error."""


@dataclass(frozen=True)
class Tracked:
    """What a causal tracker said about one file: beats, when it committed them, and its tempo over time."""

    beats: np.ndarray
    known_at: np.ndarray
    tempo_t: np.ndarray
    tempo_bpm: np.ndarray
    """0 where the tracker had no tempo."""


@dataclass(frozen=True)
class BeatScore:
    name: str
    condition: str
    f_measure: float
    lock_s: float
    """nan when it never locked."""
    follow_beats: float
    """nan where the truth has no abrupt tempo change."""
    tempo_error_pct: float
    octave_error: bool
    lead_ms: float
    late: int
    """Beats after the lock committed after their time."""


def track_vj(mono: np.ndarray) -> Tracked:
    """vj's streaming analyzer over the file in 4096-sample blocks, exactly as live feeds it."""
    blocks = (mono[start:start + 4096] for start in range(0, len(mono), 4096))
    frames, beats, _ = analyze_blocks(blocks, Timebase(Fraction(TEMPO_READINGS_FPS)))
    return Tracked(
        beats=np.array([b.t for b in beats]), known_at=np.array([b.known_at for b in beats]),
        tempo_t=np.array([f.time for f in frames]), tempo_bpm=np.array([f.tempo_bpm for f in frames]),
    )


def track_aubio(mono: np.ndarray) -> Tracked:
    """aubio's causal tempo tracker with its default method and the usual 1024/512 window and hop."""
    try:
        import aubio
    except ImportError:
        raise VJError("the aubio tracker needs the aubio package: pip install aubio") from None
    hop = 512
    tracker = aubio.tempo("default", 1024, hop, ANALYSIS_RATE)
    beats, known, tempo_t, tempo = [], [], [], []
    every = ANALYSIS_RATE // (hop * TEMPO_READINGS_FPS)
    for i in range(len(mono) // hop):
        if tracker(np.ascontiguousarray(mono[i * hop:(i + 1) * hop], dtype=np.float32))[0]:
            beats.append(tracker.get_last_s())
            known.append((i + 1) * hop / ANALYSIS_RATE)
        if i % every == 0:
            tempo_t.append((i + 1) * hop / ANALYSIS_RATE)
            tempo.append(tracker.get_bpm() if tracker.get_confidence() > 0 else 0.0)
    return Tracked(np.array(beats), np.array(known), np.array(tempo_t), np.array(tempo))


TRACKERS: dict[str, Callable[[np.ndarray], Tracked]] = {"vj": track_vj, "aubio": track_aubio}


def f_measure(truth: np.ndarray, beats: np.ndarray) -> float:
    """mir_eval's beat F-measure with its usual trimming of the first 5 s and a 70 ms window."""
    try:
        import mir_eval
    except ImportError:
        raise VJError("scoring beats needs mir_eval: pip install 'vj[eval]'") from None
    truth, beats = mir_eval.beat.trim_beats(truth, SKIP_S), mir_eval.beat.trim_beats(beats, SKIP_S)
    if len(truth) == 0 or len(beats) == 0:
        return 0.0
    return float(mir_eval.beat.f_measure(truth, beats, f_measure_threshold=WINDOW_S))


def _hits(truth: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """For each true beat, whether some estimated beat lies within the window (a boolean per true beat)."""
    if len(beats) == 0:
        return np.zeros(len(truth), dtype=bool)
    return np.abs(truth[:, None] - beats[None, :]).min(axis=1) <= WINDOW_S


def _first_run(hits: np.ndarray, start: int = 0) -> int | None:
    """Index of the first true beat, from ``start``, that begins LOCK_RUN hits in a row."""
    run = 0
    for j in range(start, len(hits)):
        run = run + 1 if hits[j] else 0
        if run == LOCK_RUN:
            return j - LOCK_RUN + 1
    return None


def score(name: str, truth: np.ndarray, tracked: Tracked, condition: str = "") -> BeatScore:
    """All the figures for one file."""
    hits = _hits(truth, tracked.beats)
    lock = _first_run(hits)
    lock_s = float(truth[lock] - truth[0]) if lock is not None else math.nan
    intervals = np.diff(truth)
    changes = [i + 1 for i in range(1, len(intervals)) if abs(intervals[i] / intervals[i - 1] - 1) > CHANGE]
    follow = math.nan
    for change in changes:
        found = _first_run(hits, change)
        follow = np.nanmax([follow, (found - change) if found is not None else len(truth) - change])
    locked_at = truth[lock] if lock is not None else math.inf
    readings = (tracked.tempo_t >= locked_at) & (tracked.tempo_t < truth[-1]) & (tracked.tempo_bpm > 0)
    tempo_error, octave = math.nan, False
    if readings.any():
        at = np.clip(np.searchsorted(truth, tracked.tempo_t[readings]) - 1, 0, len(intervals) - 1)
        ratio = tracked.tempo_bpm[readings] / (60.0 / intervals[at])
        tempo_error = float(np.median(np.abs(ratio - 1)) * 100)
        metrical = np.any([np.abs(ratio / r - 1) < 0.03 for r in METRICAL_RATIOS], axis=0)
        octave = bool(metrical.mean() > 0.5)
    after = tracked.beats >= locked_at
    lead = tracked.beats[after] - tracked.known_at[after]
    return BeatScore(
        name=name, condition=condition, f_measure=f_measure(truth, tracked.beats), lock_s=lock_s,
        follow_beats=float(follow), tempo_error_pct=tempo_error, octave_error=octave,
        lead_ms=float(np.median(lead) * 1000) if len(lead) else math.nan, late=int((lead < 0).sum()),
    )


def find_files(directory: Path) -> list[tuple[Path, Path]]:
    """(audio, truth) pairs in ``directory``, sorted by name."""
    if not directory.is_dir():
        raise VJError(f"{directory} is not a folder; pass a folder of audio files with .beats files beside them "
                      "(--make-set writes vj's own)")
    pairs = [(p, p.with_suffix(".beats")) for p in sorted(directory.iterdir())
             if p.suffix.lower() in AUDIO_SUFFIXES and p.with_suffix(".beats").exists()]
    if not pairs:
        raise VJError(f"{directory} holds no audio file with a .beats file beside it "
                      "(NAME.flac + NAME.beats, one beat time in seconds per line)")
    return pairs


def read_beats(path: Path) -> np.ndarray:
    """One time in seconds per line; blank lines and '#' comments skipped; more columns ignored."""
    try:
        rows = [line.split()[0] for line in path.read_text().splitlines() if line.strip() and line[0] != "#"]
        truth = np.array([float(x) for x in rows])
    except (ValueError, UnicodeDecodeError, OSError) as error:
        raise VJError(f"{path}: not a beat list ({error}); write one time in seconds per line") from None
    if len(truth) < LOCK_RUN or np.any(np.diff(truth) <= 0):
        raise VJError(f"{path}: needs at least {LOCK_RUN} beat times in increasing order")
    return truth


def evaluate(pairs: list[tuple[Path, Path]], tracker: str = "vj", progress=None) -> list[BeatScore]:
    """Track and score every file; ``progress`` is called with each file's score as it finishes."""
    track = TRACKERS[tracker]
    scores = []
    for audio, beats in pairs:
        truth = read_beats(beats)
        mono = to_mono(read_audio(audio))
        song, _, condition = audio.stem.partition(".")
        scores.append(score(song, truth, track(mono), condition))
        if progress:
            progress(scores[-1])
    return scores


def summary(scores: list[BeatScore]) -> dict[str, dict[str, float]]:
    """Means per condition and over everything (locks and follows that never happened count as missing)."""
    groups = {c: [s for s in scores if s.condition == c] for c in dict.fromkeys(s.condition for s in scores)}
    if len(groups) > 1 or "" not in groups:
        groups["all"] = scores
    table = {}
    for condition, group in groups.items():
        locks = [s.lock_s for s in group if not math.isnan(s.lock_s)]
        follows = [s.follow_beats for s in group if not math.isnan(s.follow_beats)]
        table[condition or "all"] = {
            "files": len(group),
            "f_measure": float(np.mean([s.f_measure for s in group])),
            "locked": len(locks),
            "lock_s": float(np.median(locks)) if locks else math.nan,
            "lock_s_max": float(max(locks)) if locks else math.nan,
            "follow_beats_max": float(max(follows)) if follows else math.nan,
            "tempo_error_pct": float(np.nanmedian([s.tempo_error_pct for s in group])),
            "octave_errors": sum(s.octave_error for s in group),
            "lead_ms": float(np.nanmedian([s.lead_ms for s in group])),
            "late": sum(s.late for s in group),
        }
    return table


def format_row(s: BeatScore) -> str:
    name = f"{s.name}.{s.condition}" if s.condition else s.name
    return (f"{name:<28} {s.f_measure:>5.3f} {_num(s.lock_s, 5, 1)} {_num(s.follow_beats, 6, 0)} "
            f"{_num(s.tempo_error_pct, 7, 2)} {'yes' if s.octave_error else 'no':>6} {_num(s.lead_ms, 7, 0)} "
            f"{s.late:>5}")


HEADER = f"{'file':<28} {'F':>5} {'lock':>5} {'follow':>6} {'tempo%':>7} {'octave':>6} {'lead':>7} {'late':>5}"
UNITS = f"{'':<28} {'':>5} {'s':>5} {'beats':>6} {'err':>7} {'':>6} {'ms':>7} {'beats':>5}"


def format_summary(table: dict[str, dict[str, float]]) -> str:
    lines = [f"{'condition':<12} {'files':>5} {'F':>6} {'locked':>7} {'lock s':>7} {'max':>5} {'follow':>6} "
             f"{'tempo%':>7} {'octave':>6} {'lead ms':>7} {'late':>5}"]
    for condition, row in table.items():
        lines.append(
            f"{condition:<12} {row['files']:>5} {row['f_measure']:>6.3f} {row['locked']:>7} "
            f"{_num(row['lock_s'], 7, 1)} {_num(row['lock_s_max'], 5, 1)} {_num(row['follow_beats_max'], 6, 0)} "
            f"{_num(row['tempo_error_pct'], 7, 2)} {row['octave_errors']:>6} {_num(row['lead_ms'], 7, 0)} "
            f"{row['late']:>5}")
    return "\n".join(lines)


def write_json(path: Path, tracker: str, scores: list[BeatScore]) -> None:
    clean = lambda x: None if isinstance(x, float) and math.isnan(x) else x  # noqa: E731
    document = {"tracker": tracker, "files": [{k: clean(v) for k, v in asdict(s).items()} for s in scores],
                "summary": {c: {k: clean(v) for k, v in row.items()} for c, row in summary(scores).items()}}
    path.write_text(json.dumps(document, indent=1))


def _num(value: float, width: int, digits: int) -> str:
    return f"{'-':>{width}}" if math.isnan(value) else f"{value:>{width}.{digits}f}"
