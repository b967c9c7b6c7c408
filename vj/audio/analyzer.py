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

import numpy as np

from vj.audio.beat import BeatTracker
from vj.audio.features import Beat, FrameFeatures
from vj.audio.gain import AdaptiveGain, Follower
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


class Analyzer:
    """Streaming audio analysis at one frame rate. Call `process` with mono float blocks of any size.

    Args:
        timebase: the frame rate and sample rate (the samples must already be at its rate).
    """

    def __init__(self, timebase: Timebase):
        self.timebase = timebase
        rate = timebase.sample_rate
        self._window = np.hanning(WINDOW).astype(np.float32)
        self._window_scale = 2.0 / self._window.sum()  # a full-scale sine reads 1.0
        freqs = np.fft.rfftfreq(WINDOW, 1.0 / rate)
        self._freqs = freqs
        self._bands = {name: (freqs >= lo) & (freqs < hi) for name, (lo, hi) in BANDS_HZ.items()}
        self._audible = freqs >= 20.0
        self._tracker = BeatTracker(hop_rate=rate / HOP, lead_hops=math.ceil(ONSET_LAG / HOP) + 1)
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next sample is position 0."""
        self._history = np.zeros(WINDOW, dtype=np.float32)  # the last WINDOW samples before `_position`
        self._position = 0  # samples consumed so far
        self._next_hop = HOP
        self._frame = 0
        self._previous_log = np.zeros(len(self._freqs))
        self._previous_mag = np.zeros(len(self._freqs))
        self._hop_onsets: list[float] = []
        self._hop_fluxes: list[float] = []
        self._last_onset = self._last_flux = 0.0
        self._gains = {name: AdaptiveGain() for name in ("bass", "mid", "treble", "flux", "rms", "onset")}
        self._smooth = {name: Follower() for name in ("bass", "mid", "treble", "flux", "rms", "onset")}
        self._smooth.update(centroid=Follower(0.05, 0.15), rolloff=Follower(0.05, 0.15))  # jitter, not hits
        self._onset_level = AdaptiveGain(release_s=8.0, floor=1e-5)
        self._tracker.reset()
        self.beats: list[Beat] = []
        self._beat_times: list[float] = []  # committed beats in seconds, oldest first

    def process(self, block: np.ndarray) -> list[FrameFeatures]:
        """Consume mono samples; return the frames whose intervals ended inside this block (maybe none).

        NaN and infinities (a broken driver) read as silence and full scale, and samples are clipped to
        full scale, so no input can push a non-finite number into the features.
        """
        block = np.nan_to_num(np.asarray(block, dtype=np.float32).reshape(-1), nan=0.0, posinf=1.0, neginf=-1.0)
        np.clip(block, -1.0, 1.0, out=block)
        stream = np.concatenate([self._history, block])  # stream[i] is sample _position - WINDOW + i
        base = self._position - WINDOW
        end = self._position + len(block)
        frames: list[FrameFeatures] = []
        while True:
            frame_end = self.timebase.frame_end(self._frame)
            if self._next_hop <= min(end, frame_end):
                self._hop(stream[self._next_hop - WINDOW - base : self._next_hop - base])
                self._next_hop += HOP
            elif frame_end <= end:
                frames.append(self._emit(stream[frame_end - WINDOW - base : frame_end - base]))
            else:
                break
        self._history = stream[-WINDOW:].copy()
        self._position = end
        return frames

    def _spectrum(self, samples: np.ndarray) -> np.ndarray:
        """Magnitudes of one window, its mean removed first: a DC offset would leak into the bass band."""
        return np.abs(np.fft.rfft((samples - samples.mean()) * self._window)) * self._window_scale

    def _hop(self, samples: np.ndarray) -> None:
        """One onset-function step: log-magnitude spectral flux (for beats) and linear flux (for the look)."""
        magnitude = self._spectrum(samples)
        # Level-free: divide by the level so far (before this hop raises it), so a quiet mic tracks alike
        # and the first hit after a quiet start stands out as much as any other.
        log_mag = np.log1p(100.0 * magnitude / self._onset_level.envelope)
        self._onset_level(float(np.std(samples)), HOP / self.timebase.sample_rate)  # DC-free, like the spectrum
        rise = np.maximum(log_mag - self._previous_log, 0.0)
        onset = float(rise[self._audible].mean() + rise[self._bands["bass"]].mean())  # kick weighs as all else
        flux = float(np.sqrt(np.square(np.maximum(magnitude - self._previous_mag, 0.0)).sum()))
        self._previous_log, self._previous_mag = log_mag, magnitude
        self._hop_onsets.append(onset)
        self._hop_fluxes.append(flux)
        beat_hop = self._tracker.push(onset)
        if beat_hop is not None:
            rate = self.timebase.sample_rate
            t = ((beat_hop + 1) * HOP - ONSET_LAG) / rate
            self.beats.append(Beat(t=t, known_at=self._next_hop / rate))
            self._beat_times.append(t)

    def _emit(self, samples: np.ndarray) -> FrameFeatures:
        """The features of the frame that ends where ``samples`` ends."""
        tb = self.timebase
        dt = float(1 / tb.fps)
        now = tb.seconds(tb.frame_end(self._frame))
        power = np.square(self._spectrum(samples))
        levels = {name: math.sqrt(float(power[mask].sum())) for name, mask in self._bands.items()}
        levels["rms"] = math.sqrt(float(np.var(samples)) * 2.0)  # a full-scale sine reads 1.0; DC does not count
        if self._hop_onsets:  # hops since the last frame; at very high fps there may be none
            self._last_onset, self._last_flux = max(self._hop_onsets), float(np.mean(self._hop_fluxes))
            self._hop_onsets.clear()
            self._hop_fluxes.clear()
        levels["onset"], levels["flux"] = self._last_onset, self._last_flux
        norm = {name: self._smooth[name](self._gains[name](level, dt), dt) for name, level in levels.items()}
        audible = power[self._audible]
        total = float(audible.sum())
        freqs = self._freqs[self._audible]
        if total > 1e-12:
            centroid = _log_position(float((freqs * audible).sum() / total))
            rolloff_index = int(np.searchsorted(np.cumsum(audible), ROLLOFF_FRACTION * total))
            rolloff = _log_position(float(freqs[min(rolloff_index, len(freqs) - 1)]))
        else:
            centroid = rolloff = 0.0
        centroid, rolloff = self._smooth["centroid"](centroid, dt), self._smooth["rolloff"](rolloff, dt)
        beat, phase = self.beat_at(now)
        features = FrameFeatures(
            index=self._frame, bass=norm["bass"], mid=norm["mid"], treble=norm["treble"],
            centroid=centroid, rolloff=rolloff, flux=norm["flux"], time=tb.frame_time(self._frame),
            beat=beat, rms=norm["rms"], tempo_bpm=self._tracker.tempo_bpm, beat_phase=phase,
            onset=norm["onset"],
        )
        self._frame += 1
        return features

    def beat_at(self, t: float) -> tuple[float, float]:
        """Beat pulse (1 on a beat, decaying) and phase (0..1) at ``t`` seconds.

        From the committed beats, which run ahead of the audio, and past the newest one on the tempo's
        grid for up to two beats: so live can ask about the moment a frame will be *seen*, not heard.
        """
        period = 60.0 / self._tracker.tempo_bpm if self._tracker.tempo_bpm else 0.0
        passed = [b for b in self._beat_times[-3:] if b <= t]
        if not period or not passed:
            return 0.0, 0.0
        since = t - passed[-1]
        if passed[-1] == self._beat_times[-1] and since < 3 * period:
            since %= period  # beyond the committed beats: continue the grid
        return beat_pulse(since, period), (since / period) % 1.0


def beat_pulse(since_s: float, period_s: float) -> float:
    """The beat's flash: 1 on the beat, decaying within a quarter beat (at most 150 ms)."""
    return math.exp(-since_s / min(0.15, period_s / 4))


def _log_position(freq_hz: float) -> float:
    lo, hi = LOG_FREQ_RANGE_HZ
    return float(np.clip(math.log(max(freq_hz, lo) / lo) / math.log(hi / lo), 0.0, 1.0))


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
