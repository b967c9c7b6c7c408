"""An audio file decoded once and analysed as it comes: each video frame's features with the samples it
covers. Offline renders draw from it; a cluster's driver runs it once and hands the features to its
workers."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from vj.audio.analyzer import Analyzer
from vj.audio.decode import AudioSource, to_mono
from vj.audio.features import FrameFeatures
from vj.errors import VJError
from vj.timebase import Timebase


class FrameStream:
    """(frame index, features, stereo samples of the frame) for frames ``first`` to ``last`` (exclusive;
    None: to the end of the audio).

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
