"""A single-writer, single-reader ring of audio samples in shared memory, between two processes.

The capture child writes from inside the audio callback and the render loop reads, with no lock: the
writer stores the samples first and advances ``write_pos`` last (x86 keeps stores in order), and the
reader never reads past the ``write_pos`` it saw. A header beside the samples carries the child's
heartbeat, counters and a short log of (end position, wall time) per block, from which the reader
measures how old each sample is. Positions count samples since the ring was made and never wrap; only
the index into the buffer does.
"""

from __future__ import annotations

from multiprocessing import shared_memory

import numpy as np

# Integer header slots.
WRITE_POS, BLOCKS, OVERFLOWS = range(3)
# Float header slots.
HEARTBEAT = 0

_INTS, _FLOATS, LOG_SIZE = 3, 1, 256


class SharedRing:
    """Audio samples (capacity, channels) float32 plus a header, in one shared-memory block.

    Args:
        channels: samples per frame.
        capacity: frames the ring holds; the reader must drain more often than this fills.
        name: attach to an existing ring (the child) instead of creating one (the parent).
    """

    def __init__(self, channels: int, capacity: int, name: str | None = None):
        self.channels, self.capacity = channels, capacity
        size = 8 * (_INTS + _FLOATS + 2 * LOG_SIZE) + 4 * channels * capacity
        self._memory = shared_memory.SharedMemory(name=name, create=name is None, size=size if name is None else 0)
        self.name = self._memory.name
        buffer, offset = self._memory.buf, 0
        self.ints = np.ndarray((_INTS,), np.int64, buffer, offset)
        offset += 8 * _INTS
        self.floats = np.ndarray((_FLOATS,), np.float64, buffer, offset)
        offset += 8 * _FLOATS
        self.log = np.ndarray((LOG_SIZE, 2), np.float64, buffer, offset)  # (end position, wall time)
        offset += 16 * LOG_SIZE
        self.samples = np.ndarray((capacity, channels), np.float32, buffer, offset)
        if name is None:
            self.ints[:] = 0
            self.floats[:] = 0.0

    # --- the writer's side (the capture child, inside the audio callback) ---

    def write(self, block: np.ndarray, columns: tuple[int, ...], now: float) -> None:
        """Copy the chosen ``columns`` of a (frames, device channels) block in; no allocation of sample data."""
        count = len(block)
        position = int(self.ints[WRITE_POS])
        start = position % self.capacity
        first = min(count, self.capacity - start)
        for slot, column in enumerate(columns):
            self.samples[start : start + first, slot] = block[:first, column]
            if first < count:
                self.samples[: count - first, slot] = block[first:, column]
        end = position + count
        blocks = int(self.ints[BLOCKS])
        self.log[blocks % LOG_SIZE] = (end, now)
        self.floats[HEARTBEAT] = now
        self.ints[BLOCKS] = blocks + 1
        self.ints[WRITE_POS] = end  # last: publishes the samples

    # --- the reader's side (the render loop) ---

    def read(self, position: int) -> tuple[np.ndarray, int, int]:
        """Samples from ``position`` to the newest: (samples, new position, samples lost to an overrun)."""
        end = int(self.ints[WRITE_POS])
        lost = max(0, end - position - self.capacity)
        position += lost
        count = end - position
        start = position % self.capacity
        first = min(count, self.capacity - start)
        out = np.empty((count, self.channels), np.float32)
        out[:first] = self.samples[start : start + first]
        out[first:] = self.samples[: count - first]
        return out, end, lost

    def block_times(self, since_blocks: int) -> tuple[np.ndarray, int]:
        """(end position, wall time) of the blocks written after the first ``since_blocks``, oldest first."""
        blocks = int(self.ints[BLOCKS])
        first = max(since_blocks, blocks - LOG_SIZE)
        rows = [self.log[i % LOG_SIZE] for i in range(first, blocks)]
        return (np.array(rows) if rows else np.empty((0, 2))), blocks

    def heartbeat_age(self, now: float) -> float:
        """Seconds since the writer last wrote a block (infinite before the first)."""
        beat = float(self.floats[HEARTBEAT])
        return float("inf") if beat == 0.0 else now - beat

    def close(self, unlink: bool = False) -> None:
        # Drop the numpy views first: shared memory refuses to close while views on it exist.
        del self.ints, self.floats, self.log, self.samples
        self._memory.close()
        if unlink:
            self._memory.unlink()
