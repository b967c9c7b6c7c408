"""The onset function the beat tracker listens to: log-magnitude spectral flux, one value per hop.

Each bin is log-compressed against the running level, so a quiet room microphone and a hot line input
give the same curve, and only rises count. The mean rise over the audible bins is added to the mean
rise over the bass bins, so a kick (a few bass bins) weighs as much as all the treble bins of a hi-hat.
Everything runs over a stack of hops at once, with no BLAS call whose rounding would depend on how
many hops come together (the result must not depend on the block size).
"""

from __future__ import annotations

import numpy as np

from vj.audio.gain import AdaptiveGain

COMPRESSION = 100.0
"""log1p(COMPRESSION * magnitude / level): about 40 dB of range above the running level's noise."""
BASS_HZ = (20.0, 250.0)


class OnsetFunction:
    """Streams hop spectra into onset strengths (for beats) and linear spectral flux (for the look).

    Args:
        freqs: the spectrum's bin frequencies.
        hop_s: seconds between hops (the level follower's clock).
    """

    def __init__(self, freqs: np.ndarray, hop_s: float):
        audible, bass = freqs >= 20.0, (freqs >= BASS_HZ[0]) & (freqs < BASS_HZ[1])
        self._weights = (audible / audible.sum() + bass / bass.sum()).astype(np.float32)
        self._bins = len(freqs)
        self._hop_s = hop_s
        self.reset()

    def reset(self) -> None:
        self._previous_log = np.zeros(self._bins, dtype=np.float32)
        self._previous_mag = np.zeros(self._bins, dtype=np.float32)
        self._level = AdaptiveGain(release_s=8.0, floor=1e-5)

    def __call__(self, magnitudes: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Onsets and fluxes of ``k`` consecutive hops.

        Args:
            magnitudes: (k, bins) spectra, oldest first.
            levels: (k,) each hop window's standard deviation (its DC-free level).
        """
        # Each hop is divided by the level *before* it (so the first hit after a quiet start stands out).
        before = np.empty(len(levels))
        for i, level in enumerate(levels):
            before[i] = self._level.envelope
            self._level(float(level), self._hop_s)
        log_mag = np.log1p((COMPRESSION / before)[:, None] * magnitudes)
        rise = np.maximum(log_mag - np.vstack([self._previous_log[None], log_mag[:-1]]), 0.0)
        onsets = np.einsum("ij,j->i", rise, self._weights)
        gain = np.maximum(magnitudes - np.vstack([self._previous_mag[None], magnitudes[:-1]]), 0.0)
        fluxes = np.sqrt(np.einsum("ij,ij->i", gain, gain))
        self._previous_log, self._previous_mag = log_mag[-1], magnitudes[-1]
        return onsets, fluxes
