"""The fused Triton CPPN kernel draws what the torch path draws: under Triton's interpreter on the CPU (so CI
covers it without a GPU), and compiled on CUDA where this machine has one.

The interpreter runs in a subprocess. Triton decides whether a kernel is compiled or interpreted when the
kernel is decorated, so ``TRITON_INTERPRET=1`` has to be set before `vj.engine.fused` is first imported; and
set in this process it would also make `fused_available` say yes on the CPU for every later test of the
session (and for every vj process a test starts). The subprocess gets it from its first line.

Tolerances, in 0..1 output units (one 8-bit level is 0.0039). The kernel rounds each matmul's operands to
fp16 (accumulating in fp32), and these gain-5 nets amplify a difference about fourfold per layer, so:
- against the fp32 torch path (`Canvas.render`): fp16 rounding itself, measured at mean 0.001 (32 wide, 4
  layers) to 0.004 (128x6), max 0.05 over a frame; allowed mean 0.01, max 0.1. Loose, but a wrong unit,
  layer order, blend or bias moves the mean by 0.05 and more.
- against the same torch arithmetic rounded where the kernel rounds (`reduced_reference`): only the fp32
  summation order and the transcendentals' last bits differ. Measured by summing that reference in fp32 and
  in fp64: mean up to 7e-5, max up to 0.007 (an fp16 rounding that flips early, amplified); allowed mean 3e-4,
  max 0.05; the kernel's own difference is mean 1e-5, max 0.003. The tight check, with room for a GPU's sin
  and exp. Tried by hand: a missing bias (any layer), units a layer off, sin for cos, a blend the wrong way
  round or with another layer's amount, y and r swapped: each fails (by a mean of 0.05 to 0.37).
Frames are 48x27 = 1296 pixels: the last tile is partial at BLOCK_M 32, 64 and 128. Every output is written
into a view of a larger NaN-filled buffer, so a store outside the pixels or colours it owns shows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("triton", reason="the fused kernel needs triton")

from vj.engine import fused  # noqa: E402
from vj.engine.cppn import Canvas, NetState  # noqa: E402
from vj.engine.net import NetSpec, init_weights  # noqa: E402

FEATURES = np.array([0.8, 0.4, 0.2, 0.5, 0.6, 0.3, 0.1, 1.0, 0.7], np.float32) * 0.35
WIDTH, HEIGHT = 48, 27
PIXELS = WIDTH * HEIGHT
SPARE_ROWS, SPARE_COLS = 37, 2
"""The output buffer's rows and columns beyond the frame (one column before, one after the colours)."""
FIELDS = ("coord_w", "frame_w", "first_b", "hidden", "out_w", "out_b", "units")
REPO = Path(__file__).resolve().parents[2]

TORCH_TOL = {torch.float32: (0.1, 0.01), torch.float16: (0.1, 0.01), torch.bfloat16: (0.6, 0.06)}
"""(max, mean) against the fp32 torch path, by the kernel's input dtype (bf16 keeps 8 bits: 0.03 mean)."""
REDUCED_TOL = {torch.float32: (0.05, 3e-4), torch.float16: (0.05, 3e-4), torch.bfloat16: (0.1, 3e-4)}
"""(max, mean) against the torch path rounded where the kernel rounds."""


def net(spec: NetSpec, seed: int) -> NetState:
    """A net as `CPPN.state` builds one (coordinate scale 0.35, output gain 0.3), but with a random bias on
    every layer: init gives zero biases, under which a kernel that dropped one would pass."""
    rng = np.random.default_rng(seed + 1000)
    (first_w, _), *hidden, (out_w, _) = init_weights(spec, seed)
    bias = lambda n: torch.as_tensor(rng.uniform(-1.0, 1.0, n).astype(np.float32))  # noqa: E731
    t = torch.as_tensor
    units = tuple((spec.activation(layer),) * 2 + (0.0,) for layer in range(spec.depth))
    return NetState(t(first_w[:, : spec.n_coords] * np.float32(0.35)), t(first_w[:, spec.n_coords :]),
                    bias(spec.width), tuple((t(w), bias(spec.width)) for w, _ in hidden),
                    t(out_w * np.float32(0.3)), bias(spec.n_outputs) * 0.3, units)


def state_fields(state: NetState) -> dict:
    return {name: getattr(state, name) for name in FIELDS}


def cast_state(state: NetState, dtype: torch.dtype) -> NetState:
    fields = state_fields(state)
    for name in ("coord_w", "frame_w", "first_b", "out_w", "out_b"):
        fields[name] = fields[name].to(dtype)
    fields["hidden"] = tuple((w.to(dtype), b.to(dtype)) for w, b in state.hidden)
    return NetState(**fields)


def blended() -> NetState:
    a = net(NetSpec(width=32, depth=4, activations=("sin", "cos", "gaussian", "tanh")), seed=11)
    b = net(NetSpec(width=32, depth=4, activations=("tanh", "gaussian", "cos", "sin")), seed=12)
    return a.blend(b, 0.3)


def per_layer_amounts() -> NetState:
    """A morph's units with a different amount on every layer, the ends (0, 1) and a plain layer among them:
    a kernel reading another layer's amount fails this one, not a uniform 0.3."""
    fields = state_fields(blended())
    fields["units"] = (("sin", "tanh", 0.8), ("cos", "cos", 0.0), ("gaussian", "cos", 0.15), ("tanh", "sin", 1.0))
    return NetState(**fields)


def build_cases(cuda: bool) -> dict:
    """name -> the kernel's inputs (as `Canvas.render` makes them), its launch, and the tolerance keys."""
    canvas = Canvas()
    plan = [  # name, state, input dtype, zoom, angle, block_m
        ("32x4", net(NetSpec(width=32, depth=4), seed=1), torch.float32, 1.3, 0.4, None),
        ("128x6", net(NetSpec(width=128, depth=6), seed=2), torch.float32, 0.7, 2.1, None),  # all four units
        ("24x4 padded", net(NetSpec(width=24, depth=4, activations=("tanh", "cos", "gaussian", "sin")), seed=3),
         torch.float32, 1.0, -0.6, 64),
        ("16x1 no hidden layer", net(NetSpec(width=16, depth=1, activations=("sin",)), seed=4),
         torch.float32, 1.1, 0.2, 32),
        ("blend 0.3", blended(), torch.float32, 0.9, 1.0, 64),
        ("per-layer amounts", per_layer_amounts(), torch.float32, 1.0, 0.0, 128),
        ("fp16", cast_state(net(NetSpec(width=64, depth=5), seed=5), torch.float16), torch.float16, 1.2, -1.2, 64),
    ]
    if cuda:  # the interpreter's tl.dot multiplies bf16 as raw integers; a GPU does not
        plan.append(("bf16", cast_state(net(NetSpec(width=128, depth=6), seed=6), torch.bfloat16),
                     torch.bfloat16, 1.0, 0.3, None))
    cases = {}
    for name, state, dtype, zoom, angle, block_m in plan:
        reference_state = cast_state(state, torch.float32)
        grid = canvas.grid(WIDTH, HEIGHT)
        bias = reference_state.first_b + reference_state.frame_w @ torch.as_tensor(FEATURES)
        coord_w = (canvas._camera(zoom, angle) @ reference_state.coord_w.T).contiguous()
        cases[name] = {
            "state": state_fields(state), "grid": grid.to(dtype), "bias": bias.to(dtype),
            "coord_w": coord_w.to(dtype), "block_m": block_m,
            "buffer": torch.full((PIXELS + SPARE_ROWS, 3 + SPARE_COLS), float("nan"), dtype=dtype),
            "reference": canvas.render(reference_state, FEATURES, WIDTH, HEIGHT, zoom, angle).reshape(-1, 3),
        }
    return cases


def _to(value, device):
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, tuple):
        return tuple(_to(v, device) for v in value)
    return value


def run_cases(cases: dict, device: str) -> dict:
    """Each case's output buffer after `fused_render` on ``device`` (or the error it raised, as text)."""
    results = {"available": fused.fused_available(torch.device(device))}
    for name, case in cases.items():
        try:
            state = NetState(**{key: _to(value, device) for key, value in case["state"].items()})
            buffer = case["buffer"].to(device)
            out = buffer[:PIXELS, 1:4]
            fused.fused_render(state, _to(case["grid"], device), _to(case["bias"], device),
                               _to(case["coord_w"], device), out, block_m=case["block_m"])
            results[name] = buffer.cpu()
        except Exception as error:  # noqa: BLE001 - reported by the case's own test
            results[name] = f"{type(error).__name__}: {error}"
    return results


def _worker(cases_path: str, results_path: str) -> None:
    """The subprocess's side: run the cases under the interpreter."""
    cases = torch.load(cases_path, weights_only=True)
    torch.save(run_cases(cases, "cpu"), results_path)


WORKER = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("fused_test_worker", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module._worker(sys.argv[2], sys.argv[3])
"""


def run_interpreted(cases: dict, folder: Path) -> dict:
    sent = {name: {key: value for key, value in case.items() if key != "reference"} for name, case in cases.items()}
    torch.save(sent, folder / "cases.pt")
    env = {**os.environ, "TRITON_INTERPRET": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", WORKER, __file__, str(folder / "cases.pt"), str(folder / "out.pt")],
                          env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, f"interpreter subprocess failed:\n{done.stderr[-4000:]}"
    return torch.load(folder / "out.pt", weights_only=True)


BACKENDS = ["interpreter", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                                                         reason="no CUDA device"))]


@pytest.fixture(scope="module", params=BACKENDS)
def rendered(request, tmp_path_factory) -> tuple[dict, dict]:
    """(cases, results) of one backend: every case in one subprocess (or one pass on the GPU)."""
    cuda = request.param == "cuda"
    cases = build_cases(cuda)
    results = run_cases(cases, "cuda") if cuda else run_interpreted(cases, tmp_path_factory.mktemp("fused"))
    return cases, results


CASES = ["32x4", "128x6", "24x4 padded", "16x1 no hidden layer", "blend 0.3", "per-layer amounts", "fp16", "bf16"]


def frame(rendered, name: str) -> tuple[dict, np.ndarray]:
    cases, results = rendered
    if name not in cases:
        pytest.skip(f"{name} runs on CUDA only (the interpreter's tl.dot cannot multiply bf16)")
    result = results[name]
    assert isinstance(result, torch.Tensor), result
    return cases[name], result


def within(got: np.ndarray, want: np.ndarray, max_tol: float, mean_tol: float) -> None:
    assert np.isfinite(got).all(), "the kernel left pixels unwritten"
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    worst, mean = float(diff.max()), float(diff.mean())
    assert worst <= max_tol and mean <= mean_tol, \
        f"max {worst:.3g} (allowed {max_tol}), mean {mean:.3g} (allowed {mean_tol})"


UNITS = {"sin": torch.sin, "cos": torch.cos, "gaussian": lambda x: torch.exp(-x * x), "tanh": torch.tanh}


def reduced_reference(case: dict) -> np.ndarray:
    """The chunk loop of `Canvas.render` in fp32, its matmul operands rounded to the kernel's dot dtype."""
    dot = torch.bfloat16 if case["grid"].dtype == torch.bfloat16 else torch.float16
    state = cast_state(NetState(**case["state"]), torch.float32)
    rounded = lambda t: t.to(dot).float()  # noqa: E731

    def unit(spec, x):
        start, end, amount = spec
        if start == end or amount <= 0.0:
            return UNITS[start](x)
        if amount >= 1.0:
            return UNITS[end](x)
        return (1.0 - amount) * UNITS[start](x) + amount * UNITS[end](x)

    grid, coord_w = case["grid"].float(), case["coord_w"].float()
    h = unit(state.units[0], case["bias"].float() + grid @ coord_w)
    for spec, (w, b) in zip(state.units[1:], state.hidden):
        h = unit(spec, rounded(h) @ rounded(w).T + b)
    out = torch.sigmoid(rounded(h) @ rounded(state.out_w).T + state.out_b)
    return out.to(case["grid"].dtype).float().numpy()


@pytest.mark.parametrize("name", CASES)
def test_fused_draws_what_the_torch_path_draws(rendered, name):
    case, buffer = frame(rendered, name)
    within(buffer[:PIXELS, 1:4].float().numpy(), case["reference"], *TORCH_TOL[case["grid"].dtype])


@pytest.mark.parametrize("name", CASES)
def test_fused_matches_the_torch_path_at_the_kernels_precision(rendered, name):
    case, buffer = frame(rendered, name)
    within(buffer[:PIXELS, 1:4].float().numpy(), reduced_reference(case), *REDUCED_TOL[case["grid"].dtype])


@pytest.mark.parametrize("name", CASES)
def test_fused_writes_only_its_pixels_and_colours(rendered, name):
    _, buffer = frame(rendered, name)
    outside = torch.cat([buffer[PIXELS:].flatten(), buffer[:PIXELS, 0], buffer[:PIXELS, 4]])
    assert outside.isnan().all(), "the kernel wrote outside its (pixels, colours) view"


def test_interpreter_counts_as_available(rendered):
    _, results = rendered
    assert results["available"] is True


def test_availability_is_a_question_never_an_error(monkeypatch):
    assert fused.fused_available(torch.device("cuda"))  # triton imported; whether a GPU is there is the caller's
    assert not fused.fused_available(torch.device("meta"))
    assert not fused.fused_available("no such device")
    if not fused._KERNEL_INTERPRETED:
        assert not fused.fused_available(torch.device("cpu"))
        # too late: this process decorated its kernels compiled, so the interpreter cannot run them
        monkeypatch.setenv("TRITON_INTERPRET", "1")
        assert not fused.fused_available(torch.device("cpu"))


def test_supports_nets_up_to_256_wide_and_31_layers():
    def shaped(width, depth, outputs=3):
        z = torch.zeros
        hidden = tuple((z(width, width), z(width)) for _ in range(depth - 1))
        return NetState(z(width, 3), z(width, 9), z(width), hidden, z(outputs, width), z(outputs),
                        (("sin", "sin", 0.0),) * depth)

    assert fused.fused_supports(shaped(256, 6)) and fused.fused_supports(shaped(24, 31))
    assert fused.fused_supports(shaped(16, 1))
    assert not fused.fused_supports(shaped(257, 6))
    assert not fused.fused_supports(shaped(128, 32))
    assert not fused.fused_supports(shaped(128, 6, outputs=fused.OUT_PAD + 1))
    assert not fused.fused_supports(object())


def test_weights_pack_once_per_net_padded_and_transposed():
    state = net(NetSpec(width=24, depth=3), seed=7)
    pack = fused._hidden_pack(state, torch.float16)
    assert fused._hidden_pack(state, torch.float16) is pack
    assert fused._out_pack(state, torch.float16) is fused._out_pack(state, torch.float16)
    assert pack.weights.shape == (2, 32, 32) and pack.weights.dtype == torch.float16
    for layer, (w, b) in enumerate(state.hidden):
        torch.testing.assert_close(pack.weights[layer, :24, :24], w.T.half())
        torch.testing.assert_close(pack.biases[layer, :24], b)
    assert not pack.weights[:, 24:].any() and not pack.weights[:, :, 24:].any() and not pack.biases[:, 24:].any()
    out = fused._out_pack(state, torch.float16)
    assert out.weights.shape == (32, fused.OUT_PAD) and not out.weights[:, 3:].any() and not out.weights[24:].any()
    torch.testing.assert_close(out.weights[:24, :3], state.out_w.T.half())
    # a morph makes new tensors each frame: a new pack; other units over the same tensors: a new pack too
    other = net(NetSpec(width=24, depth=3, activations=("tanh",)), seed=8)
    assert fused._hidden_pack(state.blend(other, 0.5), torch.float16) is not pack
    units = (("sin", "cos", 0.25), ("cos", "cos", 0.0), ("tanh", "gaussian", 1.0))
    relabelled = fused._hidden_pack(NetState(**{**state_fields(state), "units": units}), torch.float16)
    assert relabelled is not pack
    assert (relabelled.act_a, relabelled.act_b, relabelled.mix) == (0 | 1 << 2 | 2 << 4, 1, 1)
    assert relabelled.amounts.tolist() == [0.25, 0.0, 0.0]
    assert fused._hidden_pack(state, torch.bfloat16).weights.dtype == torch.bfloat16
    hidden, out = fused._hidden_pack(state, torch.float16), fused._out_pack(state, torch.float16)
    fused.forget_packs(output_only=True)
    assert fused._hidden_pack(state, torch.float16) is hidden and fused._out_pack(state, torch.float16) is not out
    fused.forget_packs()
    assert fused._hidden_pack(state, torch.float16) is not hidden
