"""CUDA graphs of a frame: the net's per-frame work captured once per net and size, then replayed.

A frame is a dozen small launches (the first layer's bias, the camera, the weight packing, the kernel or
the layers' products and activations); a graph replays them as one. What changes between frames of the
same net is copied into the graph's own input tensors first: the frame inputs and camera, and the parts
of the net its walk moves (the first layer's bias and the output layer). A morph makes a new net every
frame, so it runs without a graph.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

KEPT = 2
"""Graphs kept: the playing net's, and the one before a switch (a cut back is free)."""


@dataclass
class _Captured:
    graph: torch.cuda.CUDAGraph
    net: object
    """The state the graph was captured from: held, so the ids in its key stay its own."""
    inputs: tuple[torch.Tensor, ...]
    """(features, camera, first_b, out_w, out_b): copied into before each replay."""
    out: torch.Tensor
    held: object
    """Whatever else the graph reads (the fused kernel's packed hidden layers), kept alive with it."""


class FrameGraphs:
    """Replays ``frame(state, features, camera, grid, amounts, channels)`` (`vj.engine.cppn.Canvas.frame`) as graphs."""

    def __init__(self, frame: Callable[..., torch.Tensor]):
        self._frame = frame
        self._captured: dict[tuple, _Captured] = {}

    def run(self, state, features: torch.Tensor, camera: torch.Tensor, grid: torch.Tensor,
            amounts: torch.Tensor, channels: int) -> torch.Tensor:
        """The frame's output tensor (the graph's own: valid until the next run)."""
        key = (id(state.hidden), id(state.coord_w), id(state.frame_w), state.units, state.low_layers,
               tuple(grid.shape), grid.data_ptr(), channels)
        captured = self._captured.get(key)
        if captured is None:
            captured = self._capture(state, features, camera, grid, amounts, channels)
            while len(self._captured) >= KEPT:
                del self._captured[next(iter(self._captured))]
            self._captured[key] = captured
        for mine, new in zip(captured.inputs, (features, camera, state.first_b, state.out_w, state.out_b)):
            mine.copy_(new)
        captured.graph.replay()
        return captured.out

    def _capture(self, state, features, camera, grid, amounts, channels) -> _Captured:
        inputs = tuple(t.clone() for t in (features, camera, state.first_b, state.out_w, state.out_b))
        net = replace(state, first_b=inputs[2], out_w=inputs[3], out_b=inputs[4])
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm-up: kernels compiled and caches filled before capture
            self._frame(net, inputs[0], inputs[1], grid, amounts, channels)
        torch.cuda.current_stream().wait_stream(side)
        held = _hold_packs(net, grid.dtype)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = self._frame(net, inputs[0], inputs[1], grid, amounts, channels)
        return _Captured(graph, state, inputs, out, held)


def _hold_packs(net, dtype: torch.dtype) -> object:
    """The fused kernel's packed hidden layers, held by the graph; its output layer's pack is dropped so
    the capture packs it, and each replay packs the walk's new output layer."""
    try:
        from vj.engine import fused
    except ImportError:
        return None
    if not fused.fused_supports(net):
        return None
    held = fused.packs(net, dtype)
    fused.forget_packs(output_only=True)
    return held
