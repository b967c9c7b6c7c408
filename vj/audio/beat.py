"""A first causal beat tracker: tempo from the onset function's autocorrelation, beats predicted ahead.

Tempo: a comb over the autocorrelation of the last seconds of onset strength (multiples of a lag vote
for it), weighted by a log-normal prior around 120 BPM, refined to a fraction of a hop and adopted with
hysteresis. Phase: half a period before each beat, a comb of pulses one period apart is slid over the
recent onsets (newest weigh most) and the best-scoring position predicts the next beat; a change of phase
(say from off-beat hats to the kick when the drop comes in) is taken once it wins twice in a row.
Committing beats ahead is what lets the picture fire *on* the beat: every beat's ``known_at`` is at or
before its time.

It consumes one onset-detection value per hop and knows nothing of frames, features or torch. A later
tracker can replace it behind the same `push` interface.
"""

from __future__ import annotations

import math

import numpy as np

MIN_BPM, MAX_BPM, PRIOR_BPM = 60.0, 200.0, 120.0


class BeatTracker:
    """Streams onset values at ``hop_rate`` Hz; returns the beats it commits, as fractional hop indices.

    Args:
        hop_rate: onset values per second.
        history_s: how much onset history the tempo estimate looks at.
        lead_hops: a beat is never committed less than this many hops ahead of the current position
            (the caller's onset function lags the sound by about this much).
    """

    def __init__(self, hop_rate: float, history_s: float = 6.0, lead_hops: int = 3):
        self.hop_rate = hop_rate
        self.size = int(history_s * hop_rate)
        self.lead_hops = lead_hops
        self.min_lag = int(60.0 * hop_rate / MAX_BPM)
        self.max_lag = int(math.ceil(60.0 * hop_rate / MIN_BPM))
        self.reset()

    def reset(self) -> None:
        self.hop = -1
        self.onsets = np.zeros(self.size)
        self.period: float | None = None  # hops per beat once locked
        self.last_beat: float | None = None  # hop index of the last committed beat (may lie ahead)
        self._candidate: float | None = None
        self._agree = 0
        self._phase_votes = 0

    @property
    def tempo_bpm(self) -> float:
        return 60.0 * self.hop_rate / self.period if self.period else 0.0

    def push(self, onset: float) -> float | None:
        """Advance one hop with its onset value; returns the hop index of a newly committed beat, if any."""
        self.hop += 1
        self.onsets = np.roll(self.onsets, -1)
        self.onsets[-1] = onset
        if self.hop >= 2 * self.hop_rate and self.hop % 25 == 0:
            self._update_tempo()
        if self._silent():
            self.period, self.last_beat = None, None
            return None
        if self.period is None:
            return None
        due = self.last_beat is None or self.hop >= self.last_beat + self.period / 2
        return self._commit_next_beat() if due else None

    def _phase_search(self) -> float:
        """Hop index of the most recent beat position that best fits the recent onsets."""
        period = self.period
        beats = min(8, int((self.size - 2) / period))
        offsets = np.arange(0.0, period, 0.5)
        positions = offsets[:, None] + period * np.arange(beats)[None, :]  # hops back from now
        index = self.size - 1 - positions
        low = np.floor(index).astype(int)
        frac = index - low
        values = self.onsets[low] * (1 - frac) + self.onsets[np.minimum(low + 1, self.size - 1)] * frac
        score = (values * 0.85 ** np.arange(beats)).sum(axis=1)
        best = int(np.argmax(score))
        return self.hop - offsets[best] + 0.5 * _parabolic_offset(score, best)

    def _commit_next_beat(self) -> float:
        """Predict the next beat from the recent onsets' phase, keeping the current phase unless beaten."""
        period = self.period
        found = self._phase_search()
        earliest = self.hop + self.lead_hops
        candidate = found + period * math.ceil((earliest - found) / period)
        if self.last_beat is None:
            self.last_beat = candidate
            return candidate
        expected = self.last_beat + period
        shift = (candidate - expected + period / 2) % period - period / 2  # -p/2..p/2
        if abs(shift) < 0.15 * period:
            self._phase_votes = 0
            beat = expected + 0.5 * shift  # small corrections: follow halfway
        elif self._phase_votes >= 1:  # a second win in a row: take the new phase
            self._phase_votes = 0
            beat = expected + shift
        else:
            self._phase_votes = 1
            beat = expected
        self.last_beat = max(beat, earliest)
        return self.last_beat

    def _update_tempo(self) -> None:
        onsets = self.onsets - self.onsets.mean()
        spectrum = np.fft.rfft(onsets, 2 * self.size)
        acf = np.fft.irfft(spectrum * np.conj(spectrum))[: self.size]
        if acf[0] <= 0:
            return
        acf /= acf[0]
        lags = np.arange(self.min_lag, self.max_lag + 1)
        comb = sum(acf[np.minimum(k * lags, self.size - 1)] / k for k in (1, 2, 3, 4))
        prior_lag = 60.0 * self.hop_rate / PRIOR_BPM
        prior = np.exp(-0.5 * (np.log2(lags / prior_lag) / 0.8) ** 2)
        score = comb * prior
        best = int(np.argmax(score))
        if score[best] <= 0.05:
            return
        estimate = float(lags[best] + _parabolic_offset(score, best))
        self._adopt(estimate)

    def _adopt(self, estimate: float) -> None:
        """Take a new period estimate, with hysteresis: a different tempo must be seen 4 times in a row."""
        if self.period is None or abs(estimate / self.period - 1.0) < 0.04:
            self.period = estimate if self.period is None else 0.8 * self.period + 0.2 * estimate
            self._agree = 0
            return
        if self._candidate is not None and abs(estimate / self._candidate - 1.0) < 0.04:
            self._agree += 1
        else:
            self._candidate, self._agree = estimate, 1
        if self._agree >= 4:
            self.period, self._agree = self._candidate, 0

    def _silent(self) -> bool:
        """No onset energy in the last four seconds: stop predicting beats into silence."""
        recent = self.onsets[-int(4 * self.hop_rate):]
        return self.hop > 4 * self.hop_rate and float(recent.max()) < 1e-3


def _parabolic_offset(values: np.ndarray, i: int) -> float:
    """Sub-sample position of a peak at ``i`` from a parabola through it and its neighbours."""
    if i <= 0 or i >= len(values) - 1:
        return 0.0
    left, centre, right = values[i - 1], values[i], values[i + 1]
    denominator = left - 2 * centre + right
    return float(0.5 * (left - right) / denominator) if denominator < 0 else 0.0
