"""Audio files in, 48 kHz stereo float32 out, decoded in blocks so a two-hour set never sits in memory whole.

Every stage of vj works at one rate (``vj.timebase.ANALYSIS_RATE``) on stereo float32, so this is the only
place that knows about codecs, containers, sample rates and channel layouts. Anything FFmpeg cannot make
sense of becomes one ``VJError`` naming the file; a PyAV traceback never reaches the user.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import av.container
import numpy as np

from vj.errors import VJError
from vj.timebase import ANALYSIS_RATE


def _is_image(container: av.container.InputContainer) -> bool:
    """Still pictures (png_pipe, jpeg_pipe, image2, gif): 'no audio' there means 'not an audio file'."""
    name = container.format.name
    return name.endswith("_pipe") or name in ("image2", "gif", "apng")


def _clock(samples: int) -> str:
    """A sample position as m:ss.s, the way a user finds the spot in a player."""
    minutes, seconds = divmod(samples / ANALYSIS_RATE, 60)
    return f"{int(minutes)}:{seconds:04.1f}"


def _reason(error: av.error.FFmpegError) -> str:
    return error.strerror or type(error).__name__


def _open_container(path: Path) -> av.container.InputContainer:
    """Open ``path`` with FFmpeg, checking first what FFmpeg would report unhelpfully (missing, a folder)."""
    if not path.exists():
        raise VJError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise VJError(f"{path}/: is a directory, not an audio file; pass one file inside it")
    try:
        with open(path, "rb"):
            pass
    except OSError as e:
        raise VJError(f"{path}: cannot be read ({e.strerror}); check the file's permissions") from None
    try:
        # "file:" keeps FFmpeg from reading a name like "concat:a|b" or "http:x" as a protocol.
        return av.open("file:" + str(path.resolve()), metadata_errors="ignore")
    except av.error.InvalidDataError:
        raise VJError(f"{path}: not a media file FFmpeg can read (unknown format or damaged)") from None
    except av.error.EOFError:
        raise VJError(f"{path}: ends before any audio, the file is cut short; re-export or re-download it") from None
    except av.error.FFmpegError as e:
        raise VJError(f"{path}: FFmpeg cannot open it ({_reason(e)}); check that the file is complete") from None


@dataclass(frozen=True)
class AudioSource:
    """An opened audio file, decoded on demand, resampled to 48 kHz stereo float32."""

    path: Path
    duration_s: float | None
    """The container's estimate of the length; None where it does not say. The decoded length is the truth."""

    def blocks(self) -> Iterator[np.ndarray]:
        """Yield (k, 2) float32 blocks from the start of the file; each call decodes afresh.

        Raises VJError if the file turns out to be damaged part-way, or holds no samples at all, so a
        consumer that only streams (never calls ``read_audio``) still learns that the input was bad.
        """
        done = 0
        with _open_container(self.path) as container:
            try:
                for frame in _resampled(container.decode(container.streams.audio[0])):
                    if frame.samples:
                        block = frame.to_ndarray().reshape(-1, 2)  # packed "flt": one row of interleaved L, R
                        done += len(block)
                        yield block
            except av.error.FFmpegError as e:
                where = f"at {_clock(done)}" if done else "at the start"
                raise VJError(
                    f"{self.path}: damaged {where}, FFmpeg cannot decode it ({_reason(e)}); "
                    "re-export or re-download the file"
                ) from None
        if done == 0:
            raise VJError(f"{self.path}: contains no audio samples; pass a file with sound in it")

    def span(self, begin: int, end: int) -> Iterator[np.ndarray]:
        """The blocks of samples ``begin`` to ``end`` (exclusive; past the file's end: to its end)."""
        position = 0
        for block in self.blocks():
            low, high = max(begin, position), min(end, position + len(block))
            if high > low:
                yield block[low - position : high - position]
            position += len(block)
            if position >= end:
                return


def _resampled(frames: Iterator[av.AudioFrame]) -> Iterator[av.AudioFrame]:
    """Any rate, sample format and layout -> 48 kHz stereo "flt" (mono copied to both sides, 5.1 downmixed).

    The resampler is flushed at the end so its filter tail is not lost, and rebuilt (after a flush) when the
    input changes format mid-file, as a chained ogg or a broadcast capture may.
    """
    resampler, params = None, None
    for frame in frames:
        if (frame.format.name, frame.layout.name, frame.sample_rate) != params:
            if resampler is not None:
                yield from resampler.resample(None)
            resampler = av.AudioResampler(format="flt", layout="stereo", rate=ANALYSIS_RATE)
            params = (frame.format.name, frame.layout.name, frame.sample_rate)
        yield from resampler.resample(frame)
    if resampler is not None:
        yield from resampler.resample(None)


def open_audio(path: str | Path) -> AudioSource:
    """Check that ``path`` is a readable file with an audio stream, without decoding it yet."""
    path = Path(path)
    with _open_container(path) as container:
        if not container.streams.audio:
            if container.streams.video and not _is_image(container):
                raise VJError(f"{path}: has no audio stream; pass a file with sound")
            raise VJError(f"{path}: not an audio file (no audio stream found)")
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            duration_s: float | None = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration_s = container.duration / av.time_base
        else:
            duration_s = None
    return AudioSource(path, duration_s)


def read_audio(path: str | Path) -> np.ndarray:
    """The whole file as (n, 2) float32 at 48 kHz; for clips and tests, where streaming is not worth it."""
    return np.concatenate(list(open_audio(path).blocks()))


def to_mono(stereo: np.ndarray) -> np.ndarray:
    """(n, 2) -> (n,) float32, the mean of both channels: what onset and beat analysis listen to."""
    return stereo.mean(axis=1, dtype=np.float32)
