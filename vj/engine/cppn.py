"""The CPPN renderer: an MLP over pixel coordinates, driven per frame by audio features and time.

Why it is fast where the prototype was not:
- the per-frame inputs (features) are the same for every pixel, so their product with the first layer
  is folded into a per-frame bias instead of being concatenated to every pixel;
- the coordinate grid is built once per resolution and cached; zoom, rotation and the preset's coordinate
  scale fold into the first layer's three coordinate columns each frame (a 3-wide product per pixel, next
  to the hidden layers' width-wide ones), so moving the camera costs nothing measurable;
- pixels run in cache-sized chunks under inference mode, on the CPU several chunks at once (one thread
  each, so a core the look or the encoder takes for a moment holds up one chunk, not every op);
- on a CPU with native bf16 the last hidden layers run in bf16, as many as keep the picture
  (`vj.engine.forward`); offline renders may compile the chunk function (``compiled``).
The result is bit-for-bit a function of (weights, seed, frame inputs, t) on a given machine: nothing
carries over between frames.

A net at one moment is a `NetState`; two states of the same shape blend weight by weight (and activation
by activation), which is how one preset morphs into another in weight space.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import torch

from vj.engine.device import engine_workers
from vj.engine.evolution import Evolution
from vj.engine.forward import CALIBRATION_SIZE, bf16_native, calibrate_low_layers, forward_chunk
from vj.engine.graphs import FrameGraphs
from vj.engine.net import Layers, NetSpec, init_weights

LATENT_SCALE = 0.3
"""Spread of the evolution walk of the first-layer bias: about a full change of look per cycle."""
OUTPUT_WALK = 0.5
"""Spread of the output layer's walk relative to its weights: colours shift, shapes stay."""
TIME_PERIOD_S = 60.0
"""The 'time' feature enters the net as a slow sine of this period, so it stays bounded over a long set."""


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
    ``low_layers`` is how many trailing hidden layers may run in bf16 (see `vj.engine.forward`).
    """

    coord_w: torch.Tensor
    frame_w: torch.Tensor
    first_b: torch.Tensor
    hidden: tuple[tuple[torch.Tensor, torch.Tensor], ...]
    out_w: torch.Tensor
    out_b: torch.Tensor
    units: tuple[tuple[str, str, float], ...]
    low_layers: int = 0

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
            min(self.low_layers, other.low_layers),
        )


class Canvas:
    """Renders net states on one device; the coordinate grid is built once per resolution.

    Args:
        chunk_pixels: pixels per chunk on the CPU, sized so a chunk's activations stay in cache.
        compiled: run the chunk function under torch.compile (each new net shape or activation pattern
            compiles for seconds first: for offline renders, not for a live show).
        fused: run the whole net in one Triton kernel per frame where it can (`vj.engine.fused`); None
            (the default) does on CUDA when Triton is there.
        graphed: on CUDA, replay each net's frame as a CUDA graph (`vj.engine.graphs`): one launch
            instead of one per layer and step.
        workers: on the CPU, chunks run this many at a time, each on its own thread with torch's one
            (`vj.engine.device.tune_threads`); None: `engine_workers()`.
    """

    def __init__(self, device: torch.device = torch.device("cpu"), dtype: torch.dtype = torch.float32,
                 chunk_pixels: int = 4096, compiled: bool = False, fused: bool | None = None,
                 graphed: bool = False, workers: int | None = None):
        self.device, self.dtype, self.compiled = device, dtype, compiled
        self.chunk_pixels = chunk_pixels if device.type == "cpu" else 1 << 22
        self.workers = (workers or engine_workers()) if device.type == "cpu" else 1
        self._grids: dict[tuple[int, int], torch.Tensor] = {}
        self._layers: dict[tuple[int, int], tuple[object, tuple]] = {}
        self._forward = _compiled_forward() if compiled else forward_chunk
        self.fused = _fused_kernel(device) if fused or (fused is None and device.type == "cuda") else None
        self.graphs = FrameGraphs(self.frame) if graphed and device.type == "cuda" else None

    def render(self, state: NetState, inputs: np.ndarray, width: int, height: int, zoom: float = 1.0,
               angle: float = 0.0, channels: int | None = None) -> np.ndarray | torch.Tensor:
        """One frame as (height, width, 3) floats in 0..1 (float32 on CPU, float16 on CUDA).

        ``zoom`` scales the coordinate plane (above 1 magnifies) and ``angle`` turns it (radians): the
        first layer is linear in the coordinates, so both are a change of its three coordinate columns.
        With ``channels`` (at least the net's outputs), the frame stays on the device as a
        (height, width, channels) tensor, the channels past the outputs unset: a GL texture's layout.
        """
        with torch.inference_mode():
            features = torch.as_tensor(inputs, dtype=self.dtype, device=self.device)
            camera = self._camera(zoom, angle)
            grid = self.grid(width, height)
            amounts = torch.tensor([unit[2] for unit in state.units], dtype=self.dtype, device=self.device)
            wide = channels or state.out_w.shape[0]
            if self.graphs is not None and not any(unit[2] for unit in state.units):  # no blend: graphable
                out = self.graphs.run(state, features, camera, grid, amounts, wide)
                out = out.clone() if channels else out  # the graph's output is overwritten by its next replay
            else:
                out = self.frame(state, features, camera, grid, amounts, wide)
            pixels = out[: width * height].view(height, width, wide)
            return pixels if channels else pixels.cpu().numpy()

    def frame(self, state: NetState, features: torch.Tensor, camera: torch.Tensor, grid: torch.Tensor,
              amounts: torch.Tensor, channels: int) -> torch.Tensor:
        """The frame's (pixels, channels) on the device, from device tensors only: what a graph captures.
        The net's outputs are the first channels."""
        bias = state.first_b + state.frame_w @ features
        coord_w = (camera @ state.coord_w.T).contiguous()
        wide = torch.empty((grid.shape[0], channels), dtype=self.dtype, device=self.device)
        out = wide[:, : state.out_w.shape[0]]
        if self.fused is not None and self.fused.fused_supports(state):
            self.fused.fused_render(state, grid, bias, coord_w, out)
            return wide
        hidden = self._hidden(state)
        units = tuple(unit[:2] for unit in state.units)
        step = self.chunk_pixels

        def chunk(start: int) -> None:
            with torch.inference_mode():  # per thread
                out[start : start + step] = self._forward(grid[start : start + step], bias, coord_w, hidden,
                                                          state.out_w, state.out_b, units, amounts)

        starts = range(0, grid.shape[0], step)
        if self.workers > 1 and len(starts) > 1:
            for _ in _chunk_threads(self.workers).map(chunk, starts):  # on whichever thread is free
                pass
        else:
            for start in starts:
                chunk(start)
        return wide

    def _hidden(self, state: NetState) -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
        """The hidden layers as (in, out) weights, the last ``state.low_layers`` in bf16; kept for the
        few nets drawn lately (a morph draws two a frame), holding each so its id stays its own."""
        key = (id(state.hidden), state.low_layers)
        if key not in self._layers:
            first_low = len(state.hidden) - state.low_layers
            layers = tuple(
                (w.T.contiguous().to(torch.bfloat16), b.to(torch.bfloat16)) if layer >= first_low else (w.T, b)
                for layer, (w, b) in enumerate(state.hidden)
            )
            if len(self._layers) >= 4:
                del self._layers[next(iter(self._layers))]
            self._layers[key] = (state.hidden, layers)
        return self._layers[key][1]

    def _camera(self, zoom: float, angle: float) -> torch.Tensor:
        """(3, 3): the pixel (x, y) reads the net at R(angle)(x, y) / zoom; r is the same at any angle."""
        c, s = math.cos(angle) / zoom, math.sin(angle) / zoom
        turn = [[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0 / zoom]]
        return torch.tensor(turn, dtype=self.dtype, device=self.device)

    def grid(self, width: int, height: int) -> torch.Tensor:
        """The (pixels, 3) coordinates for this resolution, built once; compiled, padded to whole chunks
        (one shape to compile for)."""
        key = (width, height)
        if key not in self._grids:
            grid = torch.as_tensor(coordinate_grid(width, height), dtype=self.dtype, device=self.device)
            if self.compiled:
                grid = torch.nn.functional.pad(grid, (0, 0, 0, -len(grid) % self.chunk_pixels))
            self._grids = {key: grid}  # one size only
        return self._grids[key]


CHUNK_THREAD_NICE = 5
"""How much lower than the rest of vj the chunk threads run: without real-time scheduling (a desktop
without rtkit, a container) the JACK threads of the MIDI and audio children compete with them for the
cores, and a JACK client late for its cycle loses that cycle's MIDI. The render waits on them anyway."""


def _lower_priority() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), CHUNK_THREAD_NICE)  # this thread only
    except (AttributeError, OSError):
        pass  # not Linux: every thread at one priority, as before


@functools.cache
def _chunk_threads(workers: int) -> ThreadPoolExecutor:
    """One pool per size for every canvas of the process (evolve draws nine nets a frame)."""
    return ThreadPoolExecutor(workers, thread_name_prefix="vj-engine", initializer=_lower_priority)


def _fused_kernel(device: torch.device):
    """The fused kernel's module where it runs on ``device``, else None (the torch path)."""
    try:
        from vj.engine import fused
    except ImportError:
        return None
    return fused if fused.fused_available(device) else None


def _compiled_forward():
    """`forward_chunk` under torch.compile, allowed a compile per net pattern a render may meet. Where
    compiling fails (no C compiler, an unsupported platform) it says so once and runs uncompiled."""
    import torch._dynamo

    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 64)
    compiled = torch.compile(forward_chunk, dynamic=False)
    chosen = []
    first = threading.Lock()  # the chunk threads' first calls: one compiles, the others wait for it

    def forward(*args):
        if not chosen:
            with first:
                if not chosen:
                    try:
                        result = compiled(*args)
                        chosen.append(compiled)
                    except Exception as error:  # noqa: BLE001 - a compile failure leaves the eager path
                        print(f"vj: torch.compile is not available here ({type(error).__name__}); "
                              "rendering uncompiled", file=sys.stderr)
                        chosen.append(forward_chunk)
                        result = forward_chunk(*args)
                    return result
        return chosen[0](*args)

    return forward


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
        mixed: on a CPU with native bf16, run as many trailing hidden layers in bf16 as keep the picture
            (calibrated once, here); False keeps every layer in ``dtype``.
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
        mixed: bool = True,
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
        self.low_layers = 0
        if mixed and device.type == "cpu" and dtype == torch.float32 and bf16_native():
            self.low_layers = calibrate_low_layers(self._calibration_frame, len(hidden), spec.n_frame_inputs)

    def _calibration_frame(self, inputs: np.ndarray, low_layers: int) -> np.ndarray:
        state = replace(self.state(0.0), low_layers=low_layers)
        return self.canvas.render(state, inputs, *CALIBRATION_SIZE)

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
        return NetState(coord_w, frame_w, first_b, hidden, out_w, out_b, self._units, self.low_layers)

    def render(self, features: np.ndarray, t: float, width: int, height: int, zoom: float = 1.0,
               angle: float = 0.0) -> np.ndarray:
        """One frame of this net alone (see `Canvas.render`)."""
        return self.canvas.render(self.state(t), features, width, height, zoom, angle)

    def _to_device(self, arrays: list[np.ndarray]) -> list[torch.Tensor]:
        return [torch.as_tensor(a, dtype=self.dtype, device=self.device) for a in arrays]
