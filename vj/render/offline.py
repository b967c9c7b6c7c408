"""`vj render`: decode and analyse an audio file as it renders, encode and mux its frames.

Analysis always runs from the start of the file (it is causal and cheap), so a frame rendered with
--start is the same picture as that frame in a full render. Frame indices and the evolution walk are
absolute, counted from the start of the audio.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vj.audio.analyzer import Analyzer
from vj.audio.decode import AudioSource, open_audio, to_mono
from vj.audio.features import FrameFeatures
from vj.control.standard import show_params
from vj.engine.device import select_device
from vj.errors import VJError
from vj.look.headless import OffscreenTarget, headless_context
from vj.output.frames import PngWriter
from vj.output.video import VideoWriter
from vj.presets import resolve_preset
from vj.render.pipeline import FramePipeline, PreparedFrame
from vj.render.quality import quality_for
from vj.render.settings import RenderSettings
from vj.render.stages import Ahead, Behind
from vj.timebase import Timebase


COMPILE_FROM_FRAMES = 900
"""Renders of at least this many frames (30 s at 30 fps) compile the net on the CPU: compiling takes
seconds up front (once per net pattern, cached on disk after) and saves about a tenth of every frame."""


@dataclass(frozen=True)
class RenderResult:
    output: Path
    frames: int
    complete: bool
    """False when the user stopped the render: the file then holds the frames made so far."""
    seconds: float
    """Wall-clock seconds from building the pipeline to the finished file (decode and analysis overlap it)."""


class _FrameStream:
    """The audio decoded once and analysed as it comes: each frame's features with the samples it covers.

    The analyzer sees the file from its start (it is causal), so a frame is the same with or without
    --start; frames before ``first`` are analysed and passed over, their audio dropped as it goes.
    """

    def __init__(self, source: AudioSource, timebase: Timebase, first: int, last: int | None):
        self.source, self.timebase, self.first, self.last = source, timebase, first, last
        self.total = 0
        """Samples decoded so far (all of them once the stream has ended)."""

    def __iter__(self) -> Iterator[tuple[int, FrameFeatures, np.ndarray]]:
        timebase = self.timebase
        analyzer = Analyzer(timebase)
        audio, audio_start = np.zeros((0, 2), np.float32), 0  # samples from audio_start on, not yet handed out
        index = 0
        for block, mono in self._blocks():
            if len(block):
                audio = np.concatenate([audio, block]) if len(audio) else block
            for features in analyzer.process(mono):
                if self.last is not None and index >= self.last:
                    return
                start, end = timebase.frame_start(index), min(timebase.frame_end(index), self.total)
                samples = audio[max(0, start - audio_start) : max(0, end - audio_start)]
                audio, audio_start = audio[max(0, end - audio_start) :], max(audio_start, end)
                if index >= self.first:
                    yield index, features, samples
                index += 1
        if index <= self.first:
            raise VJError(f"--start {self.first / float(timebase.fps):.2f}: the audio is only "
                          f"{self.total / timebase.sample_rate:.2f} s long")

    def _blocks(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(stereo, mono) per decoded block; last, no audio with the mono silence that completes the last
        frame for the analyzer."""
        for block in self.source.blocks():
            self.total += len(block)
            yield block, to_mono(block)
        missing = self.timebase.frame_end(self.timebase.frame_count(self.total) - 1) - self.total if self.total else 0
        yield np.zeros((0, 2), np.float32), np.zeros(max(0, missing), np.float32)


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
    started = time.perf_counter()
    setup = _Setup(settings)
    try:
        done, complete = _render(setup, settings.output, _pngs(settings), setup.first, audio=True, progress=progress)
    finally:
        setup.release()
    return RenderResult(settings.output, done, complete, time.perf_counter() - started)


def render_range(settings: RenderSettings, start: int, end: int, preroll: int, output: Path) -> int:
    """Frames ``start`` to ``end`` (exclusive) of ``settings``'s render, picture only, into ``output``, each
    at its place in the whole video (pts = frame - the render's first): `vj.render.segments` joins such
    parts. The ``preroll`` frames before ``start`` are drawn and dropped, so trails have built up as in a
    render from the start. Returns the frames written."""
    setup = _Setup(settings)
    try:
        setup.first, setup.last = max(setup.first, start - preroll), end
        done, _ = _render(setup, output, _pngs(settings), start, audio=False, progress=False)
    finally:
        setup.release()
    return done


def _pngs(settings: RenderSettings) -> PngWriter | None:
    return PngWriter(settings.frames_dir, (settings.width, settings.height)) if settings.frames_dir else None


def _render(setup: _Setup, output: Path, pngs: PngWriter | None, keep_from: int, audio: bool,
            progress: bool) -> tuple[int, bool]:
    """Four threads share the work (`vj.render.stages`): decode and analysis, the net, the look (this
    thread, which owns the GL context), and encoding. Frames before ``keep_from`` are drawn, not kept.
    Returns (frames kept, whether the render ran to its end)."""
    settings = setup.settings
    target = OffscreenTarget(setup.ctx, *setup.quality.look_size(settings.width, settings.height))
    output.parent.mkdir(parents=True, exist_ok=True)
    expected = setup.expected_frames
    bar = tqdm(total=None if expected is None else expected - (keep_from - setup.first), unit="frame",
               desc="render", disable=not progress, file=sys.stderr, smoothing=0.1)
    done = 0
    prepared = Ahead(setup.prepared(), depth=2, name="vj-net")
    with _stop_between_frames() as stop, bar:
        with VideoWriter(output, settings.width, settings.height, settings.fps,
                         preset=setup.quality.encoder_preset, audio_channels=2 if audio else 0) as writer:
            encoder = Behind(lambda item: _write(writer, pngs, setup.origin, *item), depth=4,
                             name="vj-encode")
            try:
                for index, frame, samples in prepared:
                    if stop.requested:
                        break
                    setup.pipeline.present(frame, target.framebuffer)
                    if index >= keep_from:
                        encoder.put((index, target.read(), samples if audio else samples[:0]))
                        done += 1
                        bar.update()
            finally:
                prepared.close()
                encoder.finish()
            if done == 0:
                raise VJError("stopped before the first frame; nothing was written")
    return done, not stop.requested


def _write(writer: VideoWriter, pngs: PngWriter | None, origin: int, index: int, rgb: np.ndarray,
           samples: np.ndarray) -> None:
    writer.write_frame(rgb, index - origin)
    if len(samples):
        writer.write_audio(samples)
    if pngs:
        pngs.write(index, rgb)


class _Setup:
    """What a render of ``settings`` draws with: the preset, parameters, pipeline and frame range."""

    def __init__(self, settings: RenderSettings):
        self.settings = settings
        device = select_device(settings.device)[0].type
        self.quality = quality_for(settings.quality, device, settings.scale, settings.net)
        self.preset = resolve_preset(settings.preset, settings.seed, settings.evolution, self.quality.net)
        self.params = show_params(self.preset, overrides=settings.params)
        self.source = open_audio(settings.audio)
        self.timebase = Timebase(settings.fps)
        self.first = self.timebase.frame_at(round(settings.start_s * self.timebase.sample_rate))
        self.origin = self.first
        """The frame at the video's time 0 (a part rendered apart keeps the whole video's timestamps)."""
        self.last = None
        if settings.duration_s is not None:
            self.last = self.first + max(1, round(settings.duration_s * float(settings.fps)))
        self.ctx = headless_context()
        frames = self.last - self.first if self.last is not None else None
        self.pipeline = FramePipeline(self.preset, settings.device, self.ctx, net=self.quality.net,
                                      strobe_limit=settings.strobe_limit, mixed=self.quality.mixed,
                                      compiled=_worth_compiling(device, frames or self._frames_in_file()),
                                      workers=self.quality.engine_workers)
        self.internal = self.quality.internal(settings.width, settings.height)

    def release(self) -> None:
        self.pipeline.release()

    def _frames_in_file(self) -> int:
        duration = self.source.duration_s or 0.0
        return max(0, round(duration * float(self.settings.fps)) - self.first)

    @property
    def expected_frames(self) -> int | None:
        """The frames a render will make, as far as the file's header tells before decoding."""
        in_file = self._frames_in_file()
        return min(in_file, self.last - self.first) if self.last is not None and in_file else (in_file or None)

    def prepared(self) -> Iterator[tuple[int, PreparedFrame, np.ndarray]]:
        """Each frame's net pictures, made from the decoding and analysing stream (on its own thread)."""
        frames = Ahead(_FrameStream(self.source, self.timebase, self.first, self.last), depth=64, name="vj-analyse")
        try:
            for index, features, samples in frames:
                self.params.advance(features.time)
                yield index, self.pipeline.prepare(features, self.internal, self.params), samples
        finally:
            frames.close()


def _worth_compiling(device: str, frames: int) -> bool:
    """torch.compile pays on the CPU once a render is long enough to earn back its compile time."""
    return device == "cpu" and frames >= COMPILE_FROM_FRAMES


def engine_only_fps(settings: RenderSettings, frames: int) -> float:
    """Frames/s of the net alone for ``settings``: the first ``frames`` frames' features, analysed first,
    then only `FramePipeline.prepare` timed (no decode, analysis, look or encode)."""
    setup = _Setup(settings)
    try:
        stream = _FrameStream(setup.source, setup.timebase, setup.first, setup.first + frames + 1)
        features = [f for _, f, _ in stream]
        setup.params.advance(features[0].time)
        setup.pipeline.prepare(features[0], setup.internal, setup.params)  # warm-up (and compile)
        start = time.perf_counter()
        for f in features[1:]:
            setup.params.advance(f.time)
            setup.pipeline.prepare(f, setup.internal, setup.params)
        return (len(features) - 1) / (time.perf_counter() - start)
    finally:
        setup.release()
