"""The prototype's way of running a CPPN, kept on purpose as the baseline that `vj bench` measures against.

Every frame it rebuilds the coordinate grid, concatenates the per-frame features to every pixel, and runs
the whole frame through an eager `nn.Sequential` with autograd on. Same weights and same picture as
`vj.engine.cppn.CPPN`, only slower; tests use it as the reference the fast path must match.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from vj.engine.cppn import CPPN


class _Activation(nn.Module):
    def __init__(self, name: str):
        super().__init__()
        self.name = name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.name == "sin":
            return torch.sin(x)
        if self.name == "cos":
            return torch.cos(x)
        if self.name == "gaussian":
            return torch.exp(-x * x)
        return torch.tanh(x)


class NaiveCPPN:
    """The prototype-style forward of ``cppn``'s net (its weights at time t are copied in per frame)."""

    def __init__(self, cppn: CPPN):
        self.cppn = cppn
        spec = cppn.spec
        modules: list[nn.Module] = []
        for layer, (rows, cols) in enumerate(spec.layer_shapes()):
            modules.append(nn.Linear(cols, rows))
            modules.append(_Activation(spec.activation(layer)) if layer < spec.depth else nn.Sigmoid())
        self.net = nn.Sequential(*modules).to(device=cppn.device, dtype=cppn.dtype)

    def render(self, features: np.ndarray, t: float, width: int, height: int, zoom: float = 1.0,
               angle: float = 0.0) -> np.ndarray:
        device, dtype = self.cppn.device, self.cppn.dtype
        linears = [m for m in self.net if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for linear, (w, b) in zip(linears, self.cppn.numpy_layers(t)):
                linear.weight.copy_(torch.as_tensor(w))
                linear.bias.copy_(torch.as_tensor(b))
        scale = 1.0 / zoom  # the coordinate scale is in the first layer's weights
        ys = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) / height * 2 - 1
        xs = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) / width * 2 - 1
        y, x = torch.meshgrid(ys * scale, xs * scale * (width / height), indexing="ij")
        c, s = math.cos(angle), math.sin(angle)
        x, y = c * x - s * y, s * x + c * y
        coords = torch.stack([x, y, torch.sqrt(x * x + y * y)], dim=-1).reshape(-1, 3).to(dtype)
        frame = torch.as_tensor(features, device=device, dtype=dtype).expand(coords.shape[0], -1)
        out = self.net(torch.cat([coords, frame], dim=1))
        return out.detach().reshape(height, width, -1).cpu().numpy()
