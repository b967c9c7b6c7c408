"""`vj render --replay SHOW.vjlog`: a recorded show made again, offline, through the same engine.

The performance log holds what every live frame was a function of (`vj.record.showlog`), and its FLAC
the audio exactly as the analyzer heard it. The replay feeds the analyzer the same samples in the same
blocks, hands every control event back before the same frame (`vj.record.journal`), takes each preset
load at the frame the show took it, and draws each frame at its logged picture time and beat moment:
at the live settings the pictures are the live show's, bit for bit, before encoding.

Frames land on the output's frame grid at the moment they were seen, by the same rule as the live
recording (`vj.record.grid.grid_slot`), with the audio from the show's first sample. At a higher
resolution the net and the look draw at the new size: the same show, sharper. At another frame rate the
show's frames take the new grid's slots (a 60 fps replay of a 30 fps show holds each frame for two).

A replay runs in two passes: the analysis (`analyse_show`: the audio, the tap and MIDI clocks, each
frame's features and slot) and the drawing (`ShowDrawer`: the controls, the pipeline and the pictures).
Nothing in the second feeds the first, so a cluster (`vj.cluster`) runs the analysis once on its
driver and hands it to workers that each draw a part of the show (`vj.record.replay_parts`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vj.audio.analyzer import Analyzer
from vj.audio.features import FrameFeatures, feature_rows
from vj.control.clock import BeatSources, MidiClock
from vj.control.standard import show_params
from vj.control.tap import TapTempo
from vj.errors import VJError
from vj.look.headless import headless_context
from vj.look.look import picture_buffer, release_picture
from vj.output.frames import PngWriter
from vj.output.video import VideoWriter, take_channels, upright
from vj.presets import resolve_preset
from vj.record.grid import grid_slot
from vj.record.journal import apply_event
from vj.record.lossless import read_flac
from vj.record.showlog import ShowLog, read_show_log
from vj.render.pipeline import FramePipeline
from vj.render.settings import internal_size
from vj.timebase import ANALYSIS_RATE, Timebase

KEEP_FRAMES = 256
"""Analysed frames kept by index: a live show shows one at most ``--av-offset`` (1 s) old."""
SILENT = FrameFeatures(0, *([0.0] * 12))
"""What the show's warm-up frame, and a frame with nothing drawn, hear."""


@dataclass(frozen=True)
class ReplaySettings:
    log: Path
    output: Path
    size: tuple[int, int] | None = None
    """None: the recording's size (and the show's own internal sizes: the live pictures exactly)."""
    fps: Fraction | None = None
    """None: the recording's frame rate."""
    scale: float | None = None
    device: str | None = None
    """None: the device the show ran on (another one draws the same show with its own rounding)."""
    force: bool = False
    frames_dir: Path | None = None
    """Also write each frame as a PNG, named by its frame in the output."""


@dataclass(frozen=True)
class ReplayResult:
    output: Path
    frames: int
    seconds: float


def load_show(settings: ReplaySettings) -> tuple[ShowLog, np.ndarray]:
    """The show's log and its audio, checked against each other and against the output asked for."""
    if settings.output.suffix.lower() != ".mp4":
        raise VJError(f"-o {settings.output}: the output must be an .mp4 file")
    if settings.output.exists() and not settings.force:
        raise VJError(f"{settings.output} exists; pass --force to overwrite it")
    show = read_show_log(settings.log)
    header = show.header
    if header["sample_rate"] != ANALYSIS_RATE:
        raise VJError(f"{settings.log}: recorded at {header['sample_rate']} Hz; this vj analyses at {ANALYSIS_RATE}")
    audio = read_flac(show.audio_path)
    if audio.shape[1] != header["channels"]:
        raise VJError(f"{show.audio_path}: {audio.shape[1]} channels, but the log says {header['channels']}")
    if len(audio) < show.frames[-1].at:
        show.frames = [record for record in show.frames if record.at <= len(audio)]  # the FLAC lost its tail
        if not show.frames:
            raise VJError(f"{show.audio_path}: holds none of the show's audio")
    return show, audio


def output_fps(show: ShowLog, settings: ReplaySettings) -> Fraction:
    return settings.fps or Fraction(show.header["record_fps"])


@dataclass(frozen=True)
class ShowAnalysis:
    """What the audio and the beat clocks made of each of the show's frames."""

    rows: np.ndarray
    """`feature_rows`, one per frame record: the features it was drawn with (`SILENT` where idle)."""
    slots: np.ndarray
    """Per frame record, its frame in the output (-1: none, too early for the next one, or idle)."""

    def audio_end(self, fps: Fraction, samples: int) -> int:
        """Where the output's sound ends: with its last frame, or the audio."""
        return min(Timebase(fps).frame_end(int(self.slots.max())), samples)


def analyse_show(show: ShowLog, audio: np.ndarray, fps: Fraction) -> ShowAnalysis:
    """The analyzer fed the same samples in the same blocks as live, its beat clocks the same taps and
    MIDI clock; each frame's features at its beat moment, and its slot on the output's grid of ``fps``."""
    header = show.header
    tap, clock = TapTempo(), MidiClock() if header.get("clock") == "midi" else None
    beats = BeatSources(tap, clock)
    analyzer = Analyzer(Timebase(Fraction(header["fps"])))
    analyzer.clock = beats
    analysed: dict[int, FrameFeatures] = {}
    frames, slots, fed, last = [], np.full(len(show.frames), -1, np.int64), 0, -1
    for number, record in enumerate(show.frames):
        for event in record.events:
            apply_event(event, None, tap, clock, ANALYSIS_RATE)
        beats.at(record.now / ANALYSIS_RATE)
        block = audio[fed:record.at]
        fed = max(fed, record.at)
        for features in analyzer.process(block.mean(axis=1) if len(block) else block.reshape(-1)):
            analysed[features.index] = features
            analysed.pop(features.index - KEEP_FRAMES, None)
        if record.idle:
            frames.append(SILENT)
            continue
        try:
            current = analysed[record.index]
        except KeyError:
            raise VJError(f"{show.path}: frame {record.frame} shows analysed frame {record.index}, "
                          "which its audio never reached; the log and its FLAC do not belong together") from None
        pulse, phase = analyzer.beat_at(record.seen / ANALYSIS_RATE)
        frames.append(replace(current, beat=pulse, beat_phase=phase))
        slot = grid_slot(record.seen * float(fps) / ANALYSIS_RATE, last)
        if slot is not None:
            slots[number] = last = slot
    if last < 0:
        raise VJError(f"{show.path}: no frame of the show was ever drawn; nothing to replay")
    return ShowAnalysis(feature_rows(frames), slots)


def replay_show(settings: ReplaySettings, progress: bool = True) -> ReplayResult:
    started = time.perf_counter()
    show, audio = load_show(settings)
    fps = output_fps(show, settings)
    analysis = analyse_show(show, audio, fps)
    drawer = ShowDrawer(show, settings)
    grid = Timebase(fps)
    channels = min(show.header["channels"], 2)
    pngs = PngWriter(settings.frames_dir, drawer.size) if settings.frames_dir else None
    settings.output.parent.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=len(show.frames), unit="frame", desc="replay", disable=not progress, file=sys.stderr,
               smoothing=0.1)
    written, audio_done = 0, 0
    try:
        with bar, VideoWriter(settings.output, *drawer.size, fps, audio_channels=channels) as writer:
            for slot, picture in drawer.pictures(analysis, 0, len(show.frames), bar.update):
                writer.write_frame(picture, slot)
                if pngs:
                    pngs.write(slot, picture)
                written += 1
                end = min(grid.frame_end(slot), len(audio))
                if end > audio_done:
                    writer.write_audio(take_channels(audio[audio_done:end], channels))
                    audio_done = end
    finally:
        drawer.release()
    return ReplayResult(settings.output, written, time.perf_counter() - started)


class ShowDrawer:
    """The show's controls and pipeline, frame record by frame record: what a replay draws."""

    def __init__(self, show: ShowLog, settings: ReplaySettings):
        header = self.header = show.header
        self.show, self.settings = show, settings
        record_size = tuple(header["record_size"])
        self.size = settings.size or record_size
        self.same_size = self.size == record_size
        net = header["net"] or None
        self.presets = header["presets"]
        try:
            preset = resolve_preset(header["preset"], header.get("seed"), header.get("evolution"), net)
        except VJError as error:
            raise VJError(f"{show.path}: the show's preset: {error}") from None
        self.params = show_params(preset, len(self.presets), self.presets.index(header["preset"]))
        for name, value in header["params"].items():
            if name in self.params.specs:
                self.params.set(name, value, "log")
                self.params.set_smoothing(name, header["smoothing"].get(name, self.params.specs[name].smoothing_s))
        self.params.settle()
        self.ctx = headless_context()
        self.pipeline = FramePipeline(preset, settings.device or header["device"], self.ctx, net=net,
                                      strobe_limit=header["strobe_limit"])

    def _sizes(self, record_size, record_look) -> tuple[tuple[int, int], tuple[int, int]]:
        """(internal, look): the show's own at its size; else the offline render's for the new size."""
        if self.same_size:
            return record_size, record_look
        scale = self.settings.scale if self.settings.scale is not None else (
            1.0 if self.pipeline.device == "cuda" else 0.5)
        return internal_size(*self.size, scale), self.size

    def pictures(self, analysis: ShowAnalysis, draw_from: int, end: int,
                 on_record: Callable[[], None] = lambda: None) -> Iterator[tuple[int, np.ndarray]]:
        """(slot, picture) for the frame records ``draw_from`` to ``end`` that have a slot, each an upright
        RGB array of the output's look size. The controls of every record before ``end`` are replayed;
        from ``draw_from`` on the pictures are drawn, before it the pipeline only keeps up (loads, morphs,
        the walk), so a part of the show starts where the show was, with a cold look (its pre-roll)."""
        frames = self.show.frames
        internal, look = self._sizes(frames[0].size, frames[0].look)
        picture = picture_buffer(self.ctx, look) if draw_from == 0 else None
        if picture is not None:
            self.pipeline.draw(SILENT, internal, picture, self.params)  # the show's warm-up frame
        else:
            self.pipeline.keep_up(SILENT, self.params)
        for number, record in enumerate(frames[:end]):
            for event in record.events:
                apply_event(event, self.params, None, None, ANALYSIS_RATE)
            self.pipeline.follow(self.params, self.presets)
            if record.size or record.look:
                internal, new_look = self._sizes(record.size or internal, record.look or look)
                if new_look != look and picture is not None:
                    release_picture(picture)
                    picture = picture_buffer(self.ctx, new_look)
                look = new_look
            on_record()
            if record.idle:
                continue
            if number >= draw_from and picture is None:
                picture = picture_buffer(self.ctx, look)
            features = FrameFeatures.from_row(analysis.rows[number])
            if not self.params["freeze"]:
                self.params.advance(record.picture / ANALYSIS_RATE)
                if picture is not None:
                    self.pipeline.draw(features, internal, picture, self.params, take=record.took)
                else:
                    self.pipeline.keep_up(features, self.params, take=record.took)
            if picture is not None and analysis.slots[number] >= 0:
                yield int(analysis.slots[number]), upright(picture.read(components=3), look)

    def release(self) -> None:
        self.pipeline.release()
        self.ctx.release()
