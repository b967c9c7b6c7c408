"""`vj bench`: every path measured in one run, against the naive path and this machine's roofline."""

from __future__ import annotations

import json

import pytest

from vj.cli import main
from vj import roofline
from vj.engine.net import NetSpec


def test_bench_json_rows_carry_every_path_and_the_roofline(capsys) -> None:
    capsys.readouterr()
    assert main(["bench", "--json", "--res", "64x36", "--net", "16x3", "--frames", "2", "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    rows = [json.loads(line) for line in out.splitlines()]
    assert {"naive", "fast", "compiled"} <= {row["path"] for row in rows}
    assert rows[0]["path"] == "naive" and rows[0]["ratio"] == 1.0
    for row in rows:
        assert {"path", "device", "precision", "net", "res", "mpx_s", "fps", "ms_frame", "ratio",
                "roofline_frac"} == row.keys()
        assert (row["device"], row["net"], row["res"]) == ("cpu", "16x3", "64x36")
        for key in ("mpx_s", "fps", "ms_frame", "ratio", "roofline_frac"):
            assert row[key] > 0, (key, row)
        # the columns are one measurement in three units (rounded: mpx_s to 4 decimals, ms to 0.01)
        assert row["mpx_s"] == pytest.approx(64 * 36 * row["fps"] / 1e6, rel=0.01, abs=1e-4)
        assert row["fps"] == pytest.approx(1000 / row["ms_frame"], rel=0.15)


def test_the_roofline_adds_up_the_nets_products_and_activations() -> None:
    """With every rate 1e9/s, a pixel of a 16x3 net takes its FLOPs plus its activations in ns."""
    spec = NetSpec(16, 3)
    shapes = roofline.engine_shapes(spec)
    assert shapes == [(16, 3), (16, 16), (16, 16), (3, 16)]
    rates = roofline.Throughput("cpu", 1, {(p, s): 1e9 for p in ("fp32", "bf16") for s in shapes},
                                {name: 1e9 for name in ("sin", "cos", "gaussian", "tanh")}, "fp32", 1)
    flops = sum(2 * rows * cols for rows, cols in shapes)
    assert roofline.seconds_per_pixel(spec, rates, ["fp32"] * len(shapes)) == pytest.approx((flops + 16 * 3) / 1e9)
    assert roofline.layer_precisions(spec, "fp32", 1) == ["fp32", "fp32", "bf16", "fp32"]
    faster = roofline.Throughput("cpu", 1, {**rates.matmul, **{("bf16", s): 2e9 for s in shapes}},
                                 rates.activation, "fp32", 1)
    assert roofline.roofline_mpx(spec, faster, ["fp32", "bf16", "bf16", "fp32"]) > roofline.roofline_mpx(
        spec, faster, ["fp32"] * 4)
