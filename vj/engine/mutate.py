"""Mutation for interactive evolution (as in Picbreeder): children of a net that look related to it.

A child adds Gaussian noise to every weight, scaled to each layer's own spread, and now and then swaps
one layer's activation. With gain-5 hidden layers a change grows about threefold a layer, so the
default strength is small: children keep the parent's palette of shapes and vary them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from vj.engine.net import ACTIVATIONS, Layers, NetSpec

DEFAULT_STRENGTH = 0.12
SWAP_CHANCE = 0.2
"""How often a child also gets one layer's activation swapped for another (a bigger jump in look)."""


def mutate(spec: NetSpec, layers: Layers, rng: np.random.Generator,
           strength: float = DEFAULT_STRENGTH) -> tuple[NetSpec, Layers]:
    """A child of (spec, layers): new arrays, the parent untouched."""
    child = []
    for weights, bias in layers:
        spread = float(weights.std()) or 1.0
        child.append(((weights + rng.normal(0.0, strength * spread, weights.shape)).astype(np.float32),
                      (bias + rng.normal(0.0, strength * spread, bias.shape)).astype(np.float32)))
    activations = [spec.activation(layer) for layer in range(spec.depth)]
    if rng.random() < SWAP_CHANCE:
        layer = int(rng.integers(spec.depth))
        activations[layer] = str(rng.choice([a for a in ACTIVATIONS if a != activations[layer]]))
    return replace(spec, activations=tuple(activations)), child
