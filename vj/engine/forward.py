"""A chunk of pixels through the net, each hidden layer in the precision it can take.

The same function runs eagerly (the reference, on every device) and under ``torch.compile``, which fuses
each layer's bias, activation and precision casts into one vectorised loop beside the matrix product.

Mixed precision on the CPU: where the CPU multiplies bf16 natively (AVX512-BF16, AMX) a bf16 matrix
product runs about twice as fast as fp32. But these nets amplify rounding about fourfold per layer (their
weights have gain 5), so bf16 in the first hidden layers shows as grain (23 dB PSNR against fp32 for the
default 128x6 net), while the last layers take it unseen. So each net is calibrated once
(`calibrate_low_layers`): the most trailing hidden layers that can run in bf16 with its picture within
`TOLERANCE_DB` of fp32. That tolerance is the distance from fp32 of the picture the CUDA FP16 path draws
(41 dB for the default net), so a CPU frame is never further from the reference than a GPU frame.
"""

from __future__ import annotations

import numpy as np
import torch

TOLERANCE_DB = 40.0
"""Least PSNR against the fp32 picture that a reduced precision must keep (see the module docstring)."""
CALIBRATION_SIZE = (128, 72)
CALIBRATION_INPUT = 0.2
"""Every frame input at this value while calibrating: a typical mid-loud frame."""

Unit = tuple[str, str]
"""An activation layer's (from, to) units; the blend amount between them travels as a tensor."""


def activate(name: str, x: torch.Tensor) -> torch.Tensor:
    """Apply a CPPN unit in place: sin, cos, gaussian (exp(-x^2)) or tanh.

    tanh is computed as 2 sigmoid(2x) - 1 (within 2e-7 of it): torch's CPU tanh runs at half the rate,
    and compiled, a third.
    """
    if name == "sin":
        return x.sin_()
    if name == "cos":
        return x.cos_()
    if name == "gaussian":
        return x.square_().neg_().exp_()
    return x.mul_(2.0).sigmoid_().mul_(2.0).sub_(1.0)


def activate_unit(unit: Unit, amount: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``unit``'s first activation, or its blend towards the second by ``amount`` (exactly the first at 0,
    the second to rounding at 1)."""
    start, end = unit
    if start == end:
        return activate(start, x)
    first = activate(start, x.clone())
    return activate(end, x).sub_(first).mul_(amount).add_(first)


def forward_chunk(grid: torch.Tensor, first_b: torch.Tensor, coord_w: torch.Tensor,
                  hidden: tuple[tuple[torch.Tensor, torch.Tensor], ...], out_w: torch.Tensor,
                  out_b: torch.Tensor, units: tuple[Unit, ...], amounts: torch.Tensor) -> torch.Tensor:
    """(pixels, 3) coordinates to (pixels, outputs) in 0..1.

    ``coord_w`` is (3, width) with the camera folded in, ``first_b`` the per-frame first-layer bias;
    ``hidden`` holds each layer's (weight as (in, out), bias), the weight in the precision that layer runs
    in (its bias too); ``out_w`` is (outputs, width). Activations are computed in the grid's precision.
    On the CPU the output layer is one matrix-vector product per colour: a product three columns wide
    runs at a twentieth of the rate of the hidden ones (about 7% of a frame), three of those at full rate.
    """
    h = activate_unit(units[0], amounts[0], torch.addmm(first_b, grid, coord_w))
    for layer, (w, b) in enumerate(hidden, start=1):
        z = torch.addmm(b, h.to(w.dtype), w)  # .to() of h's own dtype is h itself
        h = activate_unit(units[layer], amounts[layer], z.to(grid.dtype))
    if h.device.type == "cpu":
        return torch.stack([torch.mv(h, row) for row in out_w], dim=1).add_(out_b).sigmoid_()
    return torch.addmm(out_b, h, out_w.T).sigmoid_()


def bf16_native() -> bool:
    """Whether this CPU multiplies bf16 in hardware (otherwise bf16 is emulated and slower than fp32)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def psnr(picture: np.ndarray, reference: np.ndarray) -> float:
    """Peak signal to noise ratio in dB of two pictures in 0..1 (inf when identical)."""
    mse = float(np.mean((picture.astype(np.float64) - reference.astype(np.float64)) ** 2))
    return float("inf") if mse == 0.0 else 10.0 * np.log10(1.0 / mse)


def calibrate_low_layers(render, hidden_layers: int, n_inputs: int) -> int:
    """The most trailing hidden layers ``render(inputs, low_layers)`` can run in bf16 and stay within
    `TOLERANCE_DB` of its all-fp32 picture (0 when none can)."""
    inputs = np.full(n_inputs, CALIBRATION_INPUT, np.float32)
    reference = render(inputs, 0)
    best = 0
    for low in range(1, hidden_layers + 1):
        if psnr(render(inputs, low), reference) < TOLERANCE_DB:
            break  # more bf16 layers only add rounding before the amplifying ones
        best = low
    return best
