"""The parameter registry: curves, clamping, smoothing on picture time, integrated rates, triggers."""

from __future__ import annotations

import math

import pytest

from vj.control.params import Params, ParamSpec, curve_unit, curve_value
from vj.control.standard import show_params
from vj.errors import VJError
from vj.presets import load_preset

UNITS = [i / 20 for i in range(21)]


@pytest.fixture
def params() -> Params:
    return show_params(load_preset("default"), 4, 0)


@pytest.mark.parametrize("low, high", [(0.0, 1.0), (-0.5, 0.5), (0.0, 0.97)])
def test_linear_round_trip(low, high):
    assert [curve_unit("linear", curve_value("linear", u, low, high), low, high) for u in UNITS] == pytest.approx(UNITS)
    assert curve_value("linear", 0.5, low, high) == pytest.approx((low + high) / 2)


def test_log_curve_with_positive_range_is_geometric_and_round_trips():
    assert curve_value("log", 0.5, 0.25, 4.0) == pytest.approx(1.0)
    assert [curve_unit("log", curve_value("log", u, 0.25, 4.0), 0.25, 4.0) for u in UNITS] == pytest.approx(UNITS)


def test_log_curve_from_zero_reaches_both_ends_and_round_trips():
    assert curve_value("log", 0.0, 0.0, 5.0) == 0.0
    assert curve_value("log", 1.0, 0.0, 5.0) == pytest.approx(5.0)
    assert curve_value("log", 0.5, 0.0, 5.0) < 1.0  # a taper: the low half of travel is fine control
    assert [curve_unit("log", curve_value("log", u, 0.0, 5.0), 0.0, 5.0) for u in UNITS] == pytest.approx(UNITS)


def test_step_curve_gives_equal_travel_per_choice_and_round_trips():
    grid = [curve_value("step", i / 9000, 0, 8) for i in range(9001)]
    counts = [grid.count(float(k)) for k in range(9)]
    assert max(counts) - min(counts) <= 2 and sum(counts) == 9001
    assert [curve_value("step", curve_unit("step", k, 0, 8), 0, 8) for k in range(9)] == list(range(9))


def test_curves_clamp_the_knob_and_the_value():
    assert curve_value("linear", 1.5, 0.0, 2.0) == 2.0 and curve_value("linear", -1.0, 0.0, 2.0) == 0.0
    assert curve_unit("log", 100.0, 0.25, 4.0) == 1.0 and curve_unit("log", 0.0, 0.25, 4.0) == 0.0


def test_set_clamps_to_range_and_rounds_choices(params):
    assert params.set("zoom", 10.0) == 4.0
    assert params.set("brightness", -3.0) == 0.0
    assert params.set("palette", 2.6) == 3.0
    assert params.set("freeze", 0.7) == 1.0


def test_smoothing_moves_gradually_63_percent_after_one_time_constant(params):
    params.advance(0.0)
    params.set("zoom", 2.0)
    assert params["zoom"] == 1.0  # not yet: the next frame moves it
    params.advance(0.12)  # zoom's time constant
    assert params["zoom"] == pytest.approx(1.0 + (1 - math.exp(-1)) * 1.0)


def test_smoothing_never_overshoots(params):
    params.advance(0.0)
    params.set("brightness", 2.0)
    seen = []
    for frame in range(1, 60):
        params.advance(frame / 60)
        seen.append(params["brightness"])
    assert seen == sorted(seen) and max(seen) <= 2.0 and seen[-1] == pytest.approx(2.0, abs=1e-6)


@pytest.mark.parametrize("name, value", [("freeze", 1.0), ("palette", 5.0), ("preset", 2.0)])
def test_toggles_and_choices_are_not_smoothed(params, name, value):
    params.advance(0.0)
    params.set(name, value)
    assert params[name] == value


def test_a_trigger_is_seen_once(params):
    params.fire("reseed")
    assert params.fired("reseed") and not params.fired("reseed")
    assert params["reseed"] == 0.0 and params.targets["reseed"] == 0.0
    params.set("reseed", 0.2)
    assert not params.fired("reseed")


def test_integral_of_a_rate_stays_continuous_when_the_rate_changes(params):
    params.set_smoothing("evolution", 0.0)
    params.set("evolution", 0.5)
    params.advance(10.0)
    assert params.integrals["evolution"] == pytest.approx(5.0)
    params.set("evolution", 0.75)
    params.advance(12.0)
    assert params.integrals["evolution"] == pytest.approx(6.5)


def test_smoothed_integral_follows_frame_by_frame_within_tolerance(params):
    params.set("evolution", 0.5)
    params.settle()
    for frame in range(0, 601):
        params.advance(frame / 60)
        if frame == 600:
            params.set("evolution", 0.75)
    before = params.integrals["evolution"]
    for frame in range(601, 721):
        params.advance(frame / 60)
        assert params.integrals["evolution"] - before <= 0.75 / 60 + 1e-9  # no jump
        before = params.integrals["evolution"]
    assert params.integrals["evolution"] == pytest.approx(6.5, abs=0.1)


def test_first_advance_integrates_from_zero(params):
    rate = params["evolution"]
    params.advance(30.0)
    assert params.integrals["evolution"] == pytest.approx(30.0 * rate)


def test_time_going_back_adds_nothing(params):
    params.advance(5.0)
    total = params.integrals["evolution"]
    params.advance(4.0)
    assert params.integrals["evolution"] == total


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_ignored(params, bad):
    params.set("zoom", 2.0)
    assert params.set("zoom", bad) == 2.0 and params.targets["zoom"] == 2.0


def test_unknown_parameter_lists_the_names(params):
    with pytest.raises(VJError, match="no parameter named 'nope'.*zoom.*palette"):
        params.set("nope", 1.0)


def test_registering_a_name_twice_raises():
    params = Params([ParamSpec("zoom", 0.25, 4.0, 1.0, "log")])
    with pytest.raises(ValueError, match="twice"):
        params.register(ParamSpec("zoom", 0.0, 1.0, 0.0))


def test_bad_smoothing_time_is_refused(params):
    with pytest.raises(VJError, match="0..60"):
        params.set_smoothing("zoom", math.nan)


def test_settle_puts_every_value_at_its_target(params):
    params.set("zoom", 3.0)
    params.set("hue", 0.4)
    params.settle()
    assert params["zoom"] == 3.0 and params["hue"] == 0.4
