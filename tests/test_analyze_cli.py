"""`vj analyze` and `vj bench` through the command line: the documents they write, checked field by field."""

from __future__ import annotations

import json
import math
from pathlib import Path

import av
import numpy as np
import pytest

from vj.audio.synth import click_times
from vj.cli import main

FEATURES = {"bass", "mid", "treble", "centroid", "rolloff", "flux", "time", "beat", "rms", "beat_phase", "onset"}
CLICKS = click_times(6.0, 120.0, offset_s=0.25)  # what the click_wav fixture holds


@pytest.fixture(scope="module")
def analysis(click_wav: Path, tmp_path_factory) -> tuple[dict, Path, str]:
    out = tmp_path_factory.mktemp("analyze")
    argv = ["analyze", str(click_wav), "--fps", "60", "--json", str(out / "a.json"), "--plot", str(out / "a.png"),
            "--quiet"]
    assert main(argv) == 0
    return json.loads((out / "a.json").read_text()), out / "a.png", str(click_wav)


def test_json_layout(analysis) -> None:
    doc = analysis[0]
    assert set(doc) == {"fps", "sample_rate", "duration_s", "features", "beats", "tempo_bpm"}
    assert (doc["fps"], doc["sample_rate"]) == (60, 48_000)
    assert doc["duration_s"] == pytest.approx(6.0, abs=1e-6)
    frames = math.ceil(doc["duration_s"] * doc["fps"])
    assert frames == 360
    assert set(doc["features"]) == FEATURES
    for name, values in doc["features"].items():
        assert len(values) == frames, name
        assert all(isinstance(v, float) and math.isfinite(v) for v in values), name
    assert len(doc["tempo_bpm"]) == frames
    # the time column is the frame's start
    np.testing.assert_allclose(doc["features"]["time"], np.arange(frames) / 60, atol=1e-5)


def test_tempo_and_beats(analysis) -> None:
    doc = analysis[0]
    tempo = np.array(doc["tempo_bpm"])
    assert np.all(tempo >= 0)
    assert tempo[-1] == pytest.approx(120.0, abs=1.0)
    assert np.all(np.abs(tempo[-60:] - 120.0) < 1.0)  # steady over the last second, not just the last frame
    beats = doc["beats"]
    assert beats, "no beats on a 120 BPM click track"
    assert set(beats[0]) == {"t", "known_at"}
    for beat in beats:
        assert beat["known_at"] <= beat["t"], beat  # committed ahead: the picture can fire on the beat
    times = np.array([b["t"] for b in beats])
    assert np.all(np.diff(times) > 0)
    late = times[times >= 3.0]
    clicks = CLICKS[CLICKS >= 3.0]
    # one beat per click after the first 3 s, each within 35 ms of it
    assert len(late) == len(clicks), (late, clicks)
    np.testing.assert_allclose(late, clicks, atol=0.035)


def test_plot_is_a_picture(analysis) -> None:
    with av.open(str(analysis[1])) as container:
        (frame,) = list(container.decode(video=0))
    image = frame.to_ndarray(format="rgb24")
    assert image.shape[0] >= 300 and image.shape[1] >= 400
    assert image.std() > 20  # not a blank canvas
    colours = np.unique(image.reshape(-1, 3)[::7], axis=0)
    assert len(colours) > 50  # axes, text, waveform and coloured curves, not a flat fill


def test_analyze_prints_what_it_wrote(click_wav: Path, tmp_path: Path, capsys) -> None:
    capsys.readouterr()
    assert main(["analyze", str(click_wav), "--json", str(tmp_path / "deep" / "x.json"), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    (line,) = out.splitlines()
    assert str(tmp_path / "deep" / "x.json") in line and "6.0 s" in line
    assert float(line.split("tempo ")[1].split(" BPM")[0]) == pytest.approx(120, rel=0.01)
    doc = json.loads((tmp_path / "deep" / "x.json").read_text())
    assert doc["fps"] == 60 and len(doc["tempo_bpm"]) == 360  # --fps defaults to 60
