"""MIDI map files: the shipped maps, one-line errors for bad files, save/load, learn, where learn saves."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import vj.atomic
from vj.control.mapping import Binding, MidiMap, find_map, load_map, save_path, user_map_path
from vj.control.standard import show_params
from vj.errors import VJError
from vj.presets import load_preset
from vj.resources import resource_dir, shipped_names

HEAD = "schema = 1\n"


@pytest.fixture
def params():
    return show_params(load_preset("default"), 4, 0)


def write(tmp_path: Path, text: str, name: str = "map.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["generic", "nanokontrol2", "apcmini"])
def test_shipped_map_loads(params, name):
    midi_map = load_map(find_map(name), params)
    assert midi_map.bindings and all(b.param in params.specs for b in midi_map.bindings)


def test_every_shipped_map_is_tested():
    assert shipped_names("maps") == ["apcmini", "generic", "nanokontrol2"]


BIND = HEAD + "[[bind]]\n"
BAD = {
    "not TOML": ("schema = = 1\n", "not valid TOML"),
    "wrong schema": ("schema = 2\n", "schema 2 is not supported"),
    "unknown top-level key": (HEAD + "colour = 1\n", "unknown key"),
    "unknown param": (BIND + 'param = "nope"\ncc = 1\n', "bind #1: param 'nope'"),
    "two kinds": (BIND + 'param = "zoom"\ncc = 1\nnote = 2\n', "bind #1: give exactly one"),
    "cc 200": (BIND + 'param = "zoom"\ncc = 200\n', "bind #1: cc must be a number 0..127"),
    "channel 17": (BIND + 'param = "zoom"\ncc = 1\nchannel = 17\n', "bind #1: channel must be 1..16"),
    "value out of range": (BIND + 'param = "hue"\nnote = 1\nvalue = 2\n', "bind #1: value 2 is outside hue"),
    "weird curve": (BIND + 'param = "zoom"\ncc = 1\ncurve = "weird"\n', "bind #1: curve must be"),
    "log below 0": (BIND + 'param = "rotation"\ncc = 1\ncurve = "log"\n', "bind #1: a log curve"),
    "unknown smoothing": (HEAD + "[smoothing]\nnope = 0.2\n", "smoothing.nope: no such parameter"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_file_gives_one_line_naming_file_and_binding(tmp_path, params, case):
    text, expected = BAD[case]
    path = write(tmp_path, "# a comment\n" + text)
    with pytest.raises(VJError) as error:
        load_map(path, params)
    message = str(error.value)
    assert str(path) in message and expected in message and "\n" not in message


def test_second_binding_is_named_by_number(tmp_path, params):
    path = write(tmp_path, BIND + 'param = "zoom"\ncc = 1\n[[bind]]\nparam = "zoom"\ncc = 128\n')
    with pytest.raises(VJError, match="bind #2: cc"):
        load_map(path, params)


def test_missing_file_is_an_empty_map_only_when_allowed(tmp_path, params):
    midi_map = load_map(tmp_path / "new.toml", params, missing_ok=True)
    assert midi_map.bindings == [] and midi_map.path == tmp_path / "new.toml"
    with pytest.raises(VJError, match="cannot read"):
        load_map(tmp_path / "new.toml", params)


FULL = MidiMap(name="Mine", pickup=False, smoothing={"zoom": 0.2, "hue": 0.0}, bindings=[
    Binding("zoom", "cc14", 3, channel=2, minimum=0.5, maximum=2.0, curve="log", invert=True, pickup=True),
    Binding("hue", "cc", 74, pickup=False),
    Binding("palette", "note", 36, channel=10, value=3.0),
    Binding("preset", "note", 37, step=-1.0),
    Binding("preset", "program", 0, channel=1),
    Binding("rotation", "pitchbend", 0, curve="linear", minimum=-0.25, maximum=0.25),
])


def test_save_and_load_keep_every_field(tmp_path, params):
    path = tmp_path / "sub" / "mine.toml"
    FULL.save(path)
    loaded = load_map(path, params)
    assert loaded.bindings == FULL.bindings
    assert (loaded.name, loaded.pickup, loaded.smoothing, loaded.path) == ("Mine", False, FULL.smoothing, path)


def test_learn_replaces_the_same_control_only():
    midi_map = MidiMap(bindings=[Binding("zoom", "cc", 1), Binding("hue", "cc", 1, channel=2)])
    midi_map.learn(Binding("morph", "cc", 1))
    assert [(b.param, b.channel) for b in midi_map.bindings] == [("hue", 2), ("morph", None)]


def test_save_leaves_no_temporary_file(tmp_path):
    FULL.save(tmp_path / "mine.toml")
    FULL.save(tmp_path / "mine.toml")
    assert os.listdir(tmp_path) == ["mine.toml"]


def test_failed_save_keeps_the_original_and_no_temporary(tmp_path, params, monkeypatch):
    path = write(tmp_path, BIND + 'param = "zoom"\ncc = 1\n', "mine.toml")

    def fail(*_):
        raise OSError("disk full")

    monkeypatch.setattr(vj.atomic.os, "replace", fail)  # where the map's atomic write replaces the file
    with pytest.raises(OSError):
        FULL.save(path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["mine.toml"] and load_map(path, params).bindings == [Binding("zoom", "cc", 1)]


def test_learn_saves_shipped_maps_to_the_user_map(tmp_path, params, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert user_map_path() == tmp_path / "vj" / "midi.toml"
    assert save_path(load_map(resource_dir("maps") / "generic.toml", params)) == tmp_path / "vj" / "midi.toml"
    assert save_path(MidiMap()) == tmp_path / "vj" / "midi.toml"
    own = write(tmp_path, HEAD, "own.toml")
    assert save_path(load_map(own, params)) == own


def test_find_map_prefers_the_user_map_then_generic(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert find_map(None) == resource_dir("maps") / "generic.toml"
    FULL.save(user_map_path())
    assert find_map(None) == user_map_path()
    assert find_map("other.toml") == Path("other.toml")
    with pytest.raises(VJError, match="no MIDI map named 'nope'.*apcmini"):
        find_map("nope")
