"""A render cut into parts that are rendered apart and joined into the video one render makes.

Every frame is a function of (preset, seed, frame index, the features up to it), except what the look
carries from frame to frame: the trails. A part therefore starts drawing `preroll_frames` before its
first kept frame, long enough for the trails of a cold start to fade below an 8-bit level; from there
its pictures are those of a render from the start, byte for byte (tested). Parts are cut every
`PART_S` seconds; each is its own encode, so each starts with a keyframe and the join copies packets.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from vj.audio.decode import open_audio
from vj.output.join import join_parts
from vj.render.offline import render_range
from vj.render.settings import RenderSettings
from vj.timebase import Timebase

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


def preroll_frames(feedback: float, fps: Fraction) -> int:
    """Frames after which trails kept at ``feedback`` per frame have faded to `FADE_LEVEL`."""
    floor = math.ceil(PREROLL_FLOOR_S * fps)
    if feedback <= 0.0:
        return floor
    return max(floor, math.ceil(math.log(FADE_LEVEL) / math.log(min(feedback, 0.999))))


def plan_parts(first: int, last: int, fps: Fraction, feedback: float, seconds: float = PART_S) -> list[Part]:
    """Frames ``first`` to ``last`` (exclusive) in parts of ``seconds``; the first part needs no pre-roll."""
    step = max(1, round(seconds * fps))
    preroll = preroll_frames(feedback, fps)
    return [Part(start, min(start + step, last), 0 if start == first else preroll)
            for start in range(first, last, step)]


def render_in_parts(settings: RenderSettings, parts: list[Part], workdir: Path) -> int:
    """Render ``parts`` of ``settings`` one after another into ``workdir`` and join them into
    ``settings.output`` with the sound of their frames. Returns the frames written."""
    paths = []
    for number, part in enumerate(parts):
        path = workdir / f"part-{number:05d}.mp4"
        render_range(settings, part.start, part.end, part.preroll, path)
        paths.append(path)
    timebase = Timebase(settings.fps)
    return join_parts(paths, settings.output, _audio(settings, timebase, parts[0].start, parts[-1].end))


def _audio(settings: RenderSettings, timebase: Timebase, first: int, last: int) -> Iterator[np.ndarray]:
    """The stereo samples of frames ``first`` to ``last``, block by block, as the render heard them."""
    begin, end = timebase.frame_start(first), timebase.frame_start(last)
    position = 0
    for block in open_audio(settings.audio).blocks():
        lo, hi = max(begin, position), min(end, position + len(block))
        if hi > lo:
            yield block[lo - position : hi - position]
        position += len(block)
