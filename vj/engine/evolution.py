"""Evolution: a smooth, seeded walk of the weights, computed from time alone.

The walk is a function of t (not stepped from the previous frame), so any frame can be rendered on its
own: a replay, a chunk on another machine or a seek all get the same weights for the same time.
"""

from __future__ import annotations

import numpy as np

DIRECTIONS = 3
WAVES = 3
FREQ_RANGE_HZ = (0.02, 0.09)
AMPLITUDE = 0.6
"""Walk size relative to each weight's initial spread."""


class Evolution:
    """Offsets for a list of weight arrays at time t: sum over a few fixed random directions, each
    scaled by a quasi-periodic noise of t that is 0 at t=0, so rate 0 keeps the initial weights."""

    def __init__(self, weights: list[np.ndarray], seed: int, rate: float):
        self.rate = rate
        rng = np.random.default_rng([seed, 0xE70])
        self.directions = [
            rng.standard_normal((DIRECTIONS, *w.shape)).astype(np.float32) * AMPLITUDE * (w.std() + 1e-3)
            for w in weights
        ]
        self.freqs = rng.uniform(*FREQ_RANGE_HZ, (DIRECTIONS, WAVES))
        self.phases = rng.uniform(0.0, 2 * np.pi, (DIRECTIONS, WAVES))

    def noise(self, t: float) -> np.ndarray:
        """(DIRECTIONS,) smooth values of about unit spread; all zero at t=0."""
        tau = self.rate * t
        waves = np.sin(2 * np.pi * self.freqs * tau + self.phases) - np.sin(self.phases)
        return (waves.sum(axis=1) / np.sqrt(WAVES)).astype(np.float32)

    def offsets(self, t: float) -> list[np.ndarray]:
        weights = self.noise(t)
        return [np.tensordot(weights, d, axes=1) for d in self.directions]
