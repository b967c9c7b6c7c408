"""The performer's keys, on a real window (Xvfb) and a real input (JACK), in this process."""

from __future__ import annotations

import time

import numpy as np
import pytest

from vj.live.input import LiveInput
from vj.live.session import LiveSession
from vj.live.settings import LiveSettings
from vj.live.window import Window


@pytest.fixture
def session(live_env, monkeypatch):
    for key in ("DISPLAY", "JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER"):
        monkeypatch.setenv(key, live_env[key])
    live = LiveSession(LiveSettings())
    window = Window("vj test", (640, 360))
    live.setup(window)
    live.audio = LiveInput(None)
    live.audio.open()
    yield live
    live.audio.close()
    window.close()


def test_keys_change_the_live_parameters_through_the_registry(session):
    params, live = session.params, session.live
    seed, engine = live.seed, session.pipeline.engine
    session.handle_key("r", 0.0)
    session._follow_triggers()  # the next frame does what the key asked
    assert live.seed == seed + 1 and session.pipeline.engine is not engine
    assert session.pipeline.engine.seed == seed + 1
    assert params.targets["evolution"] == 0.5
    session.handle_key("[", 0.0)
    assert params.targets["evolution"] == 0.35 and params.writers["evolution"] == "keys"
    for _ in range(2):
        session.handle_key("]", 0.0)
    assert params.targets["evolution"] == 0.75
    session.handle_key(" ", 0.0)
    session.handle_key("h", 0.0)
    assert params["freeze"] == 1.0 and not live.hud
    start = session.presets.index("default")
    params.set("transition", 0)  # cut, so the switch lands at the next frame
    session.handle_key("p", 0.0)  # the next preset: its net and its parameter values
    arrive(session)
    assert live.preset_name == session.presets[start + 1] and params["preset"] == start + 1
    assert session.pipeline.engine.seed == live.seed != seed + 1
    session.handle_key("P", 0.0)
    arrive(session)
    assert live.preset_name == "default"
    for _ in range(3):  # tap along at 120 BPM on the audio clock
        time.sleep(0.5)
        session.audio.read()
        session.handle_key("t", 0.0)
    assert 100.0 < live.tap_bpm < 145.0 and session.controls.beats.source == "tap"
    session.handle_key("T", 0.0)
    assert live.tap_bpm == 0.0


def arrive(session) -> None:
    """The next frame asks for the preset, which loads in the background; then draw the frame it lands in."""
    session._follow_triggers()
    session.pipeline.wait_for_loads(30)
    if session.picture is None:
        session._resized()
    session._warm_up()
    session._follow_triggers()


def test_s_saves_what_is_on_screen_as_a_new_preset_and_never_overwrites(session, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    from vj.presets import load_preset, user_preset_dir

    params = session.params
    params.set("kaleidoscope", 6)
    params.advance(12.0)  # the walk has moved on: the saved net is pinned where it is now
    session._resized()
    session._warm_up()
    session.handle_key("s", 0.0)
    session.handle_key("s", 0.0)
    session.saver.wait()
    saved = sorted(user_preset_dir().glob("*.toml"))
    assert [p.name for p in saved] == ["default-001.toml", "default-002.toml"], session.saver.message
    assert "saved preset default-002" in session.saver.message
    preset = load_preset("default-001")
    assert dict(preset.params)["kaleidoscope"] == 6 and preset.engine.weights == saved[0].with_suffix(".npz")
    from vj.render.loader import build_net
    reopened = build_net(preset, (session.pipeline.engine.device, session.pipeline.engine.dtype))
    inputs = np.zeros(9, np.float32)
    np.testing.assert_allclose(reopened.render(inputs, 0.0, 32, 18),
                               session.pipeline.engine.render(inputs, session.pipeline.preset_walk, 32, 18), atol=1e-5)


def test_learn_is_armed_by_key_and_moves_between_parameters(session):
    learn = session.controls.router.learn
    session.handle_key("l", 0.0)
    assert learn.param == "zoom"
    session.handle_key("down", 0.0)
    assert learn.param == "rotation"
    session.handle_key("escape", 0.0)  # Esc cancels learn; it does not quit
    assert learn.param is None and not session._quit


def test_quit_asks_twice_when_fullscreen(session):
    session.handle_key("f", 0.0)
    assert session.window.fullscreen and session.live.fullscreen
    assert session.window.size == (1920, 1080)
    session.handle_key("q", 10.0)
    assert not session._quit
    session.handle_key("escape", 11.0)
    assert session._quit
    session._quit = False
    session.handle_key("f", 20.0)
    assert not session.window.fullscreen
    session.handle_key("q", 30.0)
    assert session._quit
