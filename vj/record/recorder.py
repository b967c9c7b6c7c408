"""Recording a live show without slowing it: a recorder process that encodes, fed through bounded queues.

The render thread's part is small: once a frame it reads back the look's picture (a fraction of the
window's size) and hands it over with the audio that arrived and the frame's log line. A separate
process (no GIL shared with the show, and niced below it) scales the picture to the video size, encodes
H.264 + AAC into a crash-safe MP4 (`vj.output.video.VideoWriter`), and writes the performance log and its
FLAC. Everything goes through one queue and one pipe, so the recorder sees takes, frames and audio in
the order the show made them. The show's feeder thread writes the pipe; the recorder holds only its
reading end, so when the show dies (even halfway through a message) it reads the end of the pipe. At most ``FRAME_QUEUE_S`` of frames wait in it; when the encoder falls that far behind,
a frame is dropped and counted, never queued without bound. Audio and log lines are never dropped: if the
recorder falls ``DATA_QUEUE_S`` behind on those, it has stalled, and recording stops with a message.

A file error (a full disk, a pulled USB drive) stops the recording, never the show: the HUD says why
and what was kept. If the show process dies, the recorder notices its parent is gone and finishes the
files cleanly; if both die at once (a power cut), the MP4's fragments keep all but the last 2 s, the
FLAC decodes up to its last frame and the log up to its last line.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from vj.children import detach_from_terminal
from vj.errors import VJError
from vj.output.video import VideoWriter, take_channels, upright
from vj.record.lossless import FlacWriter
from vj.timebase import Timebase

FRAME_QUEUE_S = 1.0
DATA_QUEUE_S = 20.0
START_TIMEOUT_S = 20.0
FINISH_TIMEOUT_S = 600.0
"""Finishing copies the fragmented file into a regular MP4: seconds for an hour of 720p on a slow disk."""
RECORD_CRF = 20
RECORD_PRESET = "superfast"
"""x264 at 720p30 on this 2-core machine: superfast costs 8-13 ms a frame on one thread, about a third of
veryfast's files' size more. The performance log makes a cleaner copy at any quality afterwards."""


def recording_files(path: Path) -> list[Path]:
    """The files a recording to ``path`` makes first: its MP4 (and the partial one), log and FLAC."""
    return [path, path.with_name(path.stem + ".partial.mp4"), path.with_suffix(".vjlog"), path.with_suffix(".flac")]


@dataclass(frozen=True)
class RecordSettings:
    """Where and how a show is recorded: ``path`` (the first take's MP4; the log and FLAC sit beside it)."""

    path: Path
    size: tuple[int, int]
    fps: Fraction
    channels: int
    sample_rate: int

    @property
    def log_path(self) -> Path:
        return self.path.with_suffix(".vjlog")

    @property
    def audio_path(self) -> Path:
        return self.path.with_suffix(".flac")

    def take_path(self, take: int) -> Path:
        return self.path if take == 1 else self.path.with_name(f"{self.path.stem}-{take}{self.path.suffix}")



class Recorder:
    """The show's side of a recording: `frame` and `tick` every frame, `take`/`cut` for takes, `poll`
    for news (a take finished, a failure), `close` at the end."""

    def __init__(self, settings: RecordSettings, header_line: str, target_fps: float):
        self.settings = settings
        self.dropped = 0
        self.sent = 0
        self.problem = ""
        """Why recording stopped, for the HUD; empty while it runs."""
        self.finished: list[str] = []
        """Takes written, one line each (path and length)."""
        self.take_number = 0
        self.recording = False
        self._closed = False
        mp = multiprocessing.get_context("spawn")
        self._frame_limit = max(2, round(FRAME_QUEUE_S * float(settings.fps)))
        self._queue: queue.Queue = queue.Queue(maxsize=self._frame_limit + max(60, round(DATA_QUEUE_S * target_fps)))
        self._waiting = mp.Value("i", 0)  # frames sent and not yet encoded: the recorder counts them down
        self._status, status_end = mp.Pipe(duplex=False)
        inbox, self._outbox = mp.Pipe(duplex=False)
        self._process = mp.Process(target=_record, args=(settings, header_line, inbox, self._waiting, status_end),
                                   daemon=True, name="vj-recorder")
        self._process.start()
        status_end.close()
        inbox.close()
        self._feeder = threading.Thread(target=self._feed, name="vj-recorder-feed", daemon=True)
        self._feeder.start()
        if not self._status.poll(START_TIMEOUT_S):
            self._abandon()
            raise VJError("the recorder process did not start within 20 s; try again without --record")
        kind, message = self._status.recv()
        if kind != "ready":
            self._abandon()
            raise VJError(f"cannot record to {settings.path}: {message}")

    @property
    def alive(self) -> bool:
        return not self.problem and self._process.is_alive()

    def take(self, first_pts: int) -> Path:
        """Start the next take at recording frame ``first_pts`` (its audio from that frame's start)."""
        self.take_number += 1
        path = self.settings.take_path(self.take_number)
        while self.take_number > 1 and path.exists():  # never overwrite an earlier show's take
            self.take_number += 1
            path = self.settings.take_path(self.take_number)
        self._send(("take", self.take_number, str(path), first_pts))
        self.recording = True
        return path

    def cut(self) -> None:
        """End the take being recorded (its file is finished in the background)."""
        self._send(("cut",))
        self.recording = False

    def frame(self, pts: int, picture: bytes, size: tuple[int, int]) -> bool:
        """Queue a picture (bottom row first, as GL reads it) for recording frame ``pts``; False if dropped."""
        if not self.alive:
            return False
        if self._waiting.value >= self._frame_limit:
            self.dropped += 1
            return False
        with self._waiting.get_lock():
            self._waiting.value += 1
        self._send(("frame", self.take_number, pts, size, picture))
        self.sent += 1
        return True

    def tick(self, audio: np.ndarray, line: str) -> None:
        """The audio that arrived for this frame and the frame's log line (neither is ever dropped)."""
        self._send(("tick", np.ascontiguousarray(audio, np.float32), line))

    def _send(self, message: tuple) -> None:
        if not self.alive:
            return
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            self.problem = f"recorder stalled ({DATA_QUEUE_S:.0f} s behind); recording stopped"
            self._process.kill()

    def _feed(self) -> None:
        """The feeder thread: the queue into the pipe (pickling and writing off the render thread)."""
        while (message := self._queue.get()) is not None:
            try:
                self._outbox.send(message)
            except OSError:
                return  # the recorder is gone: `poll` says so

    def poll(self) -> None:
        """Take the recorder's news; a recorder that died without a word is a problem too."""
        try:
            while self._status.poll():
                kind, message = self._status.recv()
                if kind == "failed":
                    self.problem, self.recording = message, False
                elif kind == "take":
                    self.finished.append(message)
        except (EOFError, OSError):
            pass
        if not self.problem and not self._closed and not self._process.is_alive():
            self.problem, self.recording = "the recorder process died; recording stopped", False

    def close(self) -> None:
        """Finish every file (the last take's MP4 is remuxed: this can take a while after a long show)."""
        if self._process.is_alive() and not self.problem:
            self._send(("close",))
            self._process.join(FINISH_TIMEOUT_S)
        self._closed, self.recording = True, False
        self.poll()
        self._abandon()

    def _abandon(self) -> None:
        try:
            self._queue.put_nowait(None)  # the feeder's last message
        except queue.Full:
            pass
        self._outbox.close()  # a feeder still writing gets an error, never a wait
        if self._process.is_alive():
            self._process.kill()
        self._process.join(1.0)


# --- the recorder process ---


class _Files:
    """What the recorder process writes: the log, the FLAC and the take being recorded."""

    def __init__(self, settings: RecordSettings, header_line: str):
        self.settings = settings
        self.log = open(settings.log_path, "w", encoding="utf-8")  # noqa: SIM115 - open for the whole show
        self.log.write(header_line + "\n")
        self.log.flush()
        self.flac = FlacWriter(settings.audio_path, settings.channels, settings.sample_rate)
        self.take = None
        self.take_number = 0
        self.take_start = 0  # the take's first pts on the recording grid
        self.take_audio_from = 0  # and the show's sample where its audio starts
        self.samples = 0  # the show's samples received so far
        self._flushed = time.monotonic()

    def tick(self, audio: np.ndarray, line: str) -> None:
        self.flac.write(audio)
        if self.take is not None and self.take.audio_channels:
            skip = max(0, self.take_audio_from - self.samples)
            if skip < len(audio):
                self.take.write_audio(take_channels(audio[skip:], self.take.audio_channels))
        self.samples += len(audio)
        self.log.write(line + "\n")
        if time.monotonic() - self._flushed > 0.5:
            self.log.flush()
            self._flushed = time.monotonic()

    def start_take(self, number: int, path: str, first_pts: int) -> None:
        settings = self.settings
        self.take = VideoWriter(Path(path), *settings.size, settings.fps, sample_rate=settings.sample_rate,
                                audio_channels=min(settings.channels, 2), crf=RECORD_CRF, preset=RECORD_PRESET,
                                threads=1)
        self.take_number, self.take_start = number, first_pts
        self.take_audio_from = Timebase(settings.fps, settings.sample_rate).frame_start(first_pts)
        if self.take_audio_from < self.samples:  # the take starts in audio already received: not kept
            self.take_audio_from = self.samples

    def frame(self, take: int, pts: int, size: tuple[int, int], picture: bytes) -> None:
        if self.take is None or take != self.take_number:
            return
        self.take.write_frame(upright(picture, size), pts - self.take_start)

    def cut(self) -> str | None:
        take, self.take = self.take, None
        if take is None:
            return None
        if not take.finish():
            return None
        return f"{take.path} ({take.frames_written} frames)"

    def close(self) -> str | None:
        finished = self.cut()
        self.flac.close()
        self.log.close()
        return finished



def _record(settings: RecordSettings, header_line: str, inbox, waiting, status) -> None:
    """The recorder process: see the module doc."""
    detach_from_terminal()
    os.nice(10)  # the show comes first: when the machine is busy, the encoder drops frames, not the show
    try:
        files = _Files(settings, header_line)
    except OSError as error:
        status.send(("failed", f"{error.strerror or error}"))
        return
    status.send(("ready", ""))
    try:
        _serve(files, inbox, waiting, status)
    except OSError as error:  # a full disk, a drive pulled out
        what = "disk full" if error.errno == 28 else (error.strerror or str(error))
        kept = settings.path.with_name(settings.path.stem + ".partial.mp4")
        status.send(("failed", f"RECORDING STOPPED: {what}; {kept.name} keeps what was written"))


def _serve(files: _Files, inbox, waiting, status) -> None:
    """Handle the show's messages in order until it says close, or it is gone (the pipe ends)."""
    while True:
        try:
            message = inbox.recv()
        except (EOFError, OSError):  # the show died: everything it sent has been written
            message = ("close",)
        kind, args = message[0], message[1:]
        if kind == "frame":
            with waiting.get_lock():
                waiting.value -= 1
            files.frame(*args)
        elif kind == "tick":
            files.tick(*args)
        elif kind in ("take", "cut", "close"):
            finished = files.close() if kind == "close" else files.cut()
            if finished:
                status.send(("take", finished))
            if kind == "take":
                files.start_take(*args)
            elif kind == "close":
                return
