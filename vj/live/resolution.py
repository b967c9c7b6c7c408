"""Adaptive internal resolution: the CPPN renders at the largest size that holds the frame budget.

The CPPN's cost grows with its pixel count while the rest of a frame (look, HUD, analysis, present)
barely does, so the controller steps through a ladder of heights at the window's aspect ratio: down at
once when frames run over budget, up only after the frame times have stayed well under it for a while
(hysteresis, so it does not hunt). The look grades at up to twice the CPPN's size and the present pass
scales that to the window, which keeps the fill cost of a software renderer (llvmpipe) in budget too.
"""

from __future__ import annotations

from collections import deque

import numpy as np

HEIGHTS = (36, 54, 72, 90, 108, 126, 144, 162, 180, 216, 252, 288, 360, 432, 540, 720, 1080, 1440, 2160)
DOWN_MEAN, DOWN_P90 = 0.85, 1.2
"""Step down when the mean frame work reaches this share of the budget, or its 90th percentile that one:
the pacer lets a late frame borrow from the next, so the mean is what must fit, with room for spikes."""
UP_MEAN, UP_P90 = 0.6, 0.9
"""Step up when both stay below these shares for a while."""
WINDOW_FRAMES = 20
UP_AFTER_S = 1.5
SETTLE_S = 0.5
"""After a change, measurements are ignored this long (new sizes cost a first frame to set up)."""


class ResolutionController:
    """Picks the CPPN size and the look size for a window.

    Args:
        budget_s: the frame period to hold.
        window: the window's framebuffer size.
        start_height: the CPPN height to begin with (clamped to the ladder and the window).
    """

    def __init__(self, budget_s: float, window: tuple[int, int], start_height: int):
        self.budget = budget_s
        self._work: deque[float] = deque(maxlen=WINDOW_FRAMES)
        self._changed_at = self._calm_since = None
        self.resize(window, start_height)

    def resize(self, window: tuple[int, int], height: int | None = None) -> None:
        """A new window size: rebuild the ladder, keeping the current height where it fits."""
        wanted = self.internal[1] if height is None else height  # before the ladder changes
        self.window = (max(1, window[0]), max(1, window[1]))
        self._ladder = [h for h in HEIGHTS if h < self.window[1]] + [self.window[1]]
        self._level = max(0, int(np.searchsorted(self._ladder, wanted, side="right")) - 1)
        self._work.clear()
        self._changed_at = None

    @property
    def internal(self) -> tuple[int, int]:
        """The CPPN's (width, height)."""
        return self._size(self._ladder[self._level])

    @property
    def look(self) -> tuple[int, int]:
        """The size the look grades at: twice the CPPN's, at most the window's."""
        width, height = self.internal
        return (min(2 * width, self.window[0]), min(2 * height, self.window[1]))

    def _size(self, height: int) -> tuple[int, int]:
        width = max(1, round(height * self.window[0] / self.window[1]))
        return (width, height)

    def observe(self, work_s: float, now: float) -> bool:
        """Record one frame's work time; returns True when the internal size changed."""
        if self._changed_at is None:
            self._changed_at = self._calm_since = now
        if now - self._changed_at < SETTLE_S:
            return False
        self._work.append(work_s)
        if len(self._work) < self._work.maxlen // 2:
            return False
        mean = float(np.mean(self._work)) / self.budget
        p90 = float(np.percentile(self._work, 90)) / self.budget
        over = max(mean / DOWN_MEAN, p90 / DOWN_P90)
        if over > 1.0 and self._level > 0:
            # Cost is mostly per pixel: jump as far as the overload says, at least one step.
            target = self._ladder[self._level] * (0.9 / over) ** 0.5
            level = max(0, min(self._level - 1, int(np.searchsorted(self._ladder, target, side="right")) - 1))
            return self._set(level, now)
        if mean >= UP_MEAN or p90 >= UP_P90:
            self._calm_since = now
        elif now - self._calm_since > UP_AFTER_S and self._level < len(self._ladder) - 1:
            return self._set(self._level + 1, now)
        return False

    def _set(self, level: int, now: float) -> bool:
        self._level = level
        self._work.clear()
        self._changed_at = self._calm_since = now
        return True
