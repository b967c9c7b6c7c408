"""What runs in a cluster's workers: the task that draws one part, and the progress it reports to the
driver's progress board (a small Ray actor the driver reads for its one progress bar)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from vj.render.segments import PartResult

REPORT_S = 0.5
"""How often workers report their frames and the driver redraws the progress bar."""

BOARD_PREFIX = "vj-progress-"
"""Name of a render's progress board among the cluster's named actors (with the driver's host and pid)."""


@dataclass
class PartProgress:
    frames: int = 0
    """Frames the part's current attempt has kept."""
    starts: int = 0
    """Attempts so far: a second start means the first worker died and Ray runs the part again."""
    pid: int = 0
    """The process of the current attempt."""


class ProgressBoard:
    """A Ray actor the workers tell how far their parts are; the driver reads it for the progress bar."""

    def __init__(self) -> None:
        self.parts: dict[int, PartProgress] = {}

    def started(self, number: int, pid: int) -> None:
        before = self.parts.get(number, PartProgress())
        self.parts[number] = PartProgress(0, before.starts + 1, pid)

    def advance(self, number: int, frames: int) -> None:
        self.parts.setdefault(number, PartProgress()).frames = frames

    def read(self) -> dict[int, PartProgress]:
        return self.parts


class Reporter:
    """Counts a part's frames in its worker and tells the board at most every `REPORT_S`."""

    def __init__(self, board, number: int):
        self.board, self.number, self.frames, self.told = board, number, 0, time.monotonic()

    def __call__(self, frames: int) -> None:
        self.frames += frames
        if time.monotonic() - self.told >= REPORT_S:
            self.board.advance.remote(self.number, self.frames)
            self.told = time.monotonic()


def draw_part(job, shared: object, board) -> PartResult:
    """A Ray task: one part (a render's `PartJob` or a replay's `ReplayPartJob`), drawn in a worker from
    what the object store holds for all of them."""
    from vj.engine.device import load_triton_first

    load_triton_first()  # before this worker's first GL context (see its docstring)
    board.started.remote(job.number, os.getpid())
    return job.draw(shared, Reporter(board, job.number))
