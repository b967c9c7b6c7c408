"""`vj render --cluster`: a real local Ray runtime with two workers renders 20 s with trails and evolution
on in 4 s parts, and makes the frames one process makes, byte for byte; a worker killed mid-part costs a
retry, not a frame; an interrupted render resumes from its finished parts."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import run_vj, sigint_at_default
from tests.render.test_render import assert_frames_react_on_clicks, click_onsets, decode, frame_change
from vj.audio.synth import click_track, write_audio
from vj.render.offline import render_file
from vj.render.settings import RenderSettings

os.environ["RAY_ENABLE_AUTO_CONNECT"] = "0"  # a Ray call from the killer thread never starts a cluster of its own
ray = pytest.importorskip("ray", reason="the cluster extra (Ray) is part of the test install")

SECONDS, FPS = 20, Fraction(30)
CLICK_TIMES = 0.25 + 0.5 * np.arange(40)
LOOK = ("--res", "160x90", "--net", "16x3", "--evolution", "1", "--set", "feedback=0.9")
"""Trails at 0.9 (a pre-roll of 66 frames) and the evolution walk on: the two things that carry state."""


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """20 s of clicks at 120 BPM from 0.25 s, over a noise floor."""
    path = tmp_path_factory.mktemp("cluster") / "clicks.wav"
    write_audio(path, click_track(float(SECONDS), 120.0, offset_s=0.25))
    return path


def settings_for(clip: Path, output: Path) -> RenderSettings:
    return RenderSettings(audio=clip, output=output, width=160, height=90, fps=FPS, net="16x3", evolution=1.0,
                          params=(("feedback", 0.9),), frames_dir=output.with_suffix(""))


@pytest.fixture(scope="module")
def one_process(clip: Path) -> Path:
    """The frames of the render made in one process, without Ray: what every cluster render must equal."""
    settings = settings_for(clip, clip.parent / "one.mp4")
    render_file(settings, progress=False)
    assert "ray" not in sys.modules or sys.modules["ray"] is ray, "a plain render does not import Ray"
    return settings.frames_dir


def assert_same_frames(one: Path, other: Path) -> None:
    names = sorted(p.name for p in one.glob("*.png"))
    assert len(names) == SECONDS * FPS
    assert sorted(p.name for p in other.glob("*.png")) == names
    differing = [n for n in names if (one / n).read_bytes() != (other / n).read_bytes()]
    assert differing == [], f"{len(differing)} frames differ, first {differing[:3]}"


def assert_plays_in_sync(path: Path) -> None:
    video = decode(path)
    assert len(video.frames) == SECONDS * FPS and video.average_rate == FPS
    assert video.audio_duration_s == pytest.approx(SECONDS, abs=0.03)
    clicks = click_onsets(video.audio)
    np.testing.assert_allclose(clicks, CLICK_TIMES, atol=3 / 48000)
    assert_frames_react_on_clicks(frame_change(video.frames), clicks, 30)


def test_two_local_workers_render_the_frames_of_one_process(clip: Path, one_process: Path, tmp_path: Path) -> None:
    output = tmp_path / "cluster.mp4"
    result = run_vj("render", clip, "-o", output, "--frames", tmp_path / "cluster", *LOOK, "--quiet",
                    "--cluster", "local:2", "--chunk", "4", timeout=240)
    assert result.returncode == 0, result.stderr
    assert re.search(r"on 2 workers in 5 parts \(0 reused, 0 run again\)", result.stdout), result.stdout
    assert_same_frames(one_process, tmp_path / "cluster")
    assert_plays_in_sync(output)
    assert not output.with_name("cluster.mp4.parts").exists(), "the finished parts are cleared after the join"


def _kill_one_worker_while_it_renders(killed: list[int], stop: threading.Event) -> None:
    """A render task's worker, found through Ray's state API, killed once its part has kept frames (the
    render's progress board says how far each part is)."""
    from ray.util.state import list_tasks

    from vj.cluster.worker import BOARD_PREFIX

    while not stop.is_set() and not killed:
        time.sleep(0.2)
        if not ray.is_initialized():  # the render connects first (asking sooner would start a cluster)
            continue
        names = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True) if a["name"].startswith(BOARD_PREFIX)]
        if not names:
            continue
        rendering = {part.pid for part in ray.get(ray.get_actor(names[0]).read.remote()).values() if part.frames >= 10}
        try:
            tasks = list_tasks(filters=[("func_or_class_name", "=", "draw_part"), ("state", "=", "RUNNING")],
                               raise_on_missing_output=False)
        except Exception:  # noqa: BLE001 - the state API answers once the dashboard is up
            continue
        pids = [task.worker_pid for task in tasks if task.worker_pid in rendering]
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])


def test_a_worker_killed_mid_part_costs_a_retry_not_a_frame(clip: Path, one_process: Path, tmp_path: Path) -> None:
    from vj.cluster import render_on_cluster

    settings = settings_for(clip, tmp_path / "killed.mp4")
    killed: list[int] = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_one_worker_while_it_renders, args=(killed, stop), daemon=True)
    killer.start()
    try:
        result = render_on_cluster(settings, "local:2", part_s=4.0, progress=False)
    finally:
        stop.set()
        killer.join(timeout=10)
    assert killed, "no render task was seen running"
    assert result.complete and result.restarts >= 1
    assert_same_frames(one_process, settings.frames_dir)
    assert len(decode(settings.output).frames) == SECONDS * FPS


def test_an_interrupted_render_resumes_from_its_finished_parts(clip: Path, one_process: Path, tmp_path: Path) -> None:
    output = tmp_path / "resumed.mp4"
    command = [sys.executable, "-m", "vj", "render", str(clip), "-o", str(output), "--frames",
               str(tmp_path / "resumed"), *LOOK, "--quiet", "--cluster", "local:2", "--chunk", "4"]
    parts = output.with_name("resumed.mp4.parts")
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=sigint_at_default)
    deadline = time.monotonic() + 180
    while len(list(parts.glob("*.mp4"))) < 2 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    first.send_signal(signal.SIGINT)
    out, err = first.communicate(timeout=60)
    assert first.returncode == 130, out + err
    assert "run the same command again" in err and not output.exists()
    finished = len(list(parts.glob("*.mp4")))
    assert 2 <= finished < 5, "stopped part-way, with finished parts kept"

    again = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert again.returncode == 0, again.stderr
    assert f"{finished} of 5 parts were finished by an earlier run" in again.stderr
    assert f"({finished} reused," in again.stdout
    assert_same_frames(one_process, tmp_path / "resumed")
    assert len(decode(output).frames) == SECONDS * FPS and not parts.exists()


def test_cluster_mistakes_are_one_line(clip: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    unreachable = run_vj("render", clip, "-o", tmp_path / "x.mp4", "--cluster", "ray://127.0.0.1:9", timeout=30)
    assert unreachable.returncode == 2 and time.monotonic() - started < 10
    assert unreachable.stderr.count("\n") == 1 and "cannot reach 127.0.0.1:9" in unreachable.stderr
    for args, says in ((("--cluster", "local:0"), "--cluster"), (("--cluster", "remote"), "--cluster"),
                       (("--cluster", "ray://nohost"), "--cluster"), (("--cluster", "local", "--chunk", "0"), "--chunk"),
                       (("--chunk", "4"), "--cluster")):
        wrong = run_vj("render", clip, "-o", tmp_path / "x.mp4", *args)
        assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1 and says in wrong.stderr, args
    assert not (tmp_path / "x.mp4").exists()


def test_without_ray_the_cluster_says_how_to_install_it(clip: Path, tmp_path: Path) -> None:
    """A Python where `import ray` fails (a package of that name that raises, first on the path)."""
    shadow = tmp_path / "shadow" / "ray"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no ray here')\n")
    env = dict(os.environ, PYTHONPATH=f"{shadow.parent}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    result = subprocess.run([sys.executable, "-m", "vj", "render", str(clip), "-o", str(tmp_path / "x.mp4"),
                             "--cluster", "local:2"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "pip install 'vj[cluster]'" in result.stderr


def test_workers_share_the_cores_and_each_gpu() -> None:
    from vj.cluster.connect import workers_for

    assert workers_for(2, "cpu", {"CPU": 2.0}) == (2, {"num_cpus": 1}), "local:2 on two cores: one each"
    assert workers_for(3, "cuda", {"CPU": 16.0, "GPU": 1.0}) == (3, {"num_cpus": 5, "num_gpus": 1 / 3})
    assert workers_for(0, "cpu", {"CPU": 64.0}) == (64, {"num_cpus": 1}), "a CPU cluster: a worker per core"
    assert workers_for(0, "cuda", {"CPU": 128.0, "GPU": 8.0}) == (64, {"num_cpus": 2, "num_gpus": 1 / 8})
    assert workers_for(0, "cuda", {"CPU": 4.0, "GPU": 4.0}) == (4, {"num_cpus": 1, "num_gpus": 1.0}), "few cores: one a GPU"
