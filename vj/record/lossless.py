"""The show's input audio, kept exactly: 24-bit FLAC.

A sound card delivers at most 24 bits, so live quantizes its input to 24 bits *before* analysis
(`quantize`): the FLAC then holds, bit for bit, what the analyzer heard, and a replay's features are
the live show's features, not an approximation. FLAC frames are written as they fill, so a killed show
leaves a file that decodes up to its last second.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from vj.errors import VJError

SCALE = float(1 << 23)


def quantize(samples: np.ndarray) -> np.ndarray:
    """float32 samples on the 24-bit grid (clipped to -1 .. 1 - 2^-23): what `FlacWriter` stores exactly."""
    grid = np.clip(np.rint(samples * np.float32(SCALE)), -SCALE, SCALE - 1.0)
    return (grid / np.float32(SCALE)).astype(np.float32)


class FlacWriter:
    """Appends (k, channels) float32 blocks already on the 24-bit grid to a FLAC file."""

    def __init__(self, path: Path, channels: int, sample_rate: int):
        self.path = Path(path)
        self.channels, self.sample_rate = channels, sample_rate
        self.samples = 0
        self._out = av.open(str(self.path), "w", format="flac", container_options={"flush_packets": "1"})
        self._stream = self._out.add_stream("flac", rate=sample_rate, layout=_layout(channels))
        self._stream.format = "s32"  # 24 bits in the top of 32: FFmpeg's FLAC encoder stores 24-bit FLAC

    def write(self, samples: np.ndarray) -> None:
        if not len(samples):
            return
        ints = (np.rint(samples.astype(np.float64) * SCALE).astype(np.int32) << 8).T
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(ints), format="s32p", layout=self._stream.layout)
        frame.sample_rate, frame.pts, frame.time_base = self.sample_rate, self.samples, Fraction(1, self.sample_rate)
        self._out.mux(self._stream.encode(frame))
        self.samples += len(samples)

    def close(self) -> None:
        self._out.mux(self._stream.encode(None))
        self._out.close()


def read_flac(path: Path) -> np.ndarray:
    """The whole file as (n, channels) float32, exactly the samples `FlacWriter` was given."""
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as error:
        raise VJError(f"{path}: cannot read the show's audio ({error})") from None
    with container:
        stream = container.streams.audio[0]
        blocks = []
        try:
            for frame in container.decode(stream):
                data, channels = frame.to_ndarray(), len(frame.layout.channels)
                blocks.append(data if frame.format.is_planar else data.reshape(-1, channels).T)
        except av.FFmpegError:
            pass  # a show that was killed: keep what decodes
    if not blocks:
        return np.zeros((0, 1), np.float32)
    ints = np.concatenate(blocks, axis=1).T
    if ints.dtype != np.int32:
        raise VJError(f"{path}: expected 24-bit FLAC as written by vj, got {ints.dtype} samples")
    return (ints.astype(np.float64) / float(1 << 31)).astype(np.float32)


def _layout(channels: int) -> str:
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")
