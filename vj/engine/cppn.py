"""The CPPN renderer: an MLP over pixel coordinates, driven per frame by audio features and time.

Why it is fast where the prototype was not:
- the per-frame inputs (features) are the same for every pixel, so their product with the first layer
  is folded into a per-frame bias instead of being concatenated to every pixel;
- the coordinate grid is built once per resolution and cached; zoom and rotation fold into the first
  layer's three coordinate columns each frame (a 3-wide product per pixel, next to the hidden layers'
  width-wide ones), so moving the camera costs nothing measurable;
- pixels run in cache-sized chunks under inference mode.
The result is bit-for-bit a function of (net, seed, frame inputs, t): nothing carries over between frames.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from vj.engine.evolution import Evolution
from vj.engine.net import NetSpec, init_weights

LATENT_SCALE = 0.3
"""Spread of the evolution walk of the first-layer bias: about a full change of look per cycle."""
OUTPUT_WALK = 0.5
"""Spread of the output layer's walk relative to its weights: colours shift, shapes stay."""
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
        (first_w, first_b), *hidden, (out_w, out_b) = layers
        self._coord_w = first_w[:, : spec.n_coords]
        self._frame_w = first_w[:, spec.n_coords :]
        self._hidden = hidden
        self._walked = [first_b, out_w * output_gain]  # see vj.engine.evolution for why only these
        self._out_b = out_b * output_gain
        scales = [LATENT_SCALE, OUTPUT_WALK * float(self._walked[1].std())]
        self.evolution = Evolution(list(zip(self._walked, scales)), seed, evolution) if evolution else None
        self._static = self._to_device(self._walked)
        self._frame_w_t, self._out_b_t = self._to_device([self._frame_w, self._out_b])
        self._hidden_t = [tuple(self._to_device([w, b])) for w, b in hidden]
        self._grids: dict[tuple[int, int], torch.Tensor] = {}

    def numpy_layers(self, t: float = 0.0) -> list[tuple[np.ndarray, np.ndarray]]:
        """The full (weight, bias) list at time t, first layer unsplit: for reference paths and export."""
        first_b, out_w = self._walked
        if self.evolution:
            first_b, out_w = (a + o for a, o in zip(self._walked, self.evolution.offsets(t)))
        first = np.concatenate([self._coord_w, self._frame_w], axis=1)
        return [(first, first_b), *self._hidden, (out_w, self._out_b)]

    def render(self, features: np.ndarray, t: float, width: int, height: int, zoom: float = 1.0,
               angle: float = 0.0) -> np.ndarray:
        """One frame as (height, width, 3) floats in 0..1 (float32 on CPU, float16 on CUDA).

        ``zoom`` scales the coordinate plane (above 1 magnifies) and ``angle`` turns it (radians): the
        first layer is linear in the coordinates, so both are a change of its three coordinate columns.
        """
        with torch.inference_mode():
            first_b, out_w = self._weights_at(t)
            inputs = torch.as_tensor(features, dtype=self.dtype, device=self.device)
            bias = first_b + self._frame_w_t @ inputs
            coord_w = torch.as_tensor(self._camera(zoom, angle), dtype=self.dtype, device=self.device)
            grid = self._grid(width, height)
            out = torch.empty((grid.shape[0], self.spec.n_outputs), dtype=self.dtype, device=self.device)
            for start in range(0, grid.shape[0], self.chunk_pixels):
                h = activate(self.spec.activation(0), torch.addmm(bias, grid[start : start + self.chunk_pixels], coord_w))
                for layer, (w, b) in enumerate(self._hidden_t, start=1):
                    h = activate(self.spec.activation(layer), torch.addmm(b, h, w.T))
                torch.sigmoid(torch.addmm(self._out_b_t, h, out_w.T), out=out[start : start + self.chunk_pixels])
            return out.reshape(height, width, self.spec.n_outputs).cpu().numpy()

    def _camera(self, zoom: float, angle: float) -> np.ndarray:
        """(3, hidden) coordinate weights for a plane turned by ``angle`` and magnified by ``zoom``:
        the pixel (x, y) reads the net at R(angle)(x, y) / zoom; r is the same at any angle."""
        c, s = math.cos(angle) / zoom, math.sin(angle) / zoom
        turn = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0 / zoom]], dtype=np.float32)
        return turn @ self._coord_w.T

    def _to_device(self, arrays: list[np.ndarray]) -> list[torch.Tensor]:
        return [torch.as_tensor(a, dtype=self.dtype, device=self.device) for a in arrays]

    def _weights_at(self, t: float) -> list[torch.Tensor]:
        if not self.evolution:
            return self._static
        return [w + o for w, o in zip(self._static, self._to_device(self.evolution.offsets(t)))]

    def _grid(self, width: int, height: int) -> torch.Tensor:
        """The (pixels, 3) coordinates for this resolution, built once."""
        key = (width, height)
        if key not in self._grids:
            grid = coordinate_grid(width, height, self.coord_scale)
            self._grids = {key: torch.as_tensor(grid, dtype=self.dtype, device=self.device)}  # one size only
        return self._grids[key]
