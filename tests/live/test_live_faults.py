"""`vj live` when things go wrong: the audio server dies and returns, no display, no audio device."""

from __future__ import annotations

import csv
import json
import time

import numpy as np

from tests.live.conftest import start_vj


def test_live_survives_the_audio_server_dying_and_reattaches(live_env, jack, tmp_path):
    stats_path, trace_path = tmp_path / "stats.json", tmp_path / "trace.csv"
    vj = start_vj(live_env, "live", "--duration", "13", "--stats", stats_path, "--trace", trace_path)
    jack.wait_for_port("vj:in_0")
    time.sleep(3.0)
    killed = time.monotonic()
    jack.kill()
    time.sleep(2.5)
    back = jack.start()
    out, err = vj.communicate(timeout=60)
    assert vj.returncode == 0, err
    assert "Traceback" not in err

    stats = json.loads(stats_path.read_text())
    events = stats["audio"]["events"]
    print(json.dumps(events), stats["fps_median"], stats["dropped_frames"])
    assert [e["event"] for e in events] == ["attached", "lost", "reattached"]
    started = stats["started_monotonic"]
    lost_at, back_at = started + events[1]["t"], started + events[2]["t"]
    print(f"loss noticed after {lost_at - killed:.2f} s, re-attached {back_at - back:.2f} s after the server returned")
    assert killed < lost_at < killed + 1.5
    assert back < back_at < back + 2.0  # re-attached within 2 s of the server's return

    rows = list(csv.DictReader(trace_path.open()))
    t = np.array([float(r["t"]) for r in rows])
    state = np.array([r["input"] for r in rows])
    # The picture never stopped: frames kept coming through the loss, and the trace shows it.
    assert np.diff(t).max() < 0.25, np.diff(t).max()
    assert t[0] < killed and t[-1] > back + 3.0
    assert set(state[(t > lost_at + 0.1) & (t < back_at - 0.1)]) <= {"lost", "searching"}
    assert set(state[t > back_at + 0.1]) == {"streaming"}
    assert stats["fps_median"] >= 55.0


def test_live_without_a_display_says_so_and_suggests_render(jack):
    env = {k: v for k, v in jack.env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    vj = start_vj(env, "live", "--duration", "1")
    out, err = vj.communicate(timeout=60)
    assert vj.returncode == 2
    assert err.count("\n") == 1 and err.startswith("vj: error: no display") and "vj render" in err, err


def test_live_without_an_audio_device_says_so_and_points_at_vj_devices(display, tmp_path):
    from tests.live.conftest import JackServer

    nobody = JackServer("vjtest-not-running")  # clients look for a server that is not there
    vj = start_vj({**nobody.env, "DISPLAY": display}, "live", "--duration", "1")
    out, err = vj.communicate(timeout=60)
    assert vj.returncode == 2
    assert err.count("\n") == 1 and "no audio input" in err and "vj devices" in err, err


def test_live_with_an_unknown_input_name_lists_nothing_and_exits(live_env):
    vj = start_vj(live_env, "live", "--input", "no such interface", "--duration", "1")
    out, err = vj.communicate(timeout=60)
    assert vj.returncode == 2
    assert "no audio input matches 'no such interface'" in err and "vj devices" in err, err


def test_devices_lists_the_jack_input_and_the_monitor(live_env):
    vj = start_vj(live_env, "devices")
    out, err = vj.communicate(timeout=60)
    assert vj.returncode == 0, err
    assert "system  [JACK Audio Connection Kit, 2 ch, 48 kHz]" in out
    assert "screen  1920x1080" in out
    assert "MIDI inputs" in out


def test_ctrl_c_and_sigterm_end_the_show_cleanly_with_stats(live_env, jack, tmp_path):
    import signal

    for number, sent in enumerate((signal.SIGINT, signal.SIGTERM)):
        stats_path, trace_path = tmp_path / f"stats{number}.json", tmp_path / f"trace{number}.csv"
        vj = start_vj(live_env, "live", "--stats", stats_path, "--trace", trace_path)
        deadline = time.monotonic() + 60
        while not (trace_path.exists() and trace_path.read_text().count("\n") > 12):  # the show is on
            assert time.monotonic() < deadline and vj.poll() is None, "the show did not start"
            time.sleep(0.1)
        vj.send_signal(sent)
        out, err = vj.communicate(timeout=30)
        assert vj.returncode == 0, err
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, err  # nor from the capture child
        assert json.loads(stats_path.read_text())["frames"] > 10
    assert "vj:in_0" not in jack.ports()  # the capture child went with it
