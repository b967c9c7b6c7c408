"""A replay cut into parts that workers draw apart (`vj.cluster`), joined into the replay one
process makes.

The analysis of a show is a pass of its own (`vj.record.replay.analyse_show`); the driver runs it once
and every worker gets it with the show's log. A part then replays the show's controls from its start
(the parameters, the preset loads, the morphs and the walk are each a function of everything before),
keeping the pipeline up without drawing until its pre-roll, and draws from there: the trails of a cold
look fade within the pre-roll, and a part never starts drawing inside a freeze (it would miss the
picture held). Keeping up costs a few tens of microseconds a frame of the show before the part.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from vj.errors import VJError
from vj.output.frames import PngWriter
from vj.output.video import VideoWriter
from vj.presets import resolve_preset
from vj.record.replay import ReplaySettings, ShowAnalysis, ShowDrawer, output_fps
from vj.record.showlog import ShowLog
from vj.render.segments import PartResult, preroll_frames

MAX_FEEDBACK = 0.97
"""The feedback parameter's top: the longest trails a show can have."""


@dataclass(frozen=True)
class ReplayPartJob:
    number: int
    records: tuple[int, int]
    """The show's frame records whose pictures this part keeps."""
    draw_from: int
    """The first record it draws (its pre-roll's); before it, the pipeline only keeps up."""
    kept: tuple[int, ...]
    """The output frames (slots) it keeps."""
    settings: ReplaySettings
    """With ``device`` resolved."""
    fps: Fraction
    show_digest: str
    """The show's log and audio, by content (they travel once, beside the jobs)."""

    @property
    def label(self) -> str:
        return f"{self.kept[0] / float(self.fps):.1f}-{(self.kept[-1] + 1) / float(self.fps):.1f} s"

    def identity(self, shared: object) -> tuple:
        """All the part's pictures are a function of (the show by its digest), not where its files are."""
        return (replace(self, number=0, settings=replace(self.settings, log=Path(), output=Path(), frames_dir=None,
                                                          force=False)),)

    def draw(self, shared: tuple[ShowLog, ShowAnalysis], on_frame: Callable[[int], None]) -> PartResult:
        """Draw the part from the show and its analysis (in a worker)."""
        show, analysis = shared
        drawer = ShowDrawer(show, self.settings)
        try:
            with tempfile.TemporaryDirectory(prefix="vj-part-") as work:
                video, frames = Path(work) / "part.mp4", Path(work) / "frames" if self.settings.frames_dir else None
                pngs = PngWriter(frames, drawer.size) if frames else None
                with VideoWriter(video, *drawer.size, self.fps, audio_channels=0) as writer:
                    for slot, picture in drawer.pictures(analysis, self.draw_from, self.records[1]):
                        if slot >= self.kept[0]:
                            writer.write_frame(picture, slot)
                            if pngs:
                                pngs.write(slot, picture)
                            on_frame(1)
                return PartResult.read(video, frames)
        finally:
            drawer.release()


def cut_replay(show: ShowLog, analysis: ShowAnalysis, settings: ReplaySettings, part_s: float,
               show_digest: str) -> list[ReplayPartJob]:
    """The show's output frames in parts of ``part_s`` seconds, each with the records it keeps and the
    pre-roll it draws first."""
    fps = output_fps(show, settings)
    step = max(1, round(part_s * fps))
    slotted = np.flatnonzero(analysis.slots >= 0)
    slots = analysis.slots[slotted]
    targets = np.searchsorted(slots, np.arange(slots[0], slots[-1] + 1, step))
    starts = sorted({int(slotted[i]) for i in targets if i < len(slots)})
    starts[0] = 0  # the first part takes the records before the first picture too
    idle = np.array([record.idle for record in show.frames])
    frozen = _frozen(show)
    preroll = preroll_frames(_longest_trails(show), Fraction(show.header["fps"]))
    jobs = []
    for start, end in zip(starts, [*starts[1:], len(show.frames)]):
        kept = tuple(int(slot) for slot in analysis.slots[start:end] if slot >= 0)
        if kept:
            jobs.append(ReplayPartJob(len(jobs), (start, end), _draw_from(start, preroll, idle, frozen), kept,
                                      settings, fps, show_digest))
    return jobs


def _draw_from(start: int, preroll: int, idle: np.ndarray, frozen: np.ndarray) -> int:
    """The record a part starting at ``start`` draws from: ``preroll`` drawn frames before it, and one
    that draws (not inside a freeze, where the picture held was drawn before it)."""
    drawing = lambda n: not idle[n] and not frozen[n]  # noqa: E731
    first, count = start, 0
    while first > 0 and (count < preroll or not drawing(first)):
        first -= 1
        count += drawing(first)
    return first


def _frozen(show: ShowLog) -> np.ndarray:
    """Per frame record, whether ``freeze`` held the picture (a performer's toggle: only the log sets it)."""
    state = show.header["params"].get("freeze", 0.0) >= 0.5
    frozen = np.zeros(len(show.frames), bool)
    for number, record in enumerate(show.frames):
        for event in record.events:
            if event[0] == "set" and event[1] == "freeze":
                state = event[2] >= 0.5
        frozen[number] = state
    return frozen


def _longest_trails(show: ShowLog) -> float:
    """The most feedback the show ever asked for: at its start, from a control, or in a preset it had."""
    values = [show.header["params"].get("feedback", 0.0)]
    values += [event[2] for record in show.frames for event in record.events if event[0] == "set"
               and event[1] == "feedback"]
    for name in show.header["presets"]:
        try:
            values.append(dict(resolve_preset(name).params).get("feedback", 0.0))
        except VJError:
            continue  # it did not load live either
    return min(max(values), MAX_FEEDBACK)
