"""The CPPN: its shape, determinism, the fast path's equality with the naive one, and evolution."""

import math
import threading

import numpy as np
import pytest
import torch

from vj.engine.cppn import CPPN, Canvas, coordinate_grid
from vj.engine.device import select_device
from vj.engine.naive import NaiveCPPN
from vj.engine.net import NetSpec, init_weights, parse_net
from vj.errors import VJError

FEATURES = np.array([0.8, 0.4, 0.2, 0.5, 0.6, 0.3, 0.1, 1.0, 0.7], np.float32) * 0.35


def test_default_net_has_the_prototypes_84611_parameters():
    spec = NetSpec()
    assert (spec.width, spec.depth, spec.n_inputs, spec.n_outputs) == (128, 6, 12, 3)
    assert spec.parameter_count() == 84_611
    assert sum(w.size + b.size for w, b in init_weights(spec, seed=0)) == 84_611
    assert parse_net("32x4").parameter_count() == (12 * 32 + 32) + 3 * (32 * 32 + 32) + (32 * 3 + 3)


def test_init_is_xavier_uniform_gain_5_with_zero_biases():
    spec = NetSpec()
    for (w, b), (rows, cols) in zip(init_weights(spec, seed=3), spec.layer_shapes()):
        bound = 5.0 * np.sqrt(6.0 / (rows + cols))
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
        assert not b.any()


@pytest.mark.parametrize("text", ["12", "0x4", "128x", "axb", "5000x2"])
def test_bad_net_specs_are_user_errors(text):
    with pytest.raises(VJError, match="--net"):
        parse_net(text)


def test_same_seed_same_picture_other_seed_other_picture():
    spec = NetSpec(width=32, depth=4)
    a = CPPN(spec, seed=5).render(FEATURES, 1.0, 64, 36)
    b = CPPN(spec, seed=5).render(FEATURES, 1.0, 64, 36)
    c = CPPN(spec, seed=6).render(FEATURES, 1.0, 64, 36)
    assert a.shape == (36, 64, 3) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).mean() > 0.05


def test_folded_chunked_path_draws_what_the_naive_path_draws():
    """The per-frame bias fold, the camera folded into the first layer, grid cache and chunking change the
    speed, not the picture.

    fp32 rounding differs (addmm vs matmul + add, another summation order) and six gain-5 layers amplify
    it; 1e-3 in 0..1 output is a tenth of one 8-bit level.
    """
    engine = CPPN(NetSpec(), seed=2, evolution=0.5, coord_scale=0.35, output_gain=0.3, chunk_pixels=1000,
                  mixed=False)
    naive = NaiveCPPN(engine)
    for t, zoom, angle in ((0.0, 1.0, 0.0), (7.3, 1.12, 0.0), (2.0, 0.7, 2.1)):
        np.testing.assert_allclose(engine.render(FEATURES, t, 96, 54, zoom, angle),
                                   naive.render(FEATURES, t, 96, 54, zoom, angle), atol=1e-3)


def test_chunks_side_by_side_draw_the_picture_one_thread_draws():
    """A chunk's pixels do not depend on which thread drew it, or when: bit for bit, morphs included
    (a render split over machines relies on it)."""
    engine = CPPN(NetSpec(), seed=3, evolution=0.5, coord_scale=0.35, chunk_pixels=500, mixed=True)
    other = CPPN(NetSpec(activations=("gaussian", "sin", "tanh")), seed=4, coord_scale=0.5)
    one, four = Canvas(chunk_pixels=500, workers=1), Canvas(chunk_pixels=500, workers=4)
    for state in (engine.state(2.0), engine.state(3.0).blend(other.state(1.0), 0.4)):
        together = four.render(state, FEATURES, 96, 54)
        assert np.array_equal(together, one.render(state, FEATURES, 96, 54))
    assert {t.name.split("_")[0] for t in threading.enumerate()} >= {"vj-engine"}, "the chunks ran on threads"


def test_a_half_turn_turns_the_picture_upside_down():
    engine = CPPN(NetSpec(width=16, depth=3), seed=3)
    upright, turned = engine.render(FEATURES, 0.0, 40, 20), engine.render(FEATURES, 0.0, 40, 20, angle=math.pi)
    np.testing.assert_allclose(turned, upright[::-1, ::-1], atol=1e-5)
    assert np.abs(turned - upright).mean() > 0.01


def test_the_grid_is_built_once_per_resolution():
    engine = CPPN(NetSpec(width=16, depth=2), seed=0)
    engine.render(FEATURES, 0.0, 40, 20)
    first = engine.canvas.grid(40, 20)
    engine.render(FEATURES, 1.0, 40, 20)
    assert engine.canvas.grid(40, 20) is first
    grid = coordinate_grid(40, 20)
    assert grid[:, 1].min() == pytest.approx(-0.95) and grid[:, 0].max() == pytest.approx(2 * 0.975)


def test_evolution_zero_is_still_and_evolution_drifts_smoothly():
    spec = NetSpec(width=32, depth=4)
    still = CPPN(spec, seed=1, evolution=0.0)
    np.testing.assert_array_equal(still.render(FEATURES, 0.0, 48, 27), still.render(FEATURES, 60.0, 48, 27))
    moving = CPPN(spec, seed=1, evolution=1.0)
    frame = lambda t: moving.render(FEATURES, t, 48, 27)  # noqa: E731
    np.testing.assert_array_equal(frame(0.0), still.render(FEATURES, 0.0, 48, 27))
    step = np.abs(frame(10.0) - frame(10.0 + 1 / 30)).mean()
    drift = np.abs(frame(10.0) - frame(20.0)).mean()
    assert drift > 0.03, "the look drifts over seconds"
    assert step < drift / 10, "but does not jump between frames"
    np.testing.assert_array_equal(frame(12.5), CPPN(spec, seed=1, evolution=1.0).render(FEATURES, 12.5, 48, 27))


def test_device_selection():
    assert select_device("cpu") == (torch.device("cpu"), torch.float32)
    with pytest.raises(VJError, match="auto, cuda or cpu"):
        select_device("tpu")
    if not torch.cuda.is_available():
        assert select_device("auto")[0].type == "cpu"
        with pytest.raises(VJError, match="no CUDA"):
            select_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fp16_matches_cpu_fp32():
    """FP16 keeps about 3 decimal digits; after six gain-5 layers a few pixels differ visibly, most do not."""
    cpu = CPPN(NetSpec(), seed=4, coord_scale=0.35, output_gain=0.3).render(FEATURES, 3.0, 128, 72)
    gpu = CPPN(NetSpec(), seed=4, device=torch.device("cuda"), dtype=torch.float16, coord_scale=0.35,
               output_gain=0.3).render(FEATURES, 3.0, 128, 72)
    assert gpu.dtype == np.float16
    assert np.median(np.abs(cpu - gpu.astype(np.float32))) < 0.01


def test_two_nets_blend_in_weight_space_from_one_picture_to_the_other():
    spec_a = NetSpec(width=24, depth=4, activations=("sin", "tanh"))
    spec_b = NetSpec(width=24, depth=4, activations=("gaussian", "tanh"))
    a = CPPN(spec_a, seed=1, coord_scale=0.3, output_gain=0.3)
    b = CPPN(spec_b, seed=2, coord_scale=0.6, output_gain=0.4, evolution=1.0)
    state_a, state_b = a.state(0.0), b.state(5.0)
    assert state_a.blends_with(state_b)
    canvas = a.canvas
    picture = lambda state: canvas.render(state, FEATURES, 48, 27)  # noqa: E731
    np.testing.assert_allclose(picture(state_a.blend(state_b, 0.0)), picture(state_a), atol=1e-6)
    np.testing.assert_allclose(picture(state_a.blend(state_b, 1.0)), b.render(FEATURES, 5.0, 48, 27), atol=1e-6)

    def largest_step(steps: int) -> float:
        path = [picture(state_a.blend(state_b, x)) for x in np.linspace(0.0, 1.0, steps + 1)]
        return max(np.abs(p - q).mean() for p, q in zip(path, path[1:]))

    # Continuous, not a cut: finer steps make smaller changes (a cut anywhere would not shrink). The path
    # is long (gain-5 hidden layers), which is why the show spreads a morph over beats.
    assert largest_step(160) < largest_step(20) / 3
    assert not state_a.blends_with(CPPN(NetSpec(width=16, depth=4), seed=1).state(0.0))


def test_pinned_weights_open_on_the_picture_the_walk_had_reached():
    spec = NetSpec(width=32, depth=4)
    walking = CPPN(spec, seed=3, evolution=1.0, coord_scale=0.4, output_gain=0.3)
    pinned = CPPN(spec, seed=3, coord_scale=0.4, output_gain=0.3, layers=walking.pinned_layers(17.0))
    np.testing.assert_allclose(pinned.render(FEATURES, 0.0, 48, 27), walking.render(FEATURES, 17.0, 48, 27),
                               atol=1e-5)


def test_input_gains_choose_which_features_the_net_hears():
    spec = NetSpec(width=32, depth=4)
    deaf = CPPN(spec, seed=4, input_gains=np.zeros(9, np.float32))
    np.testing.assert_array_equal(deaf.render(FEATURES, 0.0, 32, 18), deaf.render(FEATURES * 3, 0.0, 32, 18))
    bass_only = np.zeros(9, np.float32)
    bass_only[0] = 1.0
    listener = CPPN(spec, seed=4, input_gains=bass_only)
    louder_bass = FEATURES.copy()
    louder_bass[0] += 0.3
    assert np.abs(listener.render(louder_bass, 0.0, 32, 18) - listener.render(FEATURES, 0.0, 32, 18)).mean() > 1e-3
