"""Shared fixtures: a real headless GL context, short synthesized audio files, and the vj command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vj.audio.synth import click_track, write_audio
from vj.engine.device import load_triton_first
from vj.timebase import ANALYSIS_RATE

load_triton_first()  # before any test opens a GL context (see its docstring)


@pytest.fixture(scope="session", autouse=True)
def own_config_home(tmp_path_factory):
    """vj keeps the performer's learned MIDI map under XDG_CONFIG_HOME: tests (and the vj processes they
    start) get an empty one of their own, never the machine's."""
    previous = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config"))
    yield
    if previous is None:
        os.environ.pop("XDG_CONFIG_HOME")
    else:
        os.environ["XDG_CONFIG_HOME"] = previous


@pytest.fixture(scope="session")
def gl_ctx():
    """One real EGL context (llvmpipe on a CPU machine) for every GL test in the session."""
    from vj.look.headless import headless_context

    ctx = headless_context()
    yield ctx
    ctx.release()


@pytest.fixture(scope="session")
def click_wav(tmp_path_factory) -> Path:
    """Six seconds of clicks at 120 BPM, the first at 0.25 s (off the 30 fps frame grid), over a noise floor."""
    path = tmp_path_factory.mktemp("audio") / "click.wav"
    write_audio(path, click_track(6.0, 120.0, offset_s=0.25))
    return path


@pytest.fixture(scope="session")
def music(tmp_path_factory) -> np.ndarray:
    """Twelve seconds of the demo track's synthesizer from its first drop (stereo, 48 kHz)."""
    from vj.audio.synth import demo_track

    track = demo_track()
    start = len(track) // 3
    return track[start : start + 12 * ANALYSIS_RATE]


def sigint_at_default() -> None:
    """A child's SIGINT back at its default (``preexec_fn``): a shell that starts pytest in the background
    hands it down ignored, and a user's Ctrl-C is not."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_vj(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the real `vj` command line in a child process, capturing its output."""
    return subprocess.run([sys.executable, "-m", "vj", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)
