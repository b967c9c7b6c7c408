"""The CPPN's shape and its seeded initial weights, as plain numpy (no torch, no device)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from vj.audio.features import FEATURE_NAMES
from vj.errors import VJError

COORD_NAMES = ("x", "y", "r")
ACTIVATIONS = ("sin", "cos", "gaussian", "tanh")
DEFAULT_ACTIVATIONS = ("gaussian", "sin", "tanh", "cos", "tanh", "tanh")
Layers = list[tuple[np.ndarray, np.ndarray]]
"""(weight, bias) per layer, first to output; weights are (out, in) float32."""
INIT_GAIN = 5.0
"""Xavier-uniform gain: lower gains collapse the picture to flat grey."""


@dataclass(frozen=True)
class NetSpec:
    """Hidden width, hidden layer count and one activation per hidden layer (cycled if fewer)."""

    width: int = 128
    depth: int = 6
    activations: tuple[str, ...] = DEFAULT_ACTIVATIONS
    n_coords: int = len(COORD_NAMES)
    n_frame_inputs: int = len(FEATURE_NAMES)
    n_outputs: int = 3

    def __post_init__(self) -> None:
        unknown = [a for a in self.activations if a not in ACTIVATIONS]
        if unknown or not self.activations:
            raise VJError(f"unknown activation {unknown}; choose from {', '.join(ACTIVATIONS)}")

    def activation(self, layer: int) -> str:
        return self.activations[layer % len(self.activations)]

    @property
    def n_inputs(self) -> int:
        return self.n_coords + self.n_frame_inputs

    def layer_shapes(self) -> list[tuple[int, int]]:
        """(out, in) of each weight matrix, first to output."""
        sizes = [self.n_inputs] + [self.width] * self.depth + [self.n_outputs]
        return list(zip(sizes[1:], sizes[:-1]))

    def parameter_count(self) -> int:
        return sum(rows * cols + rows for rows, cols in self.layer_shapes())

    def __str__(self) -> str:
        return f"{self.width}x{self.depth}"


def parse_net(text: str) -> NetSpec:
    """'WIDTHxLAYERS', e.g. '128x6' or '32x4'."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match:
        raise VJError(f"--net {text!r} is not WIDTHxLAYERS; use e.g. 128x6 or 32x4")
    width, depth = int(match[1]), int(match[2])
    if not (1 <= width <= 4096 and 1 <= depth <= 64):
        raise VJError(f"--net {text}: width must be 1..4096 and layers 1..64")
    return NetSpec(width=width, depth=depth)


def init_weights(spec: NetSpec, seed: int) -> Layers:
    """Xavier-uniform weights (gain 5) and zero biases, the same on every machine for a seed."""
    rng = np.random.default_rng(seed)
    layers = []
    for rows, cols in spec.layer_shapes():
        bound = INIT_GAIN * np.sqrt(6.0 / (rows + cols))
        layers.append((rng.uniform(-bound, bound, (rows, cols)).astype(np.float32), np.zeros(rows, np.float32)))
    return layers
