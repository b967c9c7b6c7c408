"""`vj render`: analyse an audio file once, then render, encode and mux its frames.

Analysis always runs from the start of the file (it is causal and cheap), so a frame rendered with
--start is the same picture as that frame in a full render. Frame indices and the evolution walk are
absolute, counted from the start of the audio.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vj.audio.decode import AudioSource, open_audio
from vj.audio.report import analyze_source
from vj.control.standard import show_params
from vj.errors import VJError
from vj.look.headless import OffscreenTarget, headless_context
from vj.output.frames import PngWriter
from vj.output.video import VideoWriter
from vj.presets import resolve_preset
from vj.render.pipeline import FramePipeline
from vj.render.settings import RenderSettings, internal_size
from vj.timebase import Timebase


@dataclass(frozen=True)
class RenderResult:
    output: Path
    frames: int
    complete: bool
    """False when the user stopped the render: the file then holds the frames made so far."""
    seconds: float
    """Wall-clock seconds spent rendering frames (after analysis)."""


class _AudioCursor:
    """Reads consecutive sample ranges from a stream of decoded blocks."""

    def __init__(self, source: AudioSource, sample_rate: int):
        self.sample_rate = sample_rate
        self._blocks = source.blocks()
        self._pending = np.zeros((0, 2), np.float32)

    def read(self, count: int) -> np.ndarray:
        """Up to ``count`` samples (fewer at the end of the audio)."""
        parts, have = [self._pending], len(self._pending)
        while have < count:
            block = next(self._blocks, None)
            if block is None:
                break
            parts.append(block)
            have += len(block)
        data = np.concatenate(parts) if len(parts) > 1 else self._pending
        self._pending = data[count:]
        return data[:count]

    def skip(self, count: int) -> None:
        """Pass over ``count`` samples a second at a time, never holding them all (--start deep in a set)."""
        while count > 0:
            step = len(self.read(min(count, self.sample_rate)))
            if step == 0:
                return
            count -= step


class _StopRequest:
    """Ctrl-C as a flag checked between frames, so a stop never cuts a frame, its audio or a packet in half."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: object) -> None:
        self.requested = True


@contextmanager
def _stop_between_frames():
    """While rendering frames, SIGINT sets a flag instead of raising; the default comes back after."""
    stop = _StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signals reach only the main thread; a caller elsewhere stops us another way
        return
    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def render_file(settings: RenderSettings, progress: bool = True) -> RenderResult:
    """Render ``settings.audio`` to ``settings.output``; Ctrl-C keeps a playable file of what was done."""
    settings.check()
    preset = resolve_preset(settings.preset, settings.seed, settings.evolution, settings.net)
    params = show_params(preset, overrides=settings.params)
    source = open_audio(settings.audio)
    timebase = Timebase(settings.fps)
    table, total, _ = analyze_source(source, timebase, progress)
    first = timebase.frame_at(round(settings.start_s * timebase.sample_rate))
    if first >= len(table):
        raise VJError(f"--start {settings.start_s}: the audio is only {total / timebase.sample_rate:.2f} s long")
    last = len(table)
    if settings.duration_s is not None:
        last = min(last, first + max(1, round(settings.duration_s * float(settings.fps))))

    ctx = headless_context()
    pipeline = FramePipeline(preset, settings.device, ctx, net=settings.net, strobe_limit=settings.strobe_limit)
    scale = settings.scale if settings.scale is not None else (1.0 if pipeline.device == "cuda" else 0.5)
    internal = internal_size(settings.width, settings.height, scale)
    target = OffscreenTarget(ctx, settings.width, settings.height)
    pngs = PngWriter(settings.frames_dir) if settings.frames_dir else None
    audio = _AudioCursor(source, timebase.sample_rate)
    audio.skip(timebase.frame_start(first))

    settings.output.parent.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=last - first, unit="frame", desc="render", disable=not progress, file=sys.stderr,
               smoothing=0.1)
    done = 0
    started = time.perf_counter()
    try:
        with _stop_between_frames() as stop, bar:
            with VideoWriter(settings.output, settings.width, settings.height, settings.fps) as writer:
                for n in range(first, last):
                    if stop.requested:
                        break
                    params.advance(table[n].time)
                    pipeline.draw(table[n], internal, target.framebuffer, params)
                    rgb = target.read()
                    writer.write_frame(rgb)
                    start, end = timebase.frame_start(n), min(timebase.frame_end(n), total)
                    if end > start:
                        writer.write_audio(audio.read(end - start))
                    if pngs:
                        pngs.write(n, rgb)
                    done += 1
                    bar.update()
                if done == 0:
                    raise VJError("stopped before the first frame; nothing was written")
    finally:
        pipeline.release()
    return RenderResult(settings.output, done, not stop.requested, time.perf_counter() - started)
