"""The CPPN renderer: an MLP over pixel coordinates, driven per frame by audio features and time.

Why it is fast where the prototype was not:
- the per-frame inputs (features) are the same for every pixel, so their product with the first layer
  is folded into a per-frame bias instead of being concatenated to every pixel;
- the coordinate part of the first layer is computed once per resolution and cached;
- pixels run in cache-sized chunks under inference mode.
The result is bit-for-bit a function of (net, seed, frame inputs, t): nothing carries over between frames.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from vj.engine.evolution import Evolution
from vj.engine.net import NetSpec, init_weights

TIME_PERIOD_S = 60.0
"""The 'time' feature enters the net as a slow sine of this period, so it stays bounded over a long set."""


def activate(name: str, x: torch.Tensor) -> torch.Tensor:
    """Apply a CPPN unit in place: sin, cos, gaussian (exp(-x^2)) or tanh."""
    if name == "sin":
        return x.sin_()
    if name == "cos":
        return x.cos_()
    if name == "gaussian":
        return x.square_().neg_().exp_()
    return x.tanh_()


def coordinate_grid(width: int, height: int, scale: float = 1.0) -> np.ndarray:
    """(height*width, 3) float32 of x, y, r at pixel centres; y spans [-scale, scale], x keeps the aspect."""
    aspect = width / height
    xs = (np.arange(width, dtype=np.float64) + 0.5) / width * 2.0 - 1.0
    ys = (np.arange(height, dtype=np.float64) + 0.5) / height * 2.0 - 1.0
    y, x = np.meshgrid(ys * scale, xs * scale * aspect, indexing="ij")
    return np.stack([x, y, np.hypot(x, y)], axis=-1).reshape(-1, 3).astype(np.float32)


def frame_inputs(features: np.ndarray, time_index: int) -> np.ndarray:
    """The nine features as the net takes them: unchanged, except time as a bounded slow sine."""
    inputs = np.array(features, dtype=np.float32, copy=True)
    inputs[time_index] = math.sin(2 * math.pi * inputs[time_index] / TIME_PERIOD_S)
    return inputs


class CPPN:
    """A seeded CPPN on one torch device.

    Args:
        spec: the net's shape.
        seed: picks the weights and the evolution walk.
        device, dtype: where and in which precision to run (see `vj.engine.device.select_device`).
        evolution: rate of the weight walk; 0 keeps the weights still.
        coord_scale: zoom of the coordinate plane (larger shows more, finer structure).
        output_gain: scales the output layer before its sigmoid; the gain-5 init saturates it to flat
            0/1 colour fields at 1.0, about 0.3 keeps smooth gradients for the palette to map.
        chunk_pixels: pixels per chunk on the CPU, sized so a chunk's activations stay in cache.
    """

    def __init__(
        self,
        spec: NetSpec,
        seed: int,
        device: torch.device = torch.device("cpu"),
        dtype: torch.dtype = torch.float32,
        evolution: float = 0.0,
        coord_scale: float = 1.0,
        output_gain: float = 0.3,
        chunk_pixels: int = 4096,
    ):
        self.spec, self.seed, self.device, self.dtype = spec, seed, device, dtype
        self.coord_scale, self.output_gain = coord_scale, output_gain
        self.chunk_pixels = chunk_pixels if device.type == "cpu" else 1 << 22
        layers = init_weights(spec, seed)
        (first_w, self._first_b), *hidden, (out_w, out_b) = layers
        self._coord_w = first_w[:, : spec.n_coords]
        self._frame_w = first_w[:, spec.n_coords :]
        self._walked = [self._frame_w] + [w for w, _ in hidden] + [out_w * output_gain]
        self._biases = [self._first_b] + [b for _, b in hidden] + [out_b * output_gain]
        self.evolution = Evolution(self._walked, seed, evolution) if evolution else None
        self._static = self._to_device(self._walked)
        self._first_bias, *self._hidden_biases, self._out_bias = self._to_device(self._biases)
        self._grids: dict[tuple[int, int], torch.Tensor] = {}

    def numpy_layers(self, t: float = 0.0) -> list[tuple[np.ndarray, np.ndarray]]:
        """The full (weight, bias) list at time t, first layer unsplit: for reference paths and export."""
        walked = self._walked
        if self.evolution:
            walked = [w + o for w, o in zip(walked, self.evolution.offsets(t))]
        first = np.concatenate([self._coord_w, walked[0]], axis=1)
        return list(zip([first] + walked[1:], self._biases))

    def render(self, features: np.ndarray, t: float, width: int, height: int) -> np.ndarray:
        """One frame as (height, width, 3) floats in 0..1 (float32 on CPU, float16 on CUDA)."""
        with torch.inference_mode():
            frame_w, *hidden_w, out_w = self._weights_at(t)
            inputs = torch.as_tensor(features, dtype=self.dtype, device=self.device)
            bias = self._first_bias + frame_w @ inputs
            projected = self._projected_grid(width, height)
            out = torch.empty((projected.shape[0], self.spec.n_outputs), dtype=self.dtype, device=self.device)
            for start in range(0, projected.shape[0], self.chunk_pixels):
                h = activate(self.spec.activation(0), projected[start : start + self.chunk_pixels] + bias)
                for layer, (w, b) in enumerate(zip(hidden_w, self._hidden_biases), start=1):
                    h = activate(self.spec.activation(layer), torch.addmm(b, h, w.T))
                torch.sigmoid(torch.addmm(self._out_bias, h, out_w.T), out=out[start : start + self.chunk_pixels])
            return out.reshape(height, width, self.spec.n_outputs).cpu().numpy()

    def _to_device(self, arrays: list[np.ndarray]) -> list[torch.Tensor]:
        return [torch.as_tensor(a, dtype=self.dtype, device=self.device) for a in arrays]

    def _weights_at(self, t: float) -> list[torch.Tensor]:
        if not self.evolution:
            return self._static
        return [w + o for w, o in zip(self._static, self._to_device(self.evolution.offsets(t)))]

    def _projected_grid(self, width: int, height: int) -> torch.Tensor:
        """The coordinate part of the first layer for this resolution, computed once."""
        key = (width, height)
        if key not in self._grids:
            grid = torch.as_tensor(coordinate_grid(width, height, self.coord_scale), device=self.device)
            weights = torch.as_tensor(self._coord_w, device=self.device)
            self._grids = {key: (grid @ weights.T).to(self.dtype).contiguous()}  # keep one size only
        return self._grids[key]
