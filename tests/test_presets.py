"""Presets and pinned weights: every shipped preset loads, schema 1 files still load, and a preset or
weight file from a stranger is refused with one line that names the problem, never executed or unpickled
and never allowed to allocate what its headers declare. Saving never overwrites and round-trips."""

from __future__ import annotations

import io
import pickle
import time
import tracemalloc
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from vj.engine.net import NetSpec, init_weights, parse_net
from vj.engine.weights import load_weights, save_weights
from vj.errors import VJError
from vj.presets import load_preset, save_preset, user_preset_dir
from vj.render.loader import build_net
from vj.resources import shipped_names

CPU = (torch.device("cpu"), torch.float32)
SMALL = parse_net("8x2")


def write_preset(folder: Path, text: str, name: str = "mine") -> Path:
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def refused(path: Path) -> str:
    """The one-line message load_preset gives for ``path`` (it must refuse it)."""
    with pytest.raises(VJError) as caught:
        load_preset(str(path))
    message = str(caught.value)
    assert "\n" not in message, "a VJError is one line"
    return message


def pinned(folder: Path, weights: str = "w.npz", shape: str = "8x2") -> Path:
    """A preset that pins ``weights`` (a file beside it) for a net of ``shape``."""
    return write_preset(folder, f'schema = 2\n[net]\nshape = "{shape}"\nweights = "{weights}"\n')


def refused_weights(path: Path, spec: NetSpec = SMALL) -> str:
    """The one-line message load_weights gives for ``path`` (it must refuse it)."""
    with pytest.raises(VJError) as caught:
        load_weights(path, spec)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message, "one line that names the file"
    return message


class Planted:
    """Unpickling this creates ``marker``: proof that a loader ran code from the file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def write_npz(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(f"{name}.npy", data)
    return path


def small_members(spec: NetSpec = SMALL, seed: int = 1) -> dict[str, bytes]:
    members = {}
    for index, (w, b) in enumerate(init_weights(spec, seed)):
        members[f"w{index}"], members[f"b{index}"] = npy_bytes(w), npy_bytes(b)
    return members


# --- what ships, and what older vj wrote -----------------------------------------------------------


@pytest.mark.parametrize("name", shipped_names("presets"))
def test_every_shipped_preset_loads(name):
    """A shipped preset that does not load is a broken install for everyone who picks it."""
    preset = load_preset(name)
    assert preset.name == name and preset.description, "each shipped preset says what it is for"
    assert preset.engine.weights is None or preset.engine.weights.is_file()


def test_there_are_shipped_presets():
    """The parametrized test above passes vacuously if the folder is not found."""
    assert {"default", "nebula", "circuit"} <= set(shipped_names("presets"))


def test_schema_1_file_still_loads(tmp_path):
    """vj 0.6 presets ([engine] and [look] with palette_a..d) keep working after the upgrade."""
    path = write_preset(tmp_path, """
schema = 1
[engine]
net = "32x4"
seed = 11
evolution = 0.7
coord_scale = 0.5
output_gain = 0.4
input_scale = 0.09
[look]
palette_a = [0.5, 0.5, 0.5]
palette_b = [0.4, 0.4, 0.4]
palette_c = [1.0, 1.0, 1.0]
palette_d = [0.0, 0.2, 0.4]
hue_rate = 0.03
contrast = 1.4
brightness = 0.9
""")
    preset = load_preset(str(path))
    engine = preset.engine
    assert (engine.net.width, engine.net.depth, engine.seed) == (32, 4, 11)
    assert (engine.coord_scale, engine.output_gain) == (0.5, 0.4)
    assert dict(preset.params) == {"evolution": 0.7, "input_scale": 0.09, "contrast": 1.4, "brightness": 0.9,
                                   "drift": 0.03}
    palette = preset.look.palette
    assert palette.gradient is None
    assert palette.cosine == ((0.5, 0.5, 0.5), (0.4, 0.4, 0.4), (1.0, 1.0, 1.0), (0.0, 0.2, 0.4))


def test_schema_1_palette_needs_all_four_vectors(tmp_path):
    path = write_preset(tmp_path, "schema = 1\n[look]\npalette_a = [0.5, 0.5, 0.5]\n")
    assert "palette_d" in refused(path)


@pytest.mark.parametrize("header, named", [("schema = 3\n", "schema 3"), ("", "schema None"),
                                           ('schema = "2"\n', "schema '2'")])
def test_unknown_schema_is_refused_by_name(tmp_path, header, named):
    """A file from a newer vj (or one without a schema) must not be half-read as if it were schema 2."""
    message = refused(write_preset(tmp_path, header + "[params]\ncontrast = 1.2\n"))
    assert named in message and "schema = 2" in message


# --- presets that must be refused ---------------------------------------------------------------------


@pytest.mark.parametrize("body, words", [
    ("[params]\nfoo = 1\n", ["unknown key params.foo", "contrast"]),
    ("[net]\nbogus = 1\n", ["unknown key net.bogus", "shape"]),
    ("[inputs]\nloudness = 1.0\n", ["unknown key inputs.loudness", "bass"]),
    ("[look]\npalette_a = [0.5, 0.5, 0.5]\n", ["unknown key look.palette_a"]),
    ("extra = 1\n", ["unknown key extra"]),
    ("params = 3\n", ["[params] must be a table"]),
    ("[net]\ncoord_scale = 1000.0\n", ["net.coord_scale", "0.001 to 100"]),
    ("[net]\noutput_gain = 0\n", ["net.output_gain", "0.001 to 10"]),
    ("[net]\ncoord_scale = nan\n", ["net.coord_scale", "number"]),
    ("[net]\nbass_zoom = inf\n", ["net.bass_zoom", "0 to 2"]),
    ("[net]\nseed = -1\n", ["net.seed", "whole number"]),
    ("[net]\nseed = 1.5\n", ["net.seed", "whole number"]),
    ("[net]\nshape = 128\n", ["net.shape must be a string"]),
    ('[net]\nactivations = ["relu"]\n', ["net.activations", "relu", "sin"]),
    ("[inputs]\nbass = 11.0\n", ["inputs.bass", "-10 to 10"]),
    ("[look]\nhue_rate = 0.01\n", ["look.hue_rate", "unknown"]),
    ("[params]\ndrift = true\n", ["params.drift", "number"]),
    ("[params]\ncontrast = nan\n", ["params.contrast", "number"]),
    ('[params]\ncontrast = "high"\n', ["params.contrast", "number"]),
    ('[look]\npalette = "plaid"\n', ["plaid", "ember"]),
    ('[look]\ngradient = ["#000000", "#gg0000"]\n', ["#gg0000", "not a colour", "#rrggbb"]),
    ('[look]\ngradient = ["#000000", [1.0, 0.5]]\n', ["[1.0, 0.5]", "not a colour"]),
    ('[look]\ngradient = ["#000000"]\n', ["look.gradient", "2 to 64"]),
    ('[look]\npalette = "acid"\ngradient = ["#000000", "#ffffff"]\n', ["give one palette"]),
    ("[look]\ncosine = [[0.5, 0.5, 0.5]]\n", ["look.cosine", "four"]),
    ("description = 5\n", ["description must be a string"]),
    ("[net\n", ["not valid TOML"]),
])
def test_bad_values_are_refused_with_the_key_named(tmp_path, body, words):
    """A typo or a hostile value gives one line naming the file and the key, not a traceback or a
    silently different look."""
    path = write_preset(tmp_path, "schema = 2\n" + body)
    message = refused(path)
    assert str(path) in message
    for word in words:
        assert word in message


BAD_SHAPES = [("huge", "WIDTHxLAYERS"), ("100000x6", "width 1..4096")]


@pytest.mark.parametrize("shape, words", BAD_SHAPES)
def test_a_bad_net_shape_is_refused(tmp_path, shape, words):
    """A 100000-wide net would exhaust the machine; a garbled shape has no meaning."""
    assert words in refused(write_preset(tmp_path, f'schema = 2\n[net]\nshape = "{shape}"\n'))


@pytest.mark.parametrize("shape, words", BAD_SHAPES)
def test_a_bad_net_shape_names_the_file_and_key(tmp_path, shape, words):
    """Like every other bad value, a bad shape should say which file and which key to fix."""
    path = write_preset(tmp_path, f'schema = 2\n[net]\nshape = "{shape}"\n')
    message = refused(path)
    assert str(path) in message and "net.shape" in message and "--net" not in message


@pytest.mark.parametrize("weights", ["../x.npz", "../../etc/x.npz", "sub/x.npz", "/tmp/x.npz"])
def test_weights_outside_the_preset_folder_are_refused(tmp_path, weights):
    """A downloaded preset must not make vj read files elsewhere on the machine."""
    folder = tmp_path / "presets"
    (folder / "sub").mkdir(parents=True)
    path = pinned(folder, weights)
    assert "outside the preset's folder" in refused(path)


def test_a_link_beside_the_preset_to_a_file_elsewhere_is_refused(tmp_path):
    """A symlink named like a weight file does not smuggle in a file from outside."""
    folder = tmp_path / "presets"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere.npz"
    save_weights(elsewhere, init_weights(SMALL, 1))
    (folder / "w.npz").symlink_to(elsewhere)
    assert "outside the preset's folder" in refused(pinned(folder))


@pytest.mark.parametrize("weights", ["w.npy", "w.pkl", "w", "w.npz.py"])
def test_weights_must_be_an_npz(tmp_path, weights):
    assert "must name a .npz file" in refused(pinned(tmp_path, weights))


def test_weights_must_be_a_string(tmp_path):
    path = write_preset(tmp_path, "schema = 2\n[net]\nweights = 3\n")
    assert "net.weights" in refused(path)


# --- weight files that must be refused ----------------------------------------------------------------


def test_the_marker_payload_really_runs_when_unpickled(tmp_path):
    """The control for the two tests below: this payload does create its file when unpickled."""
    marker = tmp_path / "control-marker"
    pickle.loads(pickle.dumps(Planted(marker))).close()
    assert marker.exists()


def test_a_pickle_named_npz_is_refused_and_never_unpickled(tmp_path):
    """A weight file is data: a pickle (which runs code when loaded) must be refused, unread."""
    marker = tmp_path / "pwned"
    (tmp_path / "evil.npz").write_bytes(pickle.dumps(Planted(marker)))
    path = pinned(tmp_path, "evil.npz")
    preset = load_preset(str(path))  # the preset itself is fine: the weights are read when the net is built
    with pytest.raises(VJError) as caught:
        build_net(preset, CPU)
    assert "not a weight file vj can read" in str(caught.value) and "\n" not in str(caught.value)
    assert "not a weight file" in refused_weights(tmp_path / "evil.npz")
    assert not marker.exists(), "the pickle was executed"


def test_an_object_array_inside_the_npz_is_refused_and_never_unpickled(tmp_path):
    """An .npz member may itself be a pickled object array; the header check stops it before np.load."""
    marker = tmp_path / "pwned"
    members = small_members()
    members["b0"] = npy_bytes(np.array([Planted(marker)] * SMALL.width, dtype=object))
    path = write_npz(tmp_path / "w.npz", members)
    message = refused_weights(path)
    assert "b0 is object" in message and "not a float array" in message
    with pytest.raises(VJError):
        build_net(load_preset(str(pinned(tmp_path))), CPU)
    assert not marker.exists(), "the object array was unpickled"


def test_a_header_declaring_a_huge_array_is_refused_without_allocating(tmp_path):
    """A few bytes can declare 40 GB; the shape is checked against the net before any array is read."""
    members = small_members()
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (100_000, 100_000)})
    members["w1"] = header.getvalue() + b"\x00" * 64
    path = write_npz(tmp_path / "w.npz", members)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        message = refused_weights(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 2.0
    assert peak < 16 << 20, f"{peak >> 20} MiB allocated for a refused file"
    assert "w1 has shape (100000, 100000)" in message and "(8, 8)" in message


@pytest.mark.parametrize("dtype", ["<i4", "<c8", "|b1", "<U4"])
def test_non_float_arrays_are_refused(tmp_path, dtype):
    members = small_members()
    members["w0"] = npy_bytes(init_weights(SMALL, 1)[0][0].astype(dtype))
    assert "not a float array" in refused_weights(write_npz(tmp_path / "w.npz", members))


def test_a_member_that_is_not_an_npy_is_refused(tmp_path):
    members = small_members()
    members["w0"] = b"#!/bin/sh\necho hi\n"
    assert "not a weight file" in refused_weights(write_npz(tmp_path / "w.npz", members))


@pytest.mark.parametrize(("offset", "value", "zip_says"), [(8, 0x01, "encrypted"), (6, 0xFF, "version")])
def test_a_zip_feature_numpy_cannot_read_is_refused_in_one_line(tmp_path, offset, value, zip_says):
    """zipfile answers an encrypted member or a newer zip version with RuntimeError / NotImplementedError,
    which escaped as a traceback until fuzzing found it."""
    path = write_npz(tmp_path / "w.npz", small_members())
    data = bytearray(path.read_bytes())
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) >= 0:  # every central directory entry
        data[start + offset] |= value
        start += 4
    path.write_bytes(bytes(data))
    message = refused_weights(path)
    assert "not a weight file" in message and zip_says in message


def test_a_zip_member_that_lies_about_its_size_is_refused_before_it_is_read(tmp_path):
    """A member claiming 1.3 GB in a small file made zipfile allocate the claim (found by fuzzing)."""
    path = write_npz(tmp_path / "w.npz", small_members())
    data = bytearray(path.read_bytes())
    entry = data.find(b"PK\x01\x02")  # the first central directory entry: sizes at +20 (stored) and +24
    data[entry + 20: entry + 24] = (1_342_177_792).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    message = refused_weights(path)
    assert "claims" in message and "not a weight file" in message


def test_a_huge_preset_is_refused_before_it_is_read(tmp_path):
    path = write_preset(tmp_path, "schema = 2\n" + "# padding\n" * 200_000)
    with pytest.raises(VJError, match="too large for the preset"):
        load_preset(str(path))


def test_a_truncated_array_is_refused(tmp_path):
    members = small_members()
    members["w0"] = members["w0"][:-8]
    assert "not a weight file" in refused_weights(write_npz(tmp_path / "w.npz", members))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused(tmp_path, bad):
    """NaN weights would paint the picture black (or flat) for the rest of the show."""
    layers = init_weights(SMALL, 1)
    layers[2][0][1, 3] = bad
    path = tmp_path / "w.npz"
    save_weights(path, layers)
    assert "layer 2 holds NaN or infinite weights" in refused_weights(path)
    with pytest.raises(VJError, match="NaN or infinite"):
        build_net(load_preset(str(pinned(tmp_path))), CPU)


def test_weights_of_another_shape_are_refused(tmp_path):
    """Weights saved for one net cannot run another: same depth but wider, or another depth."""
    path = tmp_path / "w.npz"
    save_weights(path, init_weights(parse_net("16x2"), 1))
    assert "w0 has shape (16, 12)" in refused_weights(path) and "8x2 net needs (8, 12)" in refused_weights(path)
    deeper = refused_weights(path, parse_net("8x3"))
    assert "8x3 net needs exactly w0, b0 .. w3, b3" in deeper


def test_missing_and_extra_members_are_refused(tmp_path):
    members = small_members()
    del members["b2"]
    assert "needs exactly" in refused_weights(write_npz(tmp_path / "few.npz", members))
    members = small_members() | {"extra": npy_bytes(np.zeros(3, np.float32))}
    assert "needs exactly" in refused_weights(write_npz(tmp_path / "many.npz", members))


def test_a_missing_weight_file_is_one_line(tmp_path):
    preset = load_preset(str(pinned(tmp_path, "gone.npz")))
    with pytest.raises(VJError, match="cannot read the weights"):
        build_net(preset, CPU)


def test_good_pinned_weights_load_exactly(tmp_path):
    """The control for the refusals: a well-formed file for the right net loads, value for value."""
    layers = init_weights(SMALL, 3)
    save_weights(tmp_path / "w.npz", layers)
    net = build_net(load_preset(str(pinned(tmp_path))), CPU)
    for (w, b), (lw, lb) in zip(layers, net.layers):
        np.testing.assert_array_equal(w, lw)
        np.testing.assert_array_equal(b, lb)


# --- saving -----------------------------------------------------------------------------------------------


def test_save_numbers_new_files_and_never_overwrites(tmp_path):
    """`s` twice in a show keeps both pictures: NAME-001 then NAME-002, and a save of a saved preset
    counts on from its base name rather than writing NAME-001-001."""
    preset = load_preset("default")
    layers = init_weights(preset.engine.net, 1)
    first = save_preset(preset, layers, {}, tmp_path)
    second = save_preset(preset, layers, {}, tmp_path)
    assert (first.name, second.name) == ("default-001.toml", "default-002.toml")
    assert first.with_suffix(".npz").is_file() and second.with_suffix(".npz").is_file()
    first_text = first.read_text()
    third = save_preset(load_preset(str(first)), layers, {}, tmp_path)
    assert third.name == "default-003.toml"
    assert first.read_text() == first_text
    (tmp_path / "default-004.toml").write_text("# someone else's")
    assert save_preset(preset, layers, {}, tmp_path).name == "default-005.toml"
    assert (tmp_path / "default-004.toml").read_text() == "# someone else's"
    assert not list(tmp_path.glob(".*.tmp")), "no temporary files left behind"


def test_a_saved_preset_loads_back_as_it_was(tmp_path, monkeypatch):
    """The saved preset is found by name in the performer's folder and opens on the picture that was on
    screen: the pinned weights are those saved, and the engine, look and parameters are unchanged."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    preset = load_preset("circuit")
    preset = replace(preset, engine=replace(preset.engine, net=replace(parse_net("12x3"),
                                                                         activations=preset.engine.net.activations)))
    net = build_net(preset, CPU)
    walked = 7.5
    layers = net.pinned_layers(walked)
    values = {"contrast": 1.7, "kaleidoscope": 4.0, "evolution": 0.3}
    path = save_preset(preset, layers, values | {"blend": 0.5}, user_preset_dir())
    assert path == user_preset_dir() / "circuit-001.toml"

    loaded = load_preset("circuit-001")
    assert loaded.engine.weights == path.with_suffix(".npz")
    assert replace(loaded.engine, weights=None) == preset.engine
    assert loaded.look == preset.look
    assert dict(loaded.params) == values, "only the parameters a preset owns are saved"
    assert "saved from circuit" in loaded.description
    for (w, b), (lw, lb) in zip(layers, load_weights(loaded.engine.weights, loaded.engine.net)):
        np.testing.assert_array_equal(w, lw)
        np.testing.assert_array_equal(b, lb)

    features = np.linspace(0.1, 0.9, 9).astype(np.float32)
    reopened = build_net(loaded, CPU)
    np.testing.assert_allclose(reopened.render(features, 0.0, 16, 9), net.render(features, walked, 16, 9), atol=1e-5)
    assert np.abs(net.render(features, 0.0, 16, 9) - net.render(features, walked, 16, 9)).max() > 0.01, \
        "the walk moved the picture, so the saved net is not just the seed's"


def test_save_never_overwrites_a_weight_file_of_the_same_name(tmp_path):
    """`save_preset` promises never to overwrite a file: that includes a .npz another preset may pin."""
    preset = load_preset("default")
    theirs = init_weights(parse_net("8x2"), 5)
    save_weights(tmp_path / "default-001.npz", theirs)
    before = (tmp_path / "default-001.npz").read_bytes()
    save_preset(preset, init_weights(preset.engine.net, 1), {}, tmp_path)
    assert (tmp_path / "default-001.npz").read_bytes() == before


def test_a_preset_owns_only_parameters_the_show_has():
    from vj.control.standard import param_specs
    from vj.presets import PRESET_OWNED

    names = {spec.name for spec in param_specs()}
    assert PRESET_OWNED <= names and "preset" not in PRESET_OWNED and "bass" not in PRESET_OWNED
