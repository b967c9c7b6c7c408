"""Band onsets, one row per hop: what the beat activation and the look's onset feature listen to.

Magnitudes are pooled into log-spaced bands (a third of an octave each), so a kick's few bass bins count
as much as a hi-hat's hundreds of treble bins; each band is log-compressed against the running level, so
a quiet room microphone and a hot line input give the same curve; only rises count, measured against the
previous hop's bands widened by one band each side (SuperFlux's trick: vibrato and slides do not read as
onsets). Everything runs over a stack of hops at once, with no BLAS call whose rounding would depend on
how many hops come together (the result must not depend on the block size).
"""

from __future__ import annotations

import math

import numpy as np

from vj.audio.gain import AdaptiveGain

BANDS_PER_OCTAVE = 3
BAND_RANGE_HZ = (30.0, 16000.0)
COMPRESSION = 100.0
"""log1p(COMPRESSION * magnitude / level): about 40 dB of range above the running level's noise."""


def log_filterbank(freqs: np.ndarray, per_octave: int = BANDS_PER_OCTAVE,
                   range_hz: tuple[float, float] = BAND_RANGE_HZ) -> np.ndarray:
    """(bins, bands) triangular filters, log-spaced, each averaging its bins (at least one bin each)."""
    lo, hi = range_hz
    count = int(round(per_octave * math.log2(hi / lo)))
    edges = lo * 2.0 ** (np.arange(count + 2) / per_octave)
    bins = np.unique(np.searchsorted(freqs, edges))  # low bands narrower than a bin merge into one
    bins = bins[bins < len(freqs)]
    bank = np.zeros((len(freqs), len(bins) - 2), dtype=np.float32)
    for j in range(len(bins) - 2):
        left, centre, right = bins[j], bins[j + 1], bins[j + 2]
        bank[left:centre + 1, j] = np.linspace(0.0, 1.0, centre - left + 1)
        bank[centre:right + 1, j] = np.linspace(1.0, 0.0, right - centre + 1)
        if right - left < 2:  # too narrow for a triangle: the centre bin alone
            bank[centre, j] = 1.0
        bank[:, j] /= bank[:, j].sum()
    return bank


class OnsetFunction:
    """Streams hop spectra into band rises (for the beat), onset strength and linear flux (for the look).

    Args:
        freqs: the spectrum's bin frequencies.
        hop_s: seconds between hops (the level follower's clock).
    """

    def __init__(self, freqs: np.ndarray, hop_s: float):
        self._bank = log_filterbank(freqs)
        self.bands = self._bank.shape[1]
        self._hop_s = hop_s
        self.reset()

    def reset(self) -> None:
        self._previous_bands = np.zeros(self.bands, dtype=np.float32)
        self._previous_mag = np.zeros(self._bank.shape[0], dtype=np.float32)
        self._level = AdaptiveGain(release_s=8.0, floor=1e-5)

    def __call__(self, magnitudes: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Band rises (k, bands), onset strengths (k,) (their mean) and fluxes (k,) of ``k`` consecutive hops.

        Args:
            magnitudes: (k, bins) spectra, oldest first.
            levels: (k,) each hop window's standard deviation (its DC-free level).
        """
        # Each hop is divided by the level *before* it (so the first hit after a quiet start stands out).
        before = np.empty(len(levels))
        for i, level in enumerate(levels):
            before[i] = self._level.envelope
            self._level(float(level), self._hop_s)
        bands = np.log1p((COMPRESSION / before)[:, None] * np.einsum("ij,jk->ik", magnitudes, self._bank))
        previous = np.vstack([self._previous_bands[None], bands[:-1]])
        widened = previous.copy()
        np.maximum(widened[:, 1:], previous[:, :-1], out=widened[:, 1:])
        np.maximum(widened[:, :-1], previous[:, 1:], out=widened[:, :-1])
        rises = np.maximum(bands - widened, 0.0).astype(np.float32)
        gain = np.maximum(magnitudes - np.vstack([self._previous_mag[None], magnitudes[:-1]]), 0.0)
        fluxes = np.sqrt(np.einsum("ij,ij->i", gain, gain))
        self._previous_bands, self._previous_mag = bands[-1], magnitudes[-1]
        return rises, rises.mean(axis=1), fluxes
