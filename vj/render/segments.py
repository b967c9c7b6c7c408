"""A render cut into parts that are rendered apart and joined into the video one render makes.

Every frame is a function of (preset, seed, frame index, the features and the live parameters up to it),
except what the look carries from frame to frame: the trails. So the process that cuts the render
(a cluster's driver) analyses the audio once and walks the parameters through every frame; each part
gets its frames' features and the parameters as they stood before its first frame (a checkpoint, so the
integrals behind the evolution walk and the rotation reach it exact, not summed again from another
start). A part starts drawing `preroll_frames` before its first kept frame, long enough for the trails
of a cold start to fade below an 8-bit level; from there its pictures are those of a render from the
start, byte for byte (tested). Each part is its own encode, so it starts with a keyframe and the join
copies packets (`vj.output.join`).
"""

from __future__ import annotations

import copy
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from vj.audio.features import FrameFeatures
from vj.control.params import Params
from vj.render.plan import RenderPlan

PART_S = 10.0
"""Seconds of video per part: long enough that the pre-roll is a small share, short enough to spread."""
PREROLL_FLOOR_S = 1.0
"""Least pre-roll, trails or not: the strobe limiter counts the flashes of the last second."""
FADE_LEVEL = 1.0 / 1024
"""What is left of a cold start's trails after the pre-roll: a quarter of an 8-bit level."""


@dataclass(frozen=True)
class Part:
    start: int
    """First frame kept (absolute, counted from the start of the audio)."""
    end: int
    """One past the last frame kept."""
    preroll: int
    """Frames drawn before ``start`` and dropped."""

    def seconds(self, fps: Fraction) -> str:
        """'20.0-30.0 s': where the part lies, for people."""
        return f"{float(self.start / fps):.1f}-{float(self.end / fps):.1f} s"


def preroll_frames(feedback: float, fps: Fraction) -> int:
    """Frames after which trails kept at ``feedback`` per frame have faded to `FADE_LEVEL`."""
    floor = math.ceil(PREROLL_FLOOR_S * fps)
    if feedback <= 0.0:
        return floor
    return max(floor, math.ceil(math.log(FADE_LEVEL) / math.log(min(feedback, 0.999))))


def plan_parts(first: int, last: int, fps: Fraction, feedback: float, seconds: float = PART_S) -> list[Part]:
    """Frames ``first`` to ``last`` (exclusive) in parts of ``seconds``. A pre-roll never reaches back
    before ``first``, where a render from the start begins cold too; the first part needs none."""
    step = max(1, round(seconds * fps))
    preroll = preroll_frames(feedback, fps)
    return [Part(start, min(start + step, last), min(preroll, start - first)) for start in range(first, last, step)]


@dataclass(frozen=True)
class PartJob:
    """What one part is a function of, beside its features: all a worker anywhere needs to draw it."""

    number: int
    part: Part
    plan: RenderPlan
    plan_frames: int
    """The whole render's length (it decides whether the net is compiled, which changes its rounding)."""
    params: Params
    """The live parameters before the part's first drawn frame (its pre-roll's first)."""
    rows: tuple[int, int]
    """The part's drawn frames as rows of the render's feature table."""
    pngs: bool
    """Whether to send each kept frame back as a PNG too (``--frames``)."""

    @property
    def kept(self) -> range:
        """The frames this part keeps (their PNGs are named by them)."""
        return range(self.part.start, self.part.end)

    @property
    def label(self) -> str:
        return self.part.seconds(self.plan.settings.fps)

    def identity(self, table: np.ndarray) -> tuple:
        """All the part's pictures are a function of, and nothing else (not where its files are)."""
        settings = replace(self.plan.settings, audio=Path(), output=Path(), frames_dir=None, force=False)
        return replace(self, number=0, plan=replace(self.plan, settings=settings)), table[self.rows[0] : self.rows[1]]

    def draw(self, table: np.ndarray, on_frame: Callable[[int], None]) -> PartResult:
        """Draw the part from its rows of ``table`` (in a worker); ``on_frame(1)`` for every frame kept."""
        from vj.render.offline import render_part

        features = (FrameFeatures.from_row(row) for row in table[self.rows[0] : self.rows[1]])
        with tempfile.TemporaryDirectory(prefix="vj-part-") as work:
            video, frames = Path(work) / "part.mp4", Path(work) / "frames" if self.pngs else None
            render_part(self.plan, copy.deepcopy(self.params), features, self.part.start, self.plan_frames, video,
                        frames, on_frame)
            return PartResult.read(video, frames)


@dataclass(frozen=True)
class PartResult:
    video: bytes
    """An MP4 of the part's kept frames, picture only, at their place in the whole video."""
    pngs: tuple[tuple[int, bytes], ...]
    """(frame index, PNG file) per kept frame, when asked for."""

    @classmethod
    def read(cls, video: Path, frames: Path | None) -> PartResult:
        """The files a part was drawn into (PNGs named as `vj.output.frames.PngWriter` names them)."""
        pngs = () if frames is None else tuple(
            (int(path.stem.rpartition("_")[2]), path.read_bytes()) for path in sorted(frames.glob("*.png")))
        return cls(video.read_bytes(), pngs)


def cut_render(plan: RenderPlan, table: np.ndarray, parts: list[Part], pngs: bool) -> list[PartJob]:
    """The jobs of ``parts``, from the render's feature table (`feature_rows` of frames ``plan.first``
    on): the parameters are walked through every frame once and checkpointed where each part starts."""
    params = plan.params()
    starts = {part.start - part.preroll - plan.first for part in parts}  # parts may share one
    checkpoints: dict[int, Params] = {}
    for row, t in enumerate(table[:, _TIME_COLUMN]):
        if row in starts:
            checkpoints[row] = copy.deepcopy(params)
        params.advance(float(t))
    jobs = []
    for number, part in enumerate(parts):
        rows = (part.start - part.preroll - plan.first, part.end - plan.first)
        jobs.append(PartJob(number, part, plan, len(table), checkpoints[rows[0]], rows, pngs))
    return jobs


_TIME_COLUMN = [f.name for f in fields(FrameFeatures)].index("time")
