"""Presets loaded and warmed up off the render thread, so a switch never stalls a frame.

Reading the TOML and the weight file, building the net on its device and its first (slow) forward pass
happen in one worker thread; the render thread only asks whether the result is ready. A preset that
fails to load comes back as its one-line error, and the show goes on with the one that plays.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from vj.engine.cppn import CPPN
from vj.engine.net import Layers, NetSpec
from vj.engine.weights import load_weights
from vj.errors import VJError
from vj.presets import Preset, resolve_preset

WARM_UP_SIZE = (32, 18)


@dataclass(frozen=True)
class LoadedPreset:
    preset: Preset
    net: CPPN


def build_net(preset: Preset, device: tuple[torch.device, torch.dtype], seed: int | None = None,
              net: tuple[NetSpec, Layers] | None = None, mixed: bool = True) -> CPPN:
    """The preset's net on ``device``: its pinned weights, or its seed's (``seed`` overrides it and
    drops pinned weights), or ``net`` (a shape and weights of its own, as `vj evolve` breeds them). The
    walk runs at rate 1 in "walk time" (see `vj.render.pipeline`)."""
    engine = preset.engine
    spec, layers = net if net is not None else (engine.net, None)
    if net is None and engine.weights is not None and seed is None:
        layers = load_weights(engine.weights, engine.net)
    return CPPN(spec, engine.seed if seed is None else seed, *device, evolution=1.0,
                coord_scale=engine.coord_scale, output_gain=engine.output_gain,
                input_gains=np.array(engine.input_gains, np.float32), layers=layers, mixed=mixed)


class PresetLoader:
    """One background worker that loads presets by name (with an optional --net override)."""

    def __init__(self, device: tuple[torch.device, torch.dtype], net: str | None, mixed: bool = True):
        self.device, self.net, self.mixed = device, net, mixed
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vj-preset")

    def request(self, name: str) -> Future:
        """A future of `LoadedPreset`; its exception is a VJError that says what is wrong with the file."""
        return self._pool.submit(self.load, name)

    def load(self, name: str) -> LoadedPreset:
        preset = resolve_preset(name, net=self.net)
        net = build_net(preset, self.device, mixed=self.mixed)
        net.render(np.zeros(net.spec.n_frame_inputs, np.float32), 0.0, *WARM_UP_SIZE)
        return LoadedPreset(preset, net)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def outcome(future: Future | None) -> LoadedPreset | str | None:
    """A finished request's preset, or its error as one line; None while it runs (or without one)."""
    if future is None or not future.done():
        return None
    error = future.exception()
    if error is None:
        return future.result()
    return str(error) if isinstance(error, VJError) else f"{type(error).__name__}: {error}"
