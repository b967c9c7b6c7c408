"""The streaming, causal, sample-timed analyzer: blocks of samples in, one feature frame per video frame out.

Two clocks run over the same sample positions:

- the *hop* clock (every ``HOP`` samples, 100 Hz) drives the onset function and the beat tracker;
- the *frame* clock (``Timebase.frame_end``) emits a `FrameFeatures` from the spectrum of the window that
  ends exactly at the frame's last sample.

Events of both clocks are handled in sample order whatever the block size, so feeding a file in blocks of
64, 512 or 4096 samples gives the same features, and live input (any block size) behaves like a file.
The analyzer is pure numpy: it knows nothing of torch, GL or windows.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from vj.audio.activation import BeatActivation
from vj.audio.beat import BeatTracker
from vj.audio.features import Beat, FrameFeatures
from vj.audio.gain import AdaptiveGain, Follower
from vj.audio.onsets import OnsetFunction
from vj.timebase import Timebase

WINDOW = 2048
"""FFT size in samples (43 ms at 48 kHz) for both the frame spectrum and the onset function."""
HOP = 480
"""Onset-function hop (10 ms at 48 kHz)."""
BANDS_HZ = {"bass": (20.0, 250.0), "mid": (250.0, 4000.0), "treble": (4000.0, 16000.0)}
LOG_FREQ_RANGE_HZ = (100.0, 12000.0)
"""Centroid and rolloff are mapped to 0..1 on a log scale over this range."""
ROLLOFF_FRACTION = 0.85
ONSET_LAG = WINDOW // 2
"""An onset peaks in the onset function when it crosses the window's centre: half a window late."""


class BeatClock(Protocol):
    """An external beat source (tap tempo, MIDI clock) that can stand in for the tracker's beat."""

    @property
    def bpm(self) -> float:
        """The tempo, or 0 while it has none (then the tracker's beat shows)."""

    def beat_at(self, t: float) -> tuple[float, float]:
        """(pulse, phase) at ``t`` seconds of audio time, like `Analyzer.beat_at`."""


class Analyzer:
    """Streaming audio analysis at one frame rate. Call `process` with mono float blocks of any size.

    Args:
        timebase: the frame rate and sample rate (the samples must already be at its rate).
        activation: what turns band onsets into beat log-odds; the shipped `BeatActivation` by default
            (its trainer passes a recorder here to collect the band onsets).
    """

    def __init__(self, timebase: Timebase, activation: BeatActivation | None = None):
        self.timebase = timebase
        rate = timebase.sample_rate
        self._window = np.hanning(WINDOW).astype(np.float32)
        self._window_scale = 2.0 / self._window.sum()  # a full-scale sine reads 1.0
        freqs = np.fft.rfftfreq(WINDOW, 1.0 / rate)
        self._freqs = freqs
        self._band_masks = {name: ((freqs >= lo) & (freqs < hi)).astype(np.float32)
                            for name, (lo, hi) in BANDS_HZ.items()}
        self._onset_function = OnsetFunction(freqs, HOP / rate)
        self._audible = freqs >= 20.0
        self._activation = activation or BeatActivation(self._onset_function.bands)
        self._tracker = BeatTracker(hop_rate=rate / HOP, lead_hops=math.ceil(ONSET_LAG / HOP) + 1,
                                    delay_hops=self._activation.delay)
        self.clock: BeatClock | None = None
        """While set and running, the frames' beat, phase and tempo come from it; the tracker keeps
        listening underneath, so clearing it returns to the audio's beat at once. Wiring, not analysis
        state: `reset` keeps it."""
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next sample is position 0."""
        self._history = np.zeros(WINDOW, dtype=np.float32)  # the last WINDOW samples before `_position`
        self._position = 0  # samples consumed so far
        self._next_hop = HOP
        self._frame = 0
        self._onset_function.reset()
        self._activation.reset()
        self._hop_onsets: list[float] = []
        self._hop_fluxes: list[float] = []
        self._last_onset = self._last_flux = 0.0
        self._gains = {name: AdaptiveGain() for name in ("bass", "mid", "treble", "flux", "rms", "onset")}
        self._smooth = {name: Follower() for name in ("bass", "mid", "treble", "flux", "rms", "onset")}
        self._smooth.update(centroid=Follower(0.05, 0.15), rolloff=Follower(0.05, 0.15))  # jitter, not hits
        self._tracker.reset()
        self.beats: list[Beat] = []
        self._beat_times: list[float] = []  # committed beats in seconds, oldest first

    def process(self, block: np.ndarray) -> list[FrameFeatures]:
        """Consume mono samples; return the frames whose intervals ended inside this block (maybe none).

        NaN and infinities (a broken driver) read as silence and full scale, and samples are clipped to
        full scale, so no input can push a non-finite number into the features. The spectra of all the
        hops and frames that fall in the block are taken in one batch; their events are then replayed in
        sample order, so the result does not depend on the block size.
        """
        block = np.asarray(block, dtype=np.float32).reshape(-1)
        if not np.isfinite(block).all():  # rare: skip the copy for the usual clean block
            block = np.nan_to_num(block, nan=0.0, posinf=1.0, neginf=-1.0)
        block = np.clip(block, -1.0, 1.0)
        stream = np.concatenate([self._history, block])  # stream[i] is sample _position - WINDOW + i
        base = self._position - WINDOW
        end = self._position + len(block)
        hop_ends = np.arange(self._next_hop, end + 1, HOP)
        frame_ends = []
        while (frame_end := self.timebase.frame_end(self._frame + len(frame_ends))) <= end:
            frame_ends.append(frame_end)
        ends = np.concatenate([hop_ends, np.array(frame_ends, dtype=int)]) - base
        magnitudes, deviations = self._spectra(stream[ends[:, None] + np.arange(-WINDOW, 0)])
        k = len(hop_ends)
        if k:
            rises, onsets, fluxes = self._onset_function(magnitudes[:k], deviations[:k])
            activations = self._activation(rises)
        frame_levels = self._frame_levels(magnitudes[k:], deviations[k:])
        frames: list[FrameFeatures] = []
        h = 0
        for i, frame_end in enumerate(frame_ends):
            while h < len(hop_ends) and hop_ends[h] <= frame_end:
                self._hop(int(hop_ends[h]), float(onsets[h]), float(fluxes[h]), float(activations[h]))
                h += 1
            frames.append(self._emit({name: float(values[i]) for name, values in frame_levels.items()}))
        for h in range(h, len(hop_ends)):
            self._hop(int(hop_ends[h]), float(onsets[h]), float(fluxes[h]), float(activations[h]))
        self._next_hop += HOP * len(hop_ends)
        self._history = stream[-WINDOW:].copy()
        self._position = end
        return frames

    def _spectra(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Magnitudes and standard deviation of each (k, WINDOW) window, all in one FFT call.

        The mean is removed first: a DC offset would leak into the bass band and the level.
        """
        centred = windows - windows.mean(axis=1, keepdims=True)
        deviations = np.sqrt(np.einsum("ij,ij->i", centred, centred) / WINDOW)
        return np.abs(np.fft.rfft(centred * self._window, axis=1)) * self._window_scale, deviations

    def _frame_levels(self, magnitudes: np.ndarray, deviations: np.ndarray) -> dict[str, np.ndarray]:
        """Raw band levels, rms, centroid and rolloff of each frame (before any normalisation)."""
        power = np.square(magnitudes)
        # einsum, not BLAS, here and below: BLAS rounding depends on how many rows come at once, and the
        # features must not depend on the block size.
        levels = {name: np.sqrt(np.einsum("ij,j->i", power, mask)) for name, mask in self._band_masks.items()}
        levels["rms"] = deviations * np.sqrt(2.0)  # a full-scale sine reads 1.0; DC does not count
        audible = power[:, self._audible]
        total = audible.sum(axis=1)
        safe = np.maximum(total, 1e-30)
        freqs = self._freqs[self._audible]
        rolloff_index = (np.cumsum(audible, axis=1) < ROLLOFF_FRACTION * total[:, None]).sum(axis=1)
        silent = total <= 1e-12
        levels["centroid"] = np.where(silent, 0.0, _log_position(np.einsum("ij,j->i", audible, freqs) / safe))
        levels["rolloff"] = np.where(silent, 0.0, _log_position(freqs[np.minimum(rolloff_index, len(freqs) - 1)]))
        return levels

    def _hop(self, position: int, onset: float, flux: float, activation: float) -> None:
        """The hop ending at sample ``position``: feed the beat tracker, keep the values for the next frame."""
        self._hop_onsets.append(onset)
        self._hop_fluxes.append(flux)
        beat_hop = self._tracker.push(activation, audible=onset >= 1e-3)
        if beat_hop is not None:
            rate = self.timebase.sample_rate
            t = hop_time(beat_hop, rate)
            self.beats.append(Beat(t=t, known_at=position / rate))
            self._beat_times.append(t)

    def _emit(self, raw: dict[str, float]) -> FrameFeatures:
        """The features of the next frame from its raw levels."""
        tb = self.timebase
        dt = float(1 / tb.fps)
        now = tb.seconds(tb.frame_end(self._frame))
        levels = {name: raw[name] for name in ("bass", "mid", "treble", "rms")}
        if self._hop_onsets:  # hops since the last frame; at very high fps there may be none
            self._last_onset = max(self._hop_onsets)
            self._last_flux = sum(self._hop_fluxes) / len(self._hop_fluxes)
            self._hop_onsets.clear()
            self._hop_fluxes.clear()
        levels["onset"], levels["flux"] = self._last_onset, self._last_flux
        norm = {name: self._smooth[name](self._gains[name](level, dt), dt) for name, level in levels.items()}
        centroid, rolloff = self._smooth["centroid"](raw["centroid"], dt), self._smooth["rolloff"](raw["rolloff"], dt)
        beat, phase = self.beat_at(now)
        features = FrameFeatures(
            index=self._frame, bass=norm["bass"], mid=norm["mid"], treble=norm["treble"],
            centroid=centroid, rolloff=rolloff, flux=norm["flux"], time=tb.frame_time(self._frame),
            beat=beat, rms=norm["rms"], tempo_bpm=self.tempo_bpm, beat_phase=phase,
            onset=norm["onset"],
        )
        self._frame += 1
        return features

    @property
    def tempo_bpm(self) -> float:
        """The external clock's tempo while it runs, else the tracker's (0 until it locks)."""
        return (self.clock.bpm if self.clock is not None else 0.0) or self._tracker.tempo_bpm

    def beat_at(self, t: float) -> tuple[float, float]:
        """Beat pulse (1 on a beat, decaying) and phase (0..1) at ``t`` seconds.

        From the external clock while it runs; else from the committed beats, which run ahead of the
        audio, and past the newest one on the tempo's grid for up to two beats: so live can ask about the
        moment a frame will be *seen*, not heard.
        """
        if self.clock is not None and self.clock.bpm:
            return self.clock.beat_at(t)
        period = 60.0 / self._tracker.tempo_bpm if self._tracker.tempo_bpm else 0.0
        passed = [b for b in self._beat_times[-3:] if b <= t]
        if not period or not passed:
            return 0.0, 0.0
        since = t - passed[-1]
        if passed[-1] == self._beat_times[-1] and since < 3 * period:
            since %= period  # beyond the committed beats: continue the grid
        return beat_pulse(since, period), (since / period) % 1.0


def hop_time(hop: float, sample_rate: int) -> float:
    """The time (s) of a sound whose onset peaks at onset-function hop ``hop`` (hops end every HOP samples,
    the first at HOP; an onset peaks there ONSET_LAG after it sounds)."""
    return ((hop + 1) * HOP - ONSET_LAG) / sample_rate


def time_hop(t: np.ndarray, sample_rate: int) -> np.ndarray:
    """The nearest onset-function hop at which sounds at ``t`` (s) peak: the inverse of `hop_time`."""
    return np.round((np.asarray(t) * sample_rate + ONSET_LAG) / HOP).astype(int) - 1


def beat_pulse(since_s: float, period_s: float) -> float:
    """The beat's flash: 1 on the beat, decaying within a quarter beat (at most 150 ms)."""
    return math.exp(-since_s / min(0.15, period_s / 4))


def _log_position(freq_hz: np.ndarray) -> np.ndarray:
    lo, hi = LOG_FREQ_RANGE_HZ
    return np.clip(np.log(np.maximum(freq_hz, lo) / lo) / math.log(hi / lo), 0.0, 1.0)


def analyze_blocks(blocks, timebase: Timebase) -> tuple[list[FrameFeatures], list[Beat], int]:
    """Run a whole stream through the analyzer, as live would, and pad the last frame with silence.

    Args:
        blocks: iterable of mono float32 blocks at the timebase's rate.
    Returns:
        (frames covering all the audio, committed beats, number of samples read)
    """
    analyzer = Analyzer(timebase)
    frames: list[FrameFeatures] = []
    total = 0
    for block in blocks:
        frames.extend(analyzer.process(block))
        total += len(block)
    missing = timebase.frame_end(timebase.frame_count(total) - 1) - total if total else 0
    if missing > 0:
        frames.extend(analyzer.process(np.zeros(missing, dtype=np.float32)))
    return frames, [b for b in analyzer.beats if b.t * timebase.sample_rate < total], total
