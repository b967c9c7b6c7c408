"""A fused Triton kernel for the CPPN: the whole MLP per tile of pixels in one launch per frame.

Why: the torch path (`vj.engine.cppn.Canvas.render`) runs each layer as its own GEMM and elementwise
kernels, so every hidden activation of every pixel goes out to memory and comes back in, layer after layer
(a 128 wide layer at 4K is 2 GB of fp16 activations), and a frame is dozens of launches. Here each program
takes BLOCK_M pixels through every layer with the activations held on chip (registers / shared memory): the
only memory traffic is the coordinates in, the three colours out and the weights (small, shared by all
programs through L2).

Precision follows the CUDA canvas: the first layer (three coordinate inputs) is three fp32 FMAs per unit, the
hidden and output layers are `tl.dot` on fp16 operands (bf16 when the canvas is bf16) with fp32 accumulation,
and bias, activations, the blend of two units and the sigmoid are fp32.

Needs: triton, and a CUDA device; or, for tests on a CPU, Triton's interpreter (``TRITON_INTERPRET=1`` in the
environment *before this module is imported*: Triton decides at decoration time whether a kernel is compiled
or interpreted). Nets up to 256 units wide (`fused_supports`); wider ones stay on the torch path.
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass

import torch

try:  # triton is optional: without it (or where it fails to import) the torch path runs
    import triton
    import triton.language as tl
except Exception:  # noqa: BLE001 - a broken triton install must not stop the engine
    triton = None
    tl = None

MAX_WIDTH = 256
"""Widest padded hidden layer the kernel takes: a 256x256 fp16 weight tile is 128 KiB of shared memory."""
MAX_DEPTH = 31
"""Most activation layers: the per-layer unit codes pack into 62-bit constexpr ints."""
OUT_PAD = 64
"""The output layer's dot width; only the net's own outputs are stored. 16 would do for tl.dot, but Triton
3.6 on Hopper miscompiles this kernel's output dot at N 16 or 32 after 64- or 128-wide hidden layers (the
wgmma reads shared memory out of bounds: compute-sanitizer, H200); at 64, every width 16..256 ran clean."""
CODES = {"sin": 0, "cos": 1, "gaussian": 2, "tanh": 3}
"""Activation codes as the kernel takes them (any other name is tanh, as in the torch path's `activate`)."""


def _padded_width(width: int) -> int:
    """The width rounded up to a power of two, at least 16 (tl.dot's smallest K and N)."""
    return max(16, 1 << (width - 1).bit_length())


def fused_supports(state) -> bool:
    """Whether the kernel takes this net: hidden width padded to at most 256, at most 31 activation layers,
    at most 64 outputs. The caller keeps the torch path otherwise."""
    try:
        width = state.first_b.shape[0]
        return (_padded_width(width) <= MAX_WIDTH and 1 <= len(state.units) <= MAX_DEPTH
                and len(state.units) == len(state.hidden) + 1 and state.out_w.shape[0] <= OUT_PAD)
    except Exception:  # noqa: BLE001 - a question, never an error
        return False


def _interpret_requested() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0").strip().lower() in ("1", "true", "on", "yes")


def fused_available(device: torch.device) -> bool:
    """True when triton imports and the device is CUDA, or the device is the CPU under Triton's interpreter
    (``TRITON_INTERPRET=1``, set before this module was imported). Never raises."""
    try:
        if triton is None:
            return False
        device = torch.device(device)
        if device.type == "cuda":
            return True
        return device.type == "cpu" and _interpret_requested() and _KERNEL_INTERPRETED
    except Exception:  # noqa: BLE001 - a question, never an error
        return False


# ---------------------------------------------------------------------------------------------- packing


@dataclass(frozen=True)
class _HiddenPack:
    weights: torch.Tensor  # (max(depth-1, 1), Wp, Wp) dot dtype, layer l as (in, out) so h @ weights[l]
    biases: torch.Tensor  # (max(depth-1, 1), Wp) fp32
    amounts: torch.Tensor  # (depth,) fp32: blend amount per activation layer (read only where it blends)
    act_a: int  # 2 bits per layer: the unit (or the blend's first unit)
    act_b: int  # 2 bits per layer: the blend's second unit
    mix: int  # 1 bit per layer: whether the layer blends two units


@dataclass(frozen=True)
class _OutPack:
    weights: torch.Tensor  # (Wp, OUT_PAD) dot dtype: out_w transposed, zero padded
    bias: torch.Tensor  # (OUT_PAD,) fp32


class _IdentityCache:
    """A few packs keyed on the identity of the tensors they were made from (weak references, so a freed
    tensor whose id is reused never hits). An unchanged net is packed once; a morph's new tensors each frame
    are packed each frame. Tensors changed in place are not noticed (the engine makes new ones)."""

    def __init__(self, size: int = 4):
        self.size = size
        self.entries: list[tuple[tuple[weakref.ref, ...], object, object]] = []

    def get(self, tensors: tuple[torch.Tensor, ...], extra: object):
        for refs, key, value in self.entries:
            if key == extra and len(refs) == len(tensors) and all(r() is t for r, t in zip(refs, tensors)):
                return value
        return None

    def put(self, tensors: tuple[torch.Tensor, ...], extra: object, value: object) -> None:
        self.entries = [(tuple(weakref.ref(t) for t in tensors), extra, value), *self.entries][: self.size]


_hidden_cache = _IdentityCache()
_out_cache = _IdentityCache()


def packs(state, dtype: torch.dtype) -> tuple[object, object]:
    """The packed weights the kernel reads for ``state`` in the canvas ``dtype``: a CUDA graph holds them
    for as long as it replays, since the graph reads their memory and the cache may drop them."""
    dot_dtype = _dot_dtype(dtype)
    return _hidden_pack(state, dot_dtype), _out_pack(state, dot_dtype)


def forget_packs(output_only: bool = False) -> None:
    """Drop the cached packs (only the output layer's with ``output_only``), so the next `fused_render`
    packs afresh: under CUDA graph capture, that puts the packing into the graph."""
    _out_cache.entries = []
    if not output_only:
        _hidden_cache.entries = []


def _resolve_unit(unit: tuple[str, str, float]) -> tuple[int, int, int, float]:
    """(code a, code b, blends, amount): a plain unit where the two are the same or the amount is at an end
    (0 or less: the first; 1 or more: the second), else a blend."""
    start, end, amount = unit
    amount = float(amount)
    if start == end or amount <= 0.0:
        return CODES.get(start, 3), 0, 0, 0.0
    if amount >= 1.0:
        return CODES.get(end, 3), 0, 0, 0.0
    return CODES.get(start, 3), CODES.get(end, 3), 1, amount


def _dot_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.bfloat16 if dtype == torch.bfloat16 else torch.float16


def _hidden_pack(state, dot_dtype: torch.dtype) -> _HiddenPack:
    tensors = tuple(t for pair in state.hidden for t in pair)
    key = (tuple(state.units), dot_dtype, state.first_b.shape[0])
    pack = _hidden_cache.get(tensors, key)
    if pack is None:
        width, device = state.first_b.shape[0], state.first_b.device
        wp, layers = _padded_width(width), max(len(state.hidden), 1)
        weights = torch.zeros((layers, wp, wp), dtype=dot_dtype, device=device)
        biases = torch.zeros((layers, wp), dtype=torch.float32, device=device)
        for layer, (w, b) in enumerate(state.hidden):
            weights[layer, :width, :width] = w.T  # (out, in) -> (in, out)
            biases[layer, :width] = b
        resolved = [_resolve_unit(unit) for unit in state.units]
        act_a = sum(a << (2 * i) for i, (a, _, _, _) in enumerate(resolved))
        act_b = sum(b << (2 * i) for i, (_, b, _, _) in enumerate(resolved))
        mix = sum(m << i for i, (_, _, m, _) in enumerate(resolved))
        amounts = torch.tensor([r[3] for r in resolved], dtype=torch.float32, device=device)
        pack = _HiddenPack(weights, biases, amounts, act_a, act_b, mix)
        _hidden_cache.put(tensors, key, pack)
    return pack


def _out_pack(state, dot_dtype: torch.dtype) -> _OutPack:
    tensors = (state.out_w, state.out_b)
    key = (dot_dtype, state.first_b.shape[0])
    pack = _out_cache.get(tensors, key)
    if pack is None:
        n_out, width = state.out_w.shape
        wp, device = _padded_width(width), state.out_w.device
        weights = torch.zeros((wp, OUT_PAD), dtype=dot_dtype, device=device)
        weights[:width, :n_out] = state.out_w.T
        bias = torch.zeros(OUT_PAD, dtype=torch.float32, device=device)
        bias[:n_out] = state.out_b
        pack = _OutPack(weights, bias)
        _out_cache.put(tensors, key, pack)
    return pack


def default_launch(width: int) -> tuple[int, int]:
    """(BLOCK_M, num_warps) for a net of this hidden width: the fastest measured on an H200 at 1080p
    (Triton 3.6, fp16). 128 wide: (64, 4) 3.7 ms, (128, 4) 5.2, (128, 8) 5.3, (32, 4) 7.0, (64, 8) 10.1;
    64 wide: (128, 8) 0.80, (64, 4) 0.84, (128, 4) 1.27; 256 wide: (128, 8) 12.3, (64, 8) 23.8, (64, 4) 25.3;
    32 wide: (128, 8) and (64, 4) 0.39."""
    return (64, 4) if _padded_width(width) == 128 else (128, 8)


def fused_render(state, grid: torch.Tensor, bias: torch.Tensor, coord_w: torch.Tensor, out: torch.Tensor,
                 block_m: int | None = None, num_warps: int | None = None) -> None:
    """Fill ``out`` (P, n_out) with what `Canvas.render`'s chunk loop computes for ``grid`` (P, 3) under the
    per-frame first-layer ``bias`` (W,) and camera-folded ``coord_w`` (3, W), in one kernel launch.

    All on one device (see `fused_available`; the net must pass `fused_supports`). ``block_m`` (a power of
    two, at least 16) and ``num_warps`` default to `default_launch`.
    """
    if triton is None:
        raise RuntimeError("fused_render needs triton")
    if not fused_supports(state):
        raise ValueError("net too wide or too deep for the fused kernel; use the torch path")
    width, n_out, pixels = state.first_b.shape[0], state.out_w.shape[0], grid.shape[0]
    if grid.shape != (pixels, 3) or bias.shape != (width,) or coord_w.shape != (3, width) \
            or out.shape != (pixels, n_out):
        raise ValueError(f"shapes: grid {tuple(grid.shape)}, bias {tuple(bias.shape)}, coord_w "
                         f"{tuple(coord_w.shape)}, out {tuple(out.shape)} for a {width} wide net with {n_out} outputs")
    if pixels == 0:
        return
    default_block, default_warps = default_launch(width)
    block_m, num_warps = block_m or default_block, num_warps or default_warps
    if block_m < 16 or block_m & (block_m - 1):
        raise ValueError(f"block_m {block_m} is not a power of two >= 16")
    dot_dtype = _dot_dtype(grid.dtype)
    hidden, output = _hidden_pack(state, dot_dtype), _out_pack(state, dot_dtype)
    _fused_cppn_kernel[(triton.cdiv(pixels, block_m),)](
        grid, bias, coord_w, hidden.weights, hidden.biases, hidden.amounts, output.weights, output.bias, out,
        pixels, width,
        grid.stride(0), grid.stride(1), bias.stride(0), coord_w.stride(0), coord_w.stride(1),
        out.stride(0), out.stride(1),
        N_OUT=n_out, WP=_padded_width(width), OUT_P=OUT_PAD, N_HIDDEN=len(state.hidden),
        ACT_A=hidden.act_a, ACT_B=hidden.act_b, MIX=hidden.mix, BLOCK_M=block_m,
        num_warps=num_warps,
    )


# ---------------------------------------------------------------------------------------------- kernel

if triton is not None:

    @triton.jit
    def _activate(x, CODE: tl.constexpr):
        """sin, cos, gaussian exp(-x^2) or tanh of fp32 x; CODE picks one at compile time."""
        if CODE == 0:
            y = tl.sin(x)
        elif CODE == 1:
            y = tl.cos(x)
        elif CODE == 2:
            y = tl.exp(-x * x)
        else:  # tanh as (1 - e) / (1 + e), e = exp(-2|x|) <= 1: no overflow at any x
            e = tl.exp(-2.0 * tl.abs(x))
            t = (1.0 - e) / (1.0 + e)
            y = tl.where(x < 0.0, -t, t)
        return y

    @triton.jit
    def _unit(x, amount_ptr, A: tl.constexpr, B: tl.constexpr, MIX: tl.constexpr):
        """One activation layer: unit A, or (1 - amount) * A(x) + amount * B(x) where it blends."""
        if MIX:
            amount = tl.load(amount_ptr)
            y = (1.0 - amount) * _activate(x, A) + amount * _activate(x, B)
        else:
            y = _activate(x, A)
        return y

    @triton.jit
    def _fused_cppn_kernel(
        grid_ptr, bias_ptr, coord_ptr, w_ptr, b_ptr, amount_ptr, ow_ptr, ob_ptr, out_ptr,
        P, W,
        stride_gp, stride_gc, stride_b, stride_ck, stride_cn, stride_op, stride_oc,
        N_OUT: tl.constexpr, WP: tl.constexpr, OUT_P: tl.constexpr, N_HIDDEN: tl.constexpr,
        ACT_A: tl.constexpr, ACT_B: tl.constexpr, MIX: tl.constexpr, BLOCK_M: tl.constexpr,
    ):
        rows = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
        row_ok = rows < P
        cols = tl.arange(0, WP)
        col_ok = cols < W

        # first layer: three coordinate inputs, so broadcast FMAs in fp32 (a K=3 dot would pad to 16)
        gx = tl.load(grid_ptr + rows * stride_gp, mask=row_ok, other=0.0).to(tl.float32)
        gy = tl.load(grid_ptr + rows * stride_gp + stride_gc, mask=row_ok, other=0.0).to(tl.float32)
        gr = tl.load(grid_ptr + rows * stride_gp + 2 * stride_gc, mask=row_ok, other=0.0).to(tl.float32)
        cx = tl.load(coord_ptr + cols * stride_cn, mask=col_ok, other=0.0).to(tl.float32)
        cy = tl.load(coord_ptr + stride_ck + cols * stride_cn, mask=col_ok, other=0.0).to(tl.float32)
        cr = tl.load(coord_ptr + 2 * stride_ck + cols * stride_cn, mask=col_ok, other=0.0).to(tl.float32)
        b0 = tl.load(bias_ptr + cols * stride_b, mask=col_ok, other=0.0).to(tl.float32)
        x = b0[None, :] + gx[:, None] * cx[None, :] + gy[:, None] * cy[None, :] + gr[:, None] * cr[None, :]
        h = _unit(x, amount_ptr, ACT_A & 3, ACT_B & 3, MIX & 1)

        # hidden layers: (BLOCK_M, WP) @ (WP, WP) per layer, fp16/bf16 operands, fp32 accumulation. Padded
        # units (cols >= W) hold act(0) but meet only zero weights in the next layer.
        ks = tl.arange(0, WP)
        for layer in tl.static_range(N_HIDDEN):
            w = tl.load(w_ptr + layer * WP * WP + ks[:, None] * WP + cols[None, :])
            b = tl.load(b_ptr + layer * WP + cols)
            x = tl.dot(h.to(w.dtype), w) + b[None, :]
            h = _unit(x, amount_ptr + layer + 1, (ACT_A >> (2 * layer + 2)) & 3, (ACT_B >> (2 * layer + 2)) & 3,
                      (MIX >> (layer + 1)) & 1)

        # output layer, padded to a dot width of OUT_P; only the net's N_OUT columns are stored
        outs = tl.arange(0, OUT_P)
        ow = tl.load(ow_ptr + ks[:, None] * OUT_P + outs[None, :])
        ob = tl.load(ob_ptr + outs)
        y = tl.sigmoid(tl.dot(h.to(ow.dtype), ow) + ob[None, :])
        tl.store(out_ptr + rows[:, None] * stride_op + outs[None, :] * stride_oc,
                 y.to(out_ptr.dtype.element_ty), mask=row_ok[:, None] & (outs[None, :] < N_OUT))

    _KERNEL_INTERPRETED = not isinstance(_fused_cppn_kernel, triton.runtime.JITFunction)
else:
    _KERNEL_INTERPRETED = False
