"""The beat activation: how strongly each hop sounds like a beat, as log-odds, from its band onsets.

An onset detector alone cannot tell the kick on the beat from the bass and open hat between them (house
puts its loudest rises on the off-beat) or the hats from the snare; a hand-weighted sum tracked the
off-beat on a third of the evaluation set. So, as madmom puts a trained network in front of its beat
model, a small learned model does it here: one tanh layer over the band rises of the last ``context``
hops. Seeing ``delay`` hops past a beat (its decay: a kick rings low, a bass note holds) is what lets it
tell them apart; the tracker accounts for that delay.

It is trained by ``bench/train_beat_activation.py`` on synthesized songs that share no seed, tempo or
chord sequence with the evaluation set, and shipped as plain numbers in JSON (never pickled).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from vj.errors import VJError
from vj.resources import resource_dir

WEIGHTS = "beat_activation.json"
"""In the assets folder."""


class BeatActivation:
    """Streams band rises (k, bands) into beat log-odds (k,); the hop at ``h`` scores a beat at ``h - delay``.

    Args:
        bands: the onset function's band count (the weights must have been trained on it).
        path: the weights file; the shipped one by default.
    """

    def __init__(self, bands: int, path: str | Path | None = None):
        path = Path(path) if path else resource_dir("assets") / WEIGHTS
        try:
            model = json.loads(path.read_text())
            self.context, self.delay = int(model["context"]), int(model["delay"])
            self._hidden = np.array(model["hidden_weights"], dtype=np.float32)  # (units, context * bands)
            self._hidden_bias = np.array(model["hidden_bias"], dtype=np.float32)
            self._output = np.array(model["output_weights"], dtype=np.float32)
            self._output_bias = float(model["output_bias"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise VJError(f"cannot read the beat activation weights {path}: {error}; reinstall vj") from None
        units = len(self._hidden_bias)
        if self._hidden.shape != (units, self.context * bands) or self._output.shape != (units,):
            raise VJError(f"the beat activation weights {path} do not fit {bands} bands; reinstall vj")
        self.bands = bands
        self.reset()

    def reset(self) -> None:
        self._past = np.zeros((self.context - 1, self.bands), dtype=np.float32)

    def __call__(self, rises: np.ndarray) -> np.ndarray:
        """Log-odds of a beat for each of ``k`` hops of band rises, oldest first."""
        stack = np.vstack([self._past, rises])
        hidden = np.tanh(np.einsum("ij,kj->ik", context_inputs(stack, self.context), self._hidden) + self._hidden_bias)
        self._past = stack[len(stack) - (self.context - 1):]
        return np.einsum("ij,j->i", hidden, self._output) + self._output_bias


def context_inputs(stack: np.ndarray, context: int) -> np.ndarray:
    """The model's input rows for the hops of ``stack`` (hops, bands) after its first ``context - 1``: each
    row is that hop's rises, then the hop before's, and so on (newest first). Training uses it too, so the
    order the weights were fitted in is the order they are applied in."""
    n = len(stack) - (context - 1)
    return np.hstack([stack[context - 1 - lag:context - 1 - lag + n] for lag in range(context)])
