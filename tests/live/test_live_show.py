"""`vj live` end to end under Xvfb with a JACK dummy server: clicks in through JACK, picture out."""

from __future__ import annotations

import csv
import json
import time

import numpy as np

from tests.live.conftest import start_player, start_vj
from vj.audio.synth import click_times, click_track, write_audio

BPM = 120.0


def kick_clicks(duration_s: float) -> np.ndarray:
    """Clicks with a kick under each (a 55 Hz thump), so bass and onsets both move on every beat."""
    out = click_track(duration_s, BPM)
    t = np.arange(int(0.15 * 48000)) / 48000
    kick = 0.7 * np.sin(2 * np.pi * 55 * t) * np.exp(-t / 0.05)
    for onset in click_times(duration_s, BPM):
        i = int(round(onset * 48000))
        out[i : i + len(kick)] += kick[: len(out) - i]
    return out


def read_trace(path) -> dict[str, np.ndarray]:
    rows = list(csv.DictReader(path.open()))
    words = ("input", "preset", "hud")
    return {key: np.array([float(r[key]) if r[key] not in ("", None) else np.nan for r in rows])
            for key in rows[0] if key not in words} | {key: np.array([r[key] for r in rows]) for key in words}


def test_live_reacts_to_clicks_played_through_jack(live_env, jack, tmp_path):
    audio = tmp_path / "clicks.wav"
    write_audio(audio, kick_clicks(9.0))
    stats_path, trace_path, log_path = tmp_path / "stats.json", tmp_path / "trace.csv", tmp_path / "player.json"
    vj = start_vj(live_env, "live", "--input", "system", "--duration", "14", "--stats", stats_path,
                  "--trace", trace_path)
    jack.wait_for_port("vj:in_0")
    time.sleep(2.5)  # frames without audio first: the quiet baseline below (the input opens before warm-up)
    player = start_player(live_env, audio, log_path)
    jack.wait_for_port("vjplayer:out_0")
    for port in ("vj:in_0", "vj:in_1"):
        jack.connect("vjplayer:out_0", port)
    connected = time.monotonic()
    assert player.wait(timeout=60) == 0, player.stderr.read()
    out, err = vj.communicate(timeout=60)
    assert vj.returncode == 0, err
    assert "Traceback" not in err

    stats = json.loads(stats_path.read_text())
    trace = read_trace(trace_path)
    print(json.dumps({k: stats[k] for k in ("fps_median", "frame_time_ms", "work_time_ms", "dropped_frames",
                                            "audio_to_frame_latency_ms", "internal_resolution")}))
    assert stats["fps_median"] >= 55.0
    assert stats["frame_time_ms"]["p99"] is not None
    latency = stats["audio_to_frame_latency_ms"]
    assert 1.0 < latency["p50"] < 100.0, latency  # a 512-sample JACK period is 10.7 ms; a frame 16.7 ms
    assert stats["audio"]["blocks"] > 500 and stats["audio"]["input_overflows"] >= 0
    assert stats["audio"]["device"]["hostapi"].startswith("JACK")
    assert {"seed", "evolution", "freeze", "av_offset_ms", "tap_bpm"} <= set(stats["params"])
    assert stats["internal_resolution"] and stats["frames"] - 10 <= len(trace["t"]) <= stats["frames"]

    # Every click that arrived while connected (after a second for the gain to settle) moved the picture:
    # the brightness right after it rises well above the brightness just before it.
    log = np.array(json.loads(log_path.read_text()))
    block_start, block_time = log[:, 0], log[:, 1]
    clicks = []
    for onset in click_times(9.0, BPM):
        i = np.searchsorted(block_start, onset * 48000, side="right") - 1
        clicks.append(block_time[i] + (onset * 48000 - block_start[i]) / 48000)
    clicks = [c for c in clicks if c > connected + 1.0 and c < trace["t"][-1] - 0.3]
    assert len(clicks) >= 10
    t, luma = trace["t"], trace["luma"]
    rises = []
    for click in clicks:
        before = luma[(t > click - 0.2) & (t < click - 0.08)].min()
        after = luma[(t > click - 0.05) & (t < click + 0.15)].max()
        rises.append(after - before)
    rises = np.array(rises)
    quiet = np.abs(np.diff(luma[(t > connected - 3.0) & (t < connected - 0.5)])).max()  # no audio yet
    print("rises", np.round(rises, 3), "quiet step", round(float(quiet), 4))
    assert (rises > 3 * quiet).mean() >= 0.9, (rises, quiet)

    # Predictive beat: once the tracker has locked (the last half of the clicks), the beat flash is on
    # screen within a frame or so of the click, not an analysis hop plus the pipeline's latency after it
    # (which would be 50 ms or more here).
    lags = []
    for click in clicks[len(clicks) // 2 :]:
        near = (t > click - 0.1) & (t < click + 0.2)
        lags.append(t[near][np.argmax(trace["beat"][near])] - click)
    print("beat flash lag (ms)", np.round(1000 * np.array(lags)))
    assert -0.035 < float(np.median(lags)) < 0.025, lags
