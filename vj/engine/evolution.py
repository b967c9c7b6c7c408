"""Evolution: a smooth, seeded walk of the net, computed from time alone.

The walk is a function of t (not stepped from the previous frame), so any frame can be rendered on its
own: a replay, a chunk on another machine or a seek all get the same net for the same time.

What walks: the first layer's bias (a latent vector seen through a fixed random projection) and the
output layer. Not the hidden layers: with gain-5 weights each hidden layer amplifies a perturbation about
threefold, so walking them flickers however slowly it goes, while the first-layer bias moves the picture
as smoothly as moving through the coordinate plane does.
"""

from __future__ import annotations

import numpy as np

DIRECTIONS = 3
WAVES = 3
FREQ_RANGE_HZ = (0.02, 0.09)


class Evolution:
    """Offsets for a list of arrays at time t: a sum over a few fixed random directions, each scaled by a
    quasi-periodic noise of t that is 0 at t=0, so rate 0 (or t=0) leaves the net as initialised.

    Args:
        arrays: (array, scale) pairs: the arrays that walk and how far (standard deviation of the offset).
        seed: picks the directions and the noise.
        rate: speed of the walk; 1.0 morphs noticeably every few seconds.
    """

    def __init__(self, arrays: list[tuple[np.ndarray, float]], seed: int, rate: float):
        self.rate = rate
        rng = np.random.default_rng([seed, 0xE70])
        self.directions = [rng.standard_normal((DIRECTIONS, *a.shape)).astype(np.float32) * s for a, s in arrays]
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
