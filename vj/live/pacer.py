"""Frame pacing: present at the target rate whether or not the driver's vsync blocks.

Deadlines advance by exactly one period, so a frame that came in early sleeps and the cadence stays
even; when a frame runs late the schedule restarts from now instead of racing to catch up (a burst of
short frames looks worse than one long one). Under a real vsync the swap itself blocks too; the sleep
then ends before the vblank and costs nothing.
"""

from __future__ import annotations

import time


class FramePacer:
    """Sleeps until each frame's deadline.

    Args:
        fps: the target presents per second.
        clock, sleep: injectable for tests of the arithmetic (defaults: monotonic time, real sleep).
    """

    def __init__(self, fps: float, clock=time.monotonic, sleep=time.sleep):
        self.period = 1.0 / fps
        self._clock, self._sleep = clock, sleep
        self._deadline: float | None = None

    def wait(self) -> None:
        """Block until this frame may be shown."""
        now = self._clock()
        if self._deadline is None or now - self._deadline > self.period:
            self._deadline = now  # first frame, or more than a frame late: start the schedule afresh
        elif self._deadline > now:
            self._sleep(self._deadline - now)
        self._deadline += self.period
