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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vj.audio.decode import open_audio
from vj.audio.features import FrameFeatures
from vj.audio.framestream import FrameStream
from vj.control.params import Params
from vj.errors import VJError
from vj.look.headless import OffscreenTarget, headless_context
from vj.output.fanout import Outputs
from vj.output.frames import PngWriter
from vj.output.rig import OutputFormat
from vj.output.video import VideoWriter
from vj.render.pipeline import FramePipeline, PreparedFrame
from vj.render.plan import RenderPlan, plan_render
from vj.render.settings import RenderSettings
from vj.render.stages import Ahead, Behind
from vj.timebase import ANALYSIS_RATE


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
    plan = plan_render(settings)
    source = open_audio(settings.audio)
    expected = plan.frames_in(source.duration_s)
    setup = _Setup(plan, plan.params(), expected or 0)
    try:
        streams = _streams(setup, settings)
    except BaseException:
        setup.release()
        raise
    stream = Ahead(FrameStream(source, plan.timebase, plan.first, plan.last), depth=64, name="vj-analyse")
    bar = tqdm(total=expected, unit="frame", desc="render", disable=not progress, file=sys.stderr, smoothing=0.1)
    try:
        with _stop_between_frames() as stop, bar:
            done = _render(setup, settings.output, _pngs(settings.frames_dir, settings), stream, plan.first, stop,
                           bar.update, audio=True, streams=streams)
    finally:
        stream.close()
        if streams is not None:
            streams.close()
        setup.release()
    return RenderResult(settings.output, done, not stop.requested, time.perf_counter() - started)


def render_part(plan: RenderPlan, params: Params, features: Iterable[FrameFeatures], keep_from: int,
                plan_frames: int, output: Path, frames_dir: Path | None = None,
                on_frame: Callable[[int], None] = lambda n: None) -> int:
    """One part of ``plan``'s render, picture only, into ``output``: the frames of ``features`` (analysed
    by whoever cut the render into parts), starting from ``params`` as they were before the first of them.
    Frames before ``keep_from`` are drawn and dropped (a pre-roll: trails build up as in a render from the
    start); the rest keep their place in the whole video (pts = frame - ``plan.first``), as
    `vj.output.join` needs. ``plan_frames`` is the whole render's length (it decides whether the net is
    compiled, which changes its rounding). Returns the frames written."""
    setup = _Setup(plan, params, plan_frames)
    silence = np.zeros((0, 2), np.float32)
    try:
        frames = ((f.index, f, silence) for f in features)
        return _render(setup, output, _pngs(frames_dir, plan.settings), frames, keep_from, _StopRequest(), on_frame,
                       audio=False)
    finally:
        setup.release()


def _streams(setup: _Setup, settings: RenderSettings) -> Outputs | None:
    """The render's ``--output ndi`` (...) streams, opened before the first frame (None without any)."""
    if not settings.streams:
        return None
    return Outputs(setup.ctx, list(settings.streams), OutputFormat((settings.width, settings.height), settings.fps,
                                                                   ANALYSIS_RATE, 2))


def _pngs(directory: Path | None, settings: RenderSettings) -> PngWriter | None:
    """The render's PNG frames in ``directory`` (none without one), at the output's size."""
    return PngWriter(directory, (settings.width, settings.height)) if directory else None


def _render(setup: _Setup, output: Path, pngs: PngWriter | None,
            frames: Iterable[tuple[int, FrameFeatures, np.ndarray]],
            keep_from: int, stop: _StopRequest, on_frame: Callable[[int], None], audio: bool,
            streams: Outputs | None = None) -> int:
    """Four threads share the work (`vj.render.stages`): decode and analysis (``frames``, when it is an
    `Ahead`), the net, the look (this thread, which owns the GL context), and encoding. Frames before
    ``keep_from`` are drawn, not kept. With ``streams``, each kept frame also goes there, no sooner than
    its time in the audio from the first one (a render faster than real time waits). Returns the frames kept."""
    settings = setup.plan.settings
    target = OffscreenTarget(setup.ctx, *setup.plan.quality.look_size(settings.width, settings.height))
    output.parent.mkdir(parents=True, exist_ok=True)
    done = 0
    started: float | None = None
    prepared = Ahead(setup.prepared(frames), depth=2, name="vj-net")
    with VideoWriter(output, settings.width, settings.height, settings.fps,
                     preset=setup.plan.quality.encoder_preset, audio_channels=2 if audio else 0) as writer:
        encoder = Behind(lambda item: _write(writer, pngs, setup.plan.first, *item), depth=4, name="vj-encode")
        try:
            for index, frame, samples in prepared:
                if stop.requested:
                    break
                setup.pipeline.present(frame, target.framebuffer)
                if index >= keep_from:
                    encoder.put((index, target.read(), samples if audio else samples[:0]))
                    done += 1
                    on_frame(1)
                    if streams is not None:
                        seconds = float((index - keep_from) / settings.fps)
                        started = time.monotonic() - seconds if started is None else started
                        time.sleep(max(0.0, started + seconds - time.monotonic()))
                        streams.send(target.framebuffer, samples, round(float(index / settings.fps) * ANALYSIS_RATE))
        finally:
            prepared.close()
            encoder.finish()
        if done == 0:
            raise VJError("stopped before the first frame; nothing was written")
    return done


def _write(writer: VideoWriter, pngs: PngWriter | None, origin: int, index: int, rgb: np.ndarray,
           samples: np.ndarray) -> None:
    writer.write_frame(rgb, index - origin)
    if len(samples):
        writer.write_audio(samples)
    if pngs:
        pngs.write(index, rgb)


class _Setup:
    """What a render of ``plan`` draws with: its live parameters, a GL context and the pipeline.

    Args:
        plan: the render.
        params: the live parameters as they are before the first frame drawn.
        frames: the whole render's length, which decides whether the net is compiled.
    """

    def __init__(self, plan: RenderPlan, params: Params, frames: int):
        settings, quality = plan.settings, plan.quality
        self.plan, self.params = plan, params
        self.ctx = headless_context()
        self.pipeline = FramePipeline(plan.preset, settings.device, self.ctx, net=quality.net,
                                      strobe_limit=settings.strobe_limit, mixed=quality.mixed,
                                      compiled=_worth_compiling(settings.device, frames),
                                      workers=quality.engine_workers, weights=plan.weights)
        self.internal = quality.internal(settings.width, settings.height)

    def release(self) -> None:
        self.pipeline.release()
        self.ctx.release()

    def prepared(self, frames: Iterable[tuple[int, FrameFeatures, np.ndarray]]
                 ) -> Iterator[tuple[int, PreparedFrame, np.ndarray]]:
        """Each frame's net pictures, made from the analysed ``frames``."""
        for index, features, samples in frames:
            self.params.advance(features.time)
            yield index, self.pipeline.prepare(features, self.internal, self.params), samples


def _worth_compiling(device: str, frames: int) -> bool:
    """torch.compile pays on the CPU once a render is long enough to earn back its compile time."""
    return device == "cpu" and frames >= COMPILE_FROM_FRAMES


def engine_only_fps(settings: RenderSettings, frames: int) -> float:
    """Frames/s of the net alone for ``settings``: the first ``frames`` frames' features, analysed first,
    then only `FramePipeline.prepare` timed (no decode, analysis, look or encode)."""
    plan = plan_render(settings)
    source = open_audio(settings.audio)
    setup = _Setup(plan, plan.params(), plan.frames_in(source.duration_s) or 0)
    try:
        features = [f for _, f, _ in FrameStream(source, plan.timebase, plan.first, plan.first + frames + 1)]
        setup.params.advance(features[0].time)
        setup.pipeline.prepare(features[0], setup.internal, setup.params)  # warm-up (and compile)
        start = time.perf_counter()
        for f in features[1:]:
            setup.params.advance(f.time)
            setup.pipeline.prepare(f, setup.internal, setup.params)
        return (len(features) - 1) / (time.perf_counter() - start)
    finally:
        setup.release()
