"""`vj live --output ndi` into a receiver process on this machine, as Resolume or OBS would take it: the
frames sent after it connected, at the asked size, the pixels the show recorded, with the input audio; a
receiver that hangs for 3 s costs the show no frames; NDI's own compression error, on known pictures; and
a render streamed in real time. NDI finds sources on loopback through an ``ndi-config.v1.json`` in
NDI_CONFIG_DIR (mDNS finds nothing in a container)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.live.test_record import DEMO, FPS, decoded_frames, start_show
from vj.record.showlog import read_show_log

pytest.importorskip("NDIlib", reason="ndi-python is not installed (it is in the test extra)")

SIZE = (640, 360)


@pytest.fixture
def ndi_config(tmp_path) -> dict:
    """The environment that makes NDI look for sources on this machine only."""
    config = tmp_path / "ndi"
    config.mkdir()
    (config / "ndi-config.v1.json").write_text(json.dumps({"ndi": {"networks": {"ips": "127.0.0.1"}}}))
    return {"NDI_CONFIG_DIR": str(config)}


@pytest.fixture
def ndi_env(live_env, ndi_config) -> dict:
    return {**live_env, **ndi_config}


def start_receiver(env: dict, name: str, out: Path, *options: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(Path(__file__).with_name("ndi_receiver.py")), name, str(out), *options],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(vj: subprocess.Popen, receiver: subprocess.Popen, player: subprocess.Popen, out: Path) -> tuple[dict, dict]:
    """Wait for the show and the receiver; their stats (the receiver's: see ndi_receiver.py)."""
    _, err = vj.communicate(timeout=120)
    player.terminate()
    _, receiver_err = receiver.communicate(timeout=60)
    assert vj.returncode == 0 and "Traceback" not in err, err
    assert receiver.returncode == 0, receiver_err
    return json.loads(out.with_suffix(".stats.json").read_text()), json.loads(Path(f"{out}.json").read_text())


def seen_sample(timecode: int) -> int:
    """The sample position a frame's NDI timecode (100 ns units) was made from."""
    return round(int(timecode) * 48000 / 10_000_000)


def presented(trace_path: Path) -> dict[int, float]:
    """When the frame seen at each sample position was presented (monotonic)."""
    with trace_path.open() as trace:
        return {int(row["seen"]): float(row["t"]) for row in csv.DictReader(trace) if row["seen"]}


def test_ndi_compression_moves_a_pixel_by_a_few_levels(ndi_config, tmp_path):
    """NDI's own compression error, alone: known pictures (smooth colour, as the looks are, each shifted
    along) sent through the output as the show sends them, compared with what a receiver decodes. About 3
    levels was measured here (SpeedHQ halves the colour's horizontal resolution); the next picture is ~18."""
    from fractions import Fraction

    from vj.output.ndi import NdiSink
    from vj.output.rig import OutputFormat, OutputFrame

    width, height = SIZE
    y, x = np.mgrid[0:height, 0:width] / 40.0
    sink = NdiSink("vjcodec", OutputFormat(SIZE, Fraction(FPS), 48000, 2))
    receiver = start_receiver({**os.environ, **ndi_config}, "vjcodec", tmp_path / "recv", "--keep", "5")

    def picture(k: int) -> np.ndarray:
        rgb = np.stack([np.sin(x + k / 3), np.cos(y - k / 5), np.sin(x * y / 8 + k / 7)], axis=-1)
        return np.dstack([((rgb + 1) * 127.5).astype(np.uint8), np.full((height, width), 255, np.uint8)])

    try:
        deadline = time.monotonic() + 60
        while not sink.receivers() and time.monotonic() < deadline:
            time.sleep(0.1)
        for k in range(60):
            sink.send(OutputFrame(picture(k), np.zeros((0, 2), np.float32), k * 10_000_000 // FPS))
            time.sleep(1 / FPS)
    finally:
        sink.close()
    _, err = receiver.communicate(timeout=60)
    assert receiver.returncode == 0, err
    kept = np.load(tmp_path / "recv.npz")
    errors, neighbours = [], []
    for timecode in kept.files:
        k = round(int(timecode) * FPS / 10_000_000)
        got = kept[timecode][..., :3].astype(np.int16)
        errors.append(float(np.abs(got - picture(k)[..., :3]).mean()))
        neighbours.append(float(np.abs(got - picture(k + 1)[..., :3]).mean()))
    figures = {"compared": len(errors), "error_mean": round(float(np.mean(errors)), 2),
               "error_worst": round(max(errors), 2), "next_picture": round(float(np.mean(neighbours)), 2)}
    print(json.dumps(figures))
    assert len(errors) >= 5 and figures["error_worst"] < 4.0 and figures["next_picture"] > 3 * figures["error_worst"], figures


def test_an_ndi_receiver_gets_the_show_as_it_was_recorded(ndi_env, jack, tmp_path):
    show, out, trace_path = tmp_path / "show.mp4", tmp_path / "recv", tmp_path / "trace.csv"
    vj, player = start_show(ndi_env, jack, tmp_path, "--duration", "14", "--output", "ndi:vjtest",
                            "--output-res", "x".join(map(str, SIZE)), "--record", show, "--record-res",
                            "x".join(map(str, SIZE)), "--stats", out.with_suffix(".stats.json"), "--trace", trace_path)
    receiver = start_receiver(ndi_env, "vjtest", out, "--keep", "10")
    stats, got = finish(vj, receiver, player, out)

    output = stats["outputs"]["outputs"][0]
    frames = got["frames"]
    shown = presented(trace_path)
    latency = [arrived - shown[seen] for arrived, timecode, _, _ in frames
               if (seen := seen_sample(timecode)) in shown]
    kept = np.load(f"{out}.npz")
    recorded = decoded_frames(show)
    # The recording's slot for each frame, from its log: within a frame of the timecode, not always its rounding.
    slot_of = {frame.seen: frame.rec for frame in read_show_log(show.with_suffix(".vjlog")).frames}
    match, neighbour = [], []
    for timecode in kept.files:
        slot = slot_of.get(seen_sample(timecode))
        if slot in recorded and slot + 1 in recorded:
            pixels = kept[timecode][..., :3].astype(np.int16)
            match.append(float(np.abs(pixels - recorded[slot]).mean()))
            neighbour.append(float(np.abs(pixels - recorded[slot + 1]).mean()))
    figures = {"live_fps": stats["fps_median"], "sent": output["sent"], "delivered": output["delivered"],
               "dropped": output["dropped"], "received": len(frames), "audio_s": got["audio_samples"] / 48000,
               "latency_ms_median": round(1000 * float(np.median(latency)), 1),
               "latency_ms_p95": round(1000 * float(np.percentile(latency, 95)), 1),
               "match_mean": round(float(np.mean(match)), 2), "match_worst": round(max(match), 2),
               "neighbour_mean": round(float(np.mean(neighbour)), 2), "compared": len(match)}
    print(json.dumps(figures))
    assert output["delivered"] >= 5 * FPS and len(frames) >= 0.9 * output["delivered"], figures
    assert {(w, h) for _, _, w, h in frames} == {SIZE}
    assert figures["audio_s"] >= 0.8 * len(frames) / FPS, "the input audio goes along"
    assert len(latency) >= 0.9 * len(frames), "every frame's timecode is a frame the show presented"
    # NDI's codec and H.264 (the recording) each move a pixel by ~2 levels; the next frame is far further.
    assert len(match) >= 5 and figures["match_mean"] < 6.0 and figures["neighbour_mean"] > 2 * figures["match_mean"], figures


def test_a_receiver_that_hangs_costs_the_show_nothing(ndi_env, jack, tmp_path):
    out, trace_path = tmp_path / "recv", tmp_path / "trace.csv"
    vj, player = start_show(ndi_env, jack, tmp_path, "--duration", "14", "--output", "ndi:vjhang", "--output-res",
                            "x".join(map(str, SIZE)), "--stats", out.with_suffix(".stats.json"), "--trace", trace_path)
    receiver = start_receiver(ndi_env, "vjhang", out, "--pause-at", "3", "--pause-for", "3")
    stats, got = finish(vj, receiver, player, out)

    paused_from, paused_to = got["paused"]
    times = np.array(sorted(shown for shown in presented(trace_path).values()))
    fps_paused = np.count_nonzero((times >= paused_from) & (times < paused_to)) / (paused_to - paused_from)
    fps_before = np.count_nonzero((times >= paused_from - 3) & (times < paused_from)) / 3
    after = [arrived for arrived, *_ in got["frames"] if arrived > paused_to + 0.5]
    output = stats["outputs"]["outputs"][0]
    figures = {"fps_before": fps_before, "fps_paused": fps_paused, "frames_after": len(after),
               "vj_dropped": output["dropped"], "ndi_dropped": got["ndi_dropped_video"], "received": len(got["frames"])}
    print(json.dumps(figures))
    assert fps_paused >= 0.9 * fps_before > 20, figures
    assert len(after) >= 2 * FPS, "the stream resumes"
    assert output["dropped"] + got["ndi_dropped_video"] >= 1.5 * FPS, "the frames the hang missed are counted"


def test_a_render_streams_to_ndi_in_real_time_while_it_writes_the_file(ndi_config, tmp_path):
    env, out, video = {**os.environ, **ndi_config}, tmp_path / "recv", tmp_path / "render.mp4"
    receiver = start_receiver(env, "vjrender", out, "--keep", "1000")
    render = subprocess.run([sys.executable, "-m", "vj", "render", DEMO, "-o", video, "--output", "ndi:vjrender",
                             "--res", "x".join(map(str, SIZE)), "--quality", "draft", "--duration", "8", "--quiet"],
                            env=env, capture_output=True, text=True, timeout=300)
    _, receiver_err = receiver.communicate(timeout=60)
    assert render.returncode == 0, render.stderr
    assert receiver.returncode == 0, receiver_err

    frames = json.loads(Path(f"{out}.json").read_text())["frames"]
    arrived = np.array([frame[0] for frame in frames])
    timecodes = np.array([frame[1] for frame in frames]) / 10_000_000
    figures = {"received": len(frames), "arrival_span_s": round(float(np.ptp(arrived)), 2),
               "timecode_span_s": round(float(np.ptp(timecodes)), 2)}
    print(json.dumps(figures))
    assert len(frames) >= 0.9 * (np.ptp(timecodes) * FPS + 1) and np.ptp(timecodes) >= 4.0, figures
    assert figures["arrival_span_s"] >= 0.9 * figures["timecode_span_s"], "streamed faster than real time"
    assert (np.diff(timecodes) > 0).all() and {(w, h) for *_, w, h in frames} == {SIZE}
    assert sorted(decoded_frames(video)) == list(range(8 * FPS)), "the file is written as without --output"
