"""The engine's precisions and ways of running: mixed bf16 keeps the picture, compiling changes nothing."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from vj.engine.cppn import CPPN, Canvas
from vj.engine.forward import TOLERANCE_DB, activate, bf16_native, psnr
from vj.engine.net import NetSpec
from vj.presets import load_preset
from vj.resources import shipped_names

FEATURES = np.array([0.8, 0.4, 0.2, 0.5, 0.6, 0.3, 0.1, 1.0, 0.7], np.float32) * 0.35


def _net(name: str, mixed: bool) -> CPPN:
    engine = load_preset(name).engine
    return CPPN(engine.net, seed=engine.seed, coord_scale=engine.coord_scale, output_gain=engine.output_gain,
                evolution=1.0, mixed=mixed)


@pytest.mark.parametrize("name", shipped_names("presets"))
def test_mixed_precision_keeps_every_shipped_presets_picture(name: str) -> None:
    """Calibrated at one input and t=0, the mixed net must hold the tolerance at other inputs and further
    along its walk too (the walk changes the first bias and the output layer)."""
    fp32, mixed = _net(name, mixed=False), _net(name, mixed=True)
    if not bf16_native():
        assert mixed.low_layers == 0
        return
    for t, scale in ((0.0, 1.0), (13.0, 0.5), (41.0, 2.0)):
        inputs = FEATURES * np.float32(scale)
        reference = fp32.render(inputs, t, 96, 54)
        assert psnr(mixed.render(inputs, t, 96, 54), reference) >= TOLERANCE_DB - 3.0, (name, t, mixed.low_layers)


@pytest.mark.skipif(not bf16_native(), reason="this CPU has no native bf16")
def test_bf16_throughout_would_not_keep_the_default_picture() -> None:
    """Why the calibration exists: every hidden layer in bf16 turns the default net's picture to grain."""
    net = _net("default", mixed=False)
    state = net.state(0.0)
    grainy = Canvas().render(replace(state, low_layers=len(state.hidden)), FEATURES, 96, 54)
    assert psnr(grainy, net.render(FEATURES, 0.0, 96, 54)) < TOLERANCE_DB - 6.0
    assert 0 < _net("default", mixed=True).low_layers < len(state.hidden)


def test_tanh_is_computed_within_2e_7_of_torchs() -> None:
    x = torch.linspace(-30.0, 30.0, 100_001)
    torch.testing.assert_close(activate("tanh", x.clone()), torch.tanh(x), atol=2e-7, rtol=0.0)


def test_a_blended_unit_is_exactly_each_end_at_0_and_1() -> None:
    a, b = CPPN(NetSpec(16, 3, ("sin",)), seed=1, mixed=False), CPPN(NetSpec(16, 3, ("tanh",)), seed=1, mixed=False)
    canvas = Canvas()
    sa, sb = a.state(0.0), b.state(0.0)
    np.testing.assert_array_equal(canvas.render(sa.blend(sb, 0.0), FEATURES, 32, 18), canvas.render(sa, FEATURES, 32, 18))
    np.testing.assert_allclose(canvas.render(sa.blend(sb, 1.0), FEATURES, 32, 18), canvas.render(sb, FEATURES, 32, 18),
                               atol=1e-6)


def test_the_compiled_path_draws_what_the_eager_path_draws() -> None:
    """torch.compile fuses bias, activation and casts; the picture stays (fp32 reassociation only), with a
    grid that is not a whole number of chunks and a blend in it."""
    net = CPPN(NetSpec(16, 3), seed=4, evolution=1.0, mixed=False)
    other = CPPN(NetSpec(16, 3, ("cos", "gaussian")), seed=5, mixed=False)
    eager, compiled = Canvas(chunk_pixels=512), Canvas(chunk_pixels=512, compiled=True)
    for state in (net.state(3.0), net.state(3.0).blend(other.state(0.0), 0.4)):
        np.testing.assert_allclose(compiled.render(state, FEATURES, 50, 30, 1.3, 0.4),
                                   eager.render(state, FEATURES, 50, 30, 1.3, 0.4), atol=1e-4)
