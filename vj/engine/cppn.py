"""The CPPN renderer: an MLP over pixel coordinates, driven per frame by audio features and time.

Why it is fast where the prototype was not:
- the per-frame inputs (features) are the same for every pixel, so their product with the first layer
  is folded into a per-frame bias instead of being concatenated to every pixel;
- the coordinate grid is built once per resolution and cached; zoom, rotation and the preset's coordinate
  scale fold into the first layer's three coordinate columns each frame (a 3-wide product per pixel, next
  to the hidden layers' width-wide ones), so moving the camera costs nothing measurable;
- pixels run in cache-sized chunks under inference mode.
The result is bit-for-bit a function of (weights, seed, frame inputs, t): nothing carries over between frames.

A net at one moment is a `NetState`; two states of the same shape blend weight by weight (and activation
by activation), which is how one preset morphs into another in weight space.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from vj.engine.evolution import Evolution
from vj.engine.net import Layers, NetSpec, init_weights

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


def activate_mix(unit: tuple[str, str, float], x: torch.Tensor) -> torch.Tensor:
    """``unit`` is (from, to, amount): the first unit, the second, or a blend of both outputs on the way."""
    start, end, amount = unit
    if start == end or amount <= 0.0:
        return activate(start, x)
    if amount >= 1.0:
        return activate(end, x)
    first = activate(start, x.clone())
    return activate(end, x).mul_(amount).add_(first, alpha=1.0 - amount)


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


@dataclass(frozen=True)
class NetState:
    """A net's weights at one moment, on its device, with the preset's scales folded in.

    ``units`` has one (from, to, amount) per activation layer: a plain net has (name, name, 0).
    """

    coord_w: torch.Tensor
    frame_w: torch.Tensor
    first_b: torch.Tensor
    hidden: tuple[tuple[torch.Tensor, torch.Tensor], ...]
    out_w: torch.Tensor
    out_b: torch.Tensor
    units: tuple[tuple[str, str, float], ...]

    def _tensors(self) -> list[torch.Tensor]:
        return [self.coord_w, self.frame_w, self.first_b, *(t for pair in self.hidden for t in pair),
                self.out_w, self.out_b]

    def blends_with(self, other: NetState) -> bool:
        """Whether the two nets have the same shape (so weight-space blending means something)."""
        ours, theirs = self._tensors(), other._tensors()
        return len(ours) == len(theirs) and all(a.shape == b.shape for a, b in zip(ours, theirs))

    def blend(self, other: NetState, amount: float) -> NetState:
        """The net ``amount`` of the way from this one to ``other`` (0..1), weight by weight; where their
        activations differ, the layer blends the two units' outputs. Both must `blends_with` each other."""
        lerp = lambda a, b: torch.lerp(a, b, amount)  # noqa: E731
        return NetState(
            lerp(self.coord_w, other.coord_w), lerp(self.frame_w, other.frame_w), lerp(self.first_b, other.first_b),
            tuple((lerp(w, ow), lerp(b, ob)) for (w, b), (ow, ob) in zip(self.hidden, other.hidden)),
            lerp(self.out_w, other.out_w), lerp(self.out_b, other.out_b),
            tuple((mine[0], theirs[0], amount) for mine, theirs in zip(self.units, other.units)),
        )


class Canvas:
    """Renders net states on one device; the coordinate grid is built once per resolution."""

    def __init__(self, device: torch.device = torch.device("cpu"), dtype: torch.dtype = torch.float32,
                 chunk_pixels: int = 4096):
        self.device, self.dtype = device, dtype
        self.chunk_pixels = chunk_pixels if device.type == "cpu" else 1 << 22
        self._grids: dict[tuple[int, int], torch.Tensor] = {}

    def render(self, state: NetState, inputs: np.ndarray, width: int, height: int, zoom: float = 1.0,
               angle: float = 0.0) -> np.ndarray:
        """One frame as (height, width, 3) floats in 0..1 (float32 on CPU, float16 on CUDA).

        ``zoom`` scales the coordinate plane (above 1 magnifies) and ``angle`` turns it (radians): the
        first layer is linear in the coordinates, so both are a change of its three coordinate columns.
        """
        with torch.inference_mode():
            features = torch.as_tensor(inputs, dtype=self.dtype, device=self.device)
            bias = state.first_b + state.frame_w @ features
            coord_w = (self._camera(zoom, angle) @ state.coord_w.T).contiguous()
            grid = self.grid(width, height)
            out = torch.empty((grid.shape[0], state.out_w.shape[0]), dtype=self.dtype, device=self.device)
            units = state.units
            for start in range(0, grid.shape[0], self.chunk_pixels):
                h = activate_mix(units[0], torch.addmm(bias, grid[start : start + self.chunk_pixels], coord_w))
                for unit, (w, b) in zip(units[1:], state.hidden):
                    h = activate_mix(unit, torch.addmm(b, h, w.T))
                torch.sigmoid(torch.addmm(state.out_b, h, state.out_w.T), out=out[start : start + self.chunk_pixels])
            return out.reshape(height, width, -1).cpu().numpy()

    def _camera(self, zoom: float, angle: float) -> torch.Tensor:
        """(3, 3): the pixel (x, y) reads the net at R(angle)(x, y) / zoom; r is the same at any angle."""
        c, s = math.cos(angle) / zoom, math.sin(angle) / zoom
        turn = [[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0 / zoom]]
        return torch.tensor(turn, dtype=self.dtype, device=self.device)

    def grid(self, width: int, height: int) -> torch.Tensor:
        """The (pixels, 3) coordinates for this resolution, built once."""
        key = (width, height)
        if key not in self._grids:
            grid = coordinate_grid(width, height)
            self._grids = {key: torch.as_tensor(grid, dtype=self.dtype, device=self.device)}  # one size only
        return self._grids[key]


class CPPN:
    """A net on one torch device: its weights, its seeded walk, and the preset's scales.

    Args:
        spec: the net's shape.
        seed: picks the weights (unless ``layers`` are given) and the evolution walk.
        device, dtype: where and in which precision to run (see `vj.engine.device.select_device`).
        evolution: rate of the weight walk; 0 keeps the weights still.
        coord_scale: zoom of the coordinate plane (larger shows more, finer structure).
        output_gain: scales the output layer before its sigmoid; the gain-5 init saturates it to flat
            0/1 colour fields at 1.0, about 0.3 keeps smooth gradients for the palette to map.
        input_gains: one gain per frame input (feature), so a preset can listen to some and not others.
        layers: pinned weights (a preset's weight file, an evolved net) instead of the seed's.
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
        input_gains: np.ndarray | None = None,
        layers: Layers | None = None,
        chunk_pixels: int = 4096,
    ):
        self.spec, self.seed, self.device, self.dtype = spec, seed, device, dtype
        self.output_gain = output_gain
        self.input_gains = np.ones(spec.n_frame_inputs, np.float32) if input_gains is None else input_gains
        self.canvas = Canvas(device, dtype, chunk_pixels)
        self.layers = init_weights(spec, seed) if layers is None else layers
        (first_w, first_b), *hidden, (out_w, out_b) = self.layers
        self._coord_w = first_w[:, : spec.n_coords] * np.float32(coord_scale)
        self._frame_w = first_w[:, spec.n_coords :] * self.input_gains.astype(np.float32)
        self._hidden = hidden
        self._walked = [first_b, out_w * np.float32(output_gain)]  # see vj.engine.evolution for why only these
        self._out_b = out_b * np.float32(output_gain)
        scales = [LATENT_SCALE, OUTPUT_WALK * float(self._walked[1].std())]
        self.evolution = Evolution(list(zip(self._walked, scales)), seed, evolution) if evolution else None
        self._units = tuple((spec.activation(layer),) * 2 + (0.0,) for layer in range(spec.depth))
        self._static = self._to_device(self._walked)
        coord_w, frame_w, out_b = self._to_device([self._coord_w, self._frame_w, self._out_b])
        hidden_t = tuple(tuple(self._to_device([w, b])) for w, b in hidden)
        self._fixed = (coord_w, frame_w, hidden_t, out_b)

    def _walked_at(self, t: float) -> list[np.ndarray]:
        if not self.evolution:
            return self._walked
        return [a + o for a, o in zip(self._walked, self.evolution.offsets(t))]

    def numpy_layers(self, t: float = 0.0) -> Layers:
        """The (weight, bias) list the net runs at time t, scales applied and first layer unsplit: what a
        plain MLP over (x*coord_scale, y*coord_scale, r*coord_scale, features) computes. For reference paths."""
        first_b, out_w = self._walked_at(t)
        first = np.concatenate([self._coord_w, self._frame_w], axis=1)
        return [(first, first_b), *self._hidden, (out_w, self._out_b)]

    def pinned_layers(self, t: float) -> Layers:
        """The net's own weights where its walk has reached at time t (scales not applied): what a saved
        preset pins, so it opens on the picture that was on screen."""
        first_b, out_w = self._walked_at(t)
        (first_w, _), *hidden, (_, out_b) = self.layers
        return [(first_w, first_b), *hidden, (out_w / np.float32(self.output_gain), out_b)]

    def state(self, t: float) -> NetState:
        """The net at walk time t, ready for `Canvas.render` or `NetState.blend`."""
        coord_w, frame_w, hidden, out_b = self._fixed
        first_b, out_w = self._static
        if self.evolution:
            first_b, out_w = (w + o for w, o in zip(self._static, self._to_device(self.evolution.offsets(t))))
        return NetState(coord_w, frame_w, first_b, hidden, out_w, out_b, self._units)

    def render(self, features: np.ndarray, t: float, width: int, height: int, zoom: float = 1.0,
               angle: float = 0.0) -> np.ndarray:
        """One frame of this net alone (see `Canvas.render`)."""
        return self.canvas.render(self.state(t), features, width, height, zoom, angle)

    def _to_device(self, arrays: list[np.ndarray]) -> list[torch.Tensor]:
        return [torch.as_tensor(a, dtype=self.dtype, device=self.device) for a in arrays]
