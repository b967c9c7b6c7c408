"""Where the parts of a replay cut for a cluster begin, keep and draw from (the drawing itself is tested
end to end on a live-recorded show in tests/live/test_record.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vj.record.replay import ReplaySettings, ShowAnalysis
from vj.record.replay_parts import cut_replay
from vj.record.showlog import FrameRecord, ShowLog

HEADER = {"fps": "30", "record_fps": "30", "params": {"feedback": 0.0}, "presets": []}


def show_of(records: int, events: dict[int, list], idle: int = 0) -> ShowLog:
    step = 1600  # samples a frame at 30 fps
    frames = [FrameRecord(n, n * step, n, n * step, n * step, n * step, events.get(n, []), idle=n < idle)
              for n in range(records)]
    return ShowLog(Path("show.vjlog"), HEADER, frames)


def cut(show: ShowLog, slots: np.ndarray, part_s: float = 2.0):
    analysis = ShowAnalysis(np.zeros((len(show.frames), 13)), slots)
    return cut_replay(show, analysis, ReplaySettings(Path("show.vjlog"), Path("out.mp4")), part_s, "digest")


def test_parts_keep_every_slot_once_and_preroll_a_second():
    show = show_of(300, {}, idle=5)
    slots = np.where(np.arange(300) < 5, -1, np.arange(300) - 5)
    jobs = cut(show, slots)
    assert [job.kept[0] for job in jobs] == [0, 60, 120, 180, 240]
    assert sum((job.kept for job in jobs), ()) == tuple(range(295)), "every output frame, once, in order"
    assert jobs[0].records == (0, 65) and jobs[0].draw_from == 0, "the first part draws the show's start"
    assert [job.draw_from for job in jobs[1:]] == [35, 95, 155, 215], "30 drawn frames (a second) before each"


def test_a_part_never_starts_drawing_inside_a_freeze():
    """Frozen from record 100 to 199: the picture held was drawn at record 99, so a part that starts in
    the freeze draws from a second before that."""
    show = show_of(300, {100: [["set", "freeze", 1.0, "keys", 0.0, 0]], 200: [["set", "freeze", 0.0, "keys", 0.0, 0]]})
    jobs = cut(show, np.arange(300))
    starts = {job.records[0]: job.draw_from for job in jobs}
    assert starts[120] == starts[180] == 70
    assert starts[240] == 210 and starts[60] == 30


def test_the_longest_trails_set_the_preroll():
    show = show_of(300, {50: [["set", "feedback", 0.97, "midi", 0.0, 0]]})
    jobs = cut(show, np.arange(300))
    assert jobs[1].draw_from == 0, "0.97 feedback needs 228 frames: the first minute's parts draw from the start"
    assert jobs[-1].draw_from == 240 - 228
