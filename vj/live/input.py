"""The render loop's view of the audio input: drain the ring, supervise the capture child, re-attach.

Everything here is non-blocking, because it runs on the render thread between frames. The audio clock
never stops: while the input is lost the reader hands out digital silence at the wall-clock rate, so the
analyzer (and with it the picture) keeps running on a calm idle state, and when the device comes back
its samples simply continue the same timeline.
"""

from __future__ import annotations

import time
from collections import deque

import av
import numpy as np

from vj.children import RESPAWN_INTERVAL_S, start_child, stop_child
from vj.errors import VJError
from vj.live.capture import STALL_S, CaptureRequest, capture_main
from vj.live.ring import BLOCKS, OVERFLOWS, SharedRing
from vj.timebase import ANALYSIS_RATE

RING_SECONDS = 4.0
"""The ring holds this much audio: the render loop may stall this long before samples are lost."""
HUNG_CHILD_S = 2.0
"""A child whose stream stopped but that has not left by itself after this long is killed."""
START_TIMEOUT_S = 15.0


class LiveInput:
    """Audio from a device at 48 kHz, as (frames, channels) float32 blocks; see the module doc.

    Args:
        device: ``--input``: a name part, an index, or None for the system default.
        channels: 0-based device channels to record (empty: the first two).
    """

    def __init__(self, device: str | None, channels: tuple[int, ...] = ()):
        channel_count = len(channels) or 2
        self.ring = SharedRing(channel_count, int(RING_SECONDS * 192_000))  # room for up to 192 kHz devices
        self.request = CaptureRequest(device, channels, self.ring.name, self.ring.capacity)
        self.channels = channel_count
        self.position = 0
        """Samples (at 48 kHz) handed out so far: the live audio clock."""
        self.device: dict | None = None
        self.state = "starting"
        self.message = ""
        """Why the input is not streaming, when it is not."""
        self.events: list[dict] = []
        """Input losses and re-attachments, with wall times, for the stats file."""
        self.blocks = self.overflows = self.overrun_samples = 0
        self._process = None
        self._conn = None
        self._spawned_at = self._lost_at = self._attached_at = 0.0
        self._ring_position = 0
        self._blocks_seen = 0
        self._overflows_base = 0
        self._input_rate = ANALYSIS_RATE
        self._resamplers: list[av.AudioResampler] = []  # one per channel, when the device is not at 48 kHz
        self._arrivals: deque[tuple[int, float]] = deque(maxlen=4096)  # (clock position, wall time)
        self._silence_from: tuple[float, int] | None = None  # (wall time, clock position) the silence began

    # --- start and stop ---

    def open(self, timeout_s: float = START_TIMEOUT_S) -> dict:
        """Start capturing; returns the device. Raises VJError when there is no usable input."""
        self._spawn()
        deadline = time.monotonic() + timeout_s
        while self.state != "streaming":
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._conn.poll(min(remaining, 0.1)) and not self._process.is_alive():
                self.close()
                raise VJError("the audio input did not start; run `vj devices` to check it")
            if self._conn.poll():
                try:
                    kind, detail = self._conn.recv()
                except EOFError:
                    kind, detail = "error", "the audio capture process ended while starting"
                if kind in ("missing", "error"):
                    self.close()
                    raise VJError(f"{detail}; run `vj devices` to list the audio inputs")
                self._attached(detail, time.monotonic())
        return self.device

    def close(self) -> None:
        stop_child(self._process)
        self._process = None
        if self.ring is not None:
            self.ring.close(unlink=True)
            self.ring = None

    # --- every frame ---

    def read(self, now: float | None = None) -> np.ndarray:
        """All audio since the last call, (frames, channels) float32 at 48 kHz; silence while the input is lost."""
        now = time.monotonic() if now is None else now
        samples = self._drain() if self.state == "streaming" else np.empty((0, self.channels), np.float32)
        self.position += len(samples)
        self._supervise(now)
        if self.state != "streaming":  # lost (maybe just now, after the last samples above) or searching
            silence = self._silence(now)
            self.position += len(silence)
            samples = np.concatenate([samples, silence]) if len(samples) else silence
        return samples

    def capture_time(self, position: int) -> float | None:
        """Wall time (monotonic) at which the sample at clock ``position`` reached vj, if it came from the device."""
        found = None
        for end, when in reversed(self._arrivals):  # newest first: a frame asks about recent samples
            if end < position:
                break
            found = when
        return found

    def audio_time(self, when: float) -> float:
        """The audio clock (seconds) at monotonic time ``when``: where the newest arrival puts it, carried
        on at the sample rate. Events from elsewhere (a MIDI clock tick, an OSC beat) land on the picture's
        clock this way, with the jitter of one callback rather than one block."""
        if self._arrivals:
            position, arrived = self._arrivals[-1]
            return position / ANALYSIS_RATE + (when - arrived)
        return self.position / ANALYSIS_RATE

    # --- internals ---

    def _spawn(self) -> None:
        self._process, self._conn = start_child(capture_main, self.request, name="vj-capture")
        self._spawned_at = time.monotonic()

    def _attached(self, device: dict, now: float) -> None:
        first = self.device is None
        self.device, self.state, self.message = device, "streaming", ""
        self._blocks_seen = int(self.ring.ints[BLOCKS])
        self._overflows_base = self.overflows - int(self.ring.ints[OVERFLOWS])
        self._input_rate = rate = device["rate"]
        self._resamplers = [] if rate == ANALYSIS_RATE else [
            av.AudioResampler("flt", "mono", ANALYSIS_RATE) for _ in range(self.channels)]
        self._silence_from = None
        self._attached_at = now
        self.events.append({"t": now, "event": "attached" if first else "reattached", "device": device["name"]})
        if first:  # from now on find it by its full name: indices move when devices come and go
            self.request = CaptureRequest(device["name"], self.request.channels, self.ring.name,
                                          self.ring.capacity, exact=True)

    def _supervise(self, now: float) -> None:
        while self._conn is not None and self._conn.poll():
            try:
                kind, detail = self._conn.recv()
            except (EOFError, OSError):
                break
            if kind == "streaming":
                self._attached(detail, now)
            else:
                self.message = detail
        alive = self._process is not None and self._process.is_alive()
        if self.state == "streaming":
            # The new child says "streaming" before its first callback beats: until it has had the time
            # to, the heartbeat in the ring is the old child's, and must not read as a stall.
            stalled = min(self.ring.heartbeat_age(now), now - self._attached_at) > STALL_S
            if stalled or not alive:
                self._lost(now, "input lost: the device stopped delivering audio")
        elif alive and self.state == "lost" and now - self._lost_at > HUNG_CHILD_S:
            self._process.kill()  # it should have left by itself: stuck in a dead driver, abandon it
        if not alive and self.state != "streaming" and now - self._spawned_at > RESPAWN_INTERVAL_S:
            self._spawn()
            self.state = "searching"

    def _lost(self, now: float, why: str) -> None:
        self.state, self.message = "lost", why
        self._lost_at = now
        self._silence_from = (now, self.position)  # the clock paused while the loss went unnoticed
        self.events.append({"t": now, "event": "lost", "device": self.device["name"] if self.device else None})

    def _drain(self) -> np.ndarray:
        samples, end, lost = self.ring.read(self._ring_position)
        start = self._ring_position
        self._ring_position = end
        self.overrun_samples += lost
        blocks, seen = self.ring.block_times(self._blocks_seen)
        self.blocks += seen - self._blocks_seen
        self._blocks_seen = seen
        self.overflows = self._overflows_base + int(self.ring.ints[OVERFLOWS])
        if self._resamplers and len(samples):
            samples = self._resample(samples)
        ratio = ANALYSIS_RATE / self._input_rate
        for ring_end, when in blocks:
            self._arrivals.append((self.position + int(round((ring_end - start) * ratio)), when))
        return samples

    def _resample(self, samples: np.ndarray) -> np.ndarray:
        """To 48 kHz with libswresample, channel by channel (any channel count, same length each)."""
        columns = []
        for channel, resampler in enumerate(self._resamplers):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[None, :, channel]), format="flt",
                                               layout="mono")
            frame.sample_rate = self._input_rate
            parts = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
            columns.append(np.concatenate(parts) if parts else np.empty(0, np.float32))
        return np.stack(columns, axis=1)

    def _silence(self, now: float) -> np.ndarray:
        if self._silence_from is None:
            self._silence_from = (now, self.position)
        began, position = self._silence_from
        due = position + int((now - began) * ANALYSIS_RATE) - self.position
        return np.zeros((max(0, due), self.channels), np.float32)
