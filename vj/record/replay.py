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
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vj.audio.analyzer import Analyzer
from vj.audio.features import FrameFeatures
from vj.control.clock import BeatSources, MidiClock
from vj.control.standard import show_params
from vj.control.tap import TapTempo
from vj.errors import VJError
from vj.look.headless import headless_context
from vj.look.look import picture_buffer, release_picture
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


@dataclass(frozen=True)
class ReplayResult:
    output: Path
    frames: int
    seconds: float


def replay_show(settings: ReplaySettings, progress: bool = True) -> ReplayResult:
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
    return _Replay(show, audio, settings).run(progress)


class _Replay:
    def __init__(self, show: ShowLog, audio: np.ndarray, settings: ReplaySettings):
        header = self.header = show.header
        self.show, self.audio, self.settings = show, audio, settings
        record_size = tuple(header["record_size"])
        self.size = settings.size or record_size
        self.same_size = self.size == record_size
        self.fps = settings.fps or Fraction(header["record_fps"])
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
        self.tap = TapTempo()
        self.clock = MidiClock() if header.get("clock") == "midi" else None
        self.beats = BeatSources(self.tap, self.clock)
        self.analyzer = Analyzer(Timebase(Fraction(header["fps"])))
        self.analyzer.clock = self.beats
        self.ctx = headless_context()
        self.pipeline = FramePipeline(preset, settings.device or header["device"], self.ctx, net=net,
                                      strobe_limit=header["strobe_limit"])
        self.analysed: dict[int, FrameFeatures] = {}
        self.fed = 0

    def _sizes(self, record_size, record_look) -> tuple[tuple[int, int], tuple[int, int]]:
        """(internal, look): the show's own at its size; else the offline render's for the new size."""
        if self.same_size:
            return record_size, record_look
        scale = self.settings.scale if self.settings.scale is not None else (
            1.0 if self.pipeline.device == "cuda" else 0.5)
        return internal_size(*self.size, scale), self.size

    def run(self, progress: bool) -> ReplayResult:
        frames, settings = self.show.frames, self.settings
        first = frames[0]
        internal, look = self._sizes(first.size, first.look)
        picture = picture_buffer(self.ctx, look)
        silent = FrameFeatures(0, *([0.0] * 12))
        self.pipeline.draw(silent, internal, picture, self.params)  # the show's warm-up frame
        grid = Timebase(self.fps)
        channels = min(self.header["channels"], 2)
        settings.output.parent.mkdir(parents=True, exist_ok=True)
        bar = tqdm(total=len(frames), unit="frame", desc="replay", disable=not progress, file=sys.stderr,
                   smoothing=0.1)
        written, last, audio_done = 0, -1, 0
        started = time.perf_counter()
        try:
            with bar, VideoWriter(settings.output, *self.size, self.fps, audio_channels=channels) as writer:
                for record in frames:
                    self._controls_and_audio(record)
                    if record.size or record.look:
                        internal, new_look = self._sizes(record.size or internal, record.look or look)
                        if new_look != look:
                            release_picture(picture)
                            look, picture = new_look, picture_buffer(self.ctx, new_look)
                    bar.update()
                    if record.idle:
                        continue
                    self._draw(record, internal, picture)
                    slot = grid_slot(record.seen * float(self.fps) / ANALYSIS_RATE, last)
                    if slot is None:
                        continue
                    last = slot
                    writer.write_frame(upright(picture.read(components=3), look), slot)
                    written += 1
                    end = min(grid.frame_end(slot), len(self.audio))
                    if end > audio_done:
                        writer.write_audio(take_channels(self.audio[audio_done:end], channels))
                        audio_done = end
        finally:
            self.pipeline.release()
        return ReplayResult(settings.output, written, time.perf_counter() - started)

    def _controls_and_audio(self, record) -> None:
        """What the live loop did before drawing: the controls, the triggers, the audio analysed."""
        for event in record.events:
            apply_event(event, self.params, self.tap, self.clock, ANALYSIS_RATE)
        self.beats.at(record.now / ANALYSIS_RATE)
        self.pipeline.follow(self.params, self.presets)
        block = self.audio[self.fed:record.at]
        self.fed = max(self.fed, record.at)
        for features in self.analyzer.process(block.mean(axis=1) if len(block) else block.reshape(-1)):
            self.analysed[features.index] = features
            self.analysed.pop(features.index - KEEP_FRAMES, None)

    def _draw(self, record, internal, picture) -> None:
        try:
            current = self.analysed[record.index]
        except KeyError:
            raise VJError(f"{self.show.path}: frame {record.frame} shows analysed frame {record.index}, "
                          "which its audio never reached; the log and its FLAC do not belong together") from None
        pulse, phase = self.analyzer.beat_at(record.seen / ANALYSIS_RATE)
        features = replace(current, beat=pulse, beat_phase=phase)
        if not self.params["freeze"]:
            self.params.advance(record.picture / ANALYSIS_RATE)
            self.pipeline.draw(features, internal, picture, self.params, take=record.took)
