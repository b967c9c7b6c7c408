"""Every bad input is exit 2 and one line on stderr that names the problem; never a traceback.

Most cases run in-process through `vj.cli.main` (it returns the exit code; argparse's own usage errors
raise SystemExit); a few run as real processes to check what a shell actually sees.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import torch

from conftest import run_vj
from vj.audio.synth import click_track, write_audio
from vj.cli import main

TINY = ("--res", "160x90", "--net", "16x3", "--quiet")


def run_main(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:  # argparse: usage errors and --help
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *names: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].strip() and err.endswith("\n"), repr(err)
    for name in names:
        assert name in lines[0], f"{name!r} not in {lines[0]!r}"


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> Path:
    """A folder of files that are not usable audio, each made with real encoders."""
    d = tmp_path_factory.mktemp("bad")
    (d / "folder").mkdir()
    # A real PNG: FFmpeg opens it fine, as a picture.
    png = av.CodecContext.create("png", "w")
    png.width, png.height, png.pix_fmt = 32, 16, "rgb24"
    image = np.random.default_rng(0).integers(0, 256, (16, 32, 3), dtype=np.uint8)
    packets = png.encode(av.VideoFrame.from_ndarray(image, format="rgb24")) + png.encode(None)
    (d / "picture.png").write_bytes(b"".join(bytes(p) for p in packets))
    (d / "noise.wav").write_bytes(np.random.default_rng(1).bytes(8192))
    # A real mp3 cut to its first 300 bytes: a download that stopped at once.
    write_audio(d / "whole.mp3", click_track(1.0, 120.0))
    assert (d / "whole.mp3").stat().st_size > 3000
    (d / "cut.mp3").write_bytes((d / "whole.mp3").read_bytes()[:300])
    (d / "empty.wav").write_bytes(b"")
    # A video with pictures and no sound.
    with av.open(str(d / "silent.mp4"), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 20 * i, np.uint8), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with av.open(str(d / "silent.mp4")) as check:
        assert len(check.streams.video) == 1 and not check.streams.audio
    (d / "broken.toml").write_text("schema = 1\n[engine\nseed = 3\n")
    (d / "unknown.toml").write_text("schema = 1\n[engine]\nwobble = 3\n")
    (d / "future.toml").write_text("schema = 99\n[engine]\nseed = 3\n")
    return d


@pytest.mark.parametrize(("name", "expected"), [
    ("missing.wav", "no such file"),
    ("folder", "directory"),
    ("picture.png", "not an audio file"),
    ("noise.wav", "FFmpeg"),
    ("cut.mp3", "cut.mp3"),
    ("empty.wav", "empty.wav"),
    ("silent.mp4", "no audio stream"),
])
def test_bad_audio_files(bad: Path, tmp_path: Path, capsys, name: str, expected: str) -> None:
    code, out, err = run_main(["render", bad / name, "-o", tmp_path / "out.mp4", *TINY], capsys)
    assert_one_line_error(code, err, name, expected)
    assert out == "" and list(tmp_path.iterdir()) == []  # nothing written, not even a partial file


@pytest.mark.parametrize(("flags", "names"), [
    (["--res", "641x360"], ["--res 641x360", "even"]),
    (["--res", "huge"], ["--res", "huge"]),
    (["--fps", "abc"], ["--fps", "abc"]),
    (["--fps", "0"], ["--fps 0"]),
    (["--device", "tpu"], ["--device", "tpu"]),
    (["--net", "12"], ["--net", "12"]),
    (["--scale", "0"], ["--scale"]),
    (["--start", "-1"], ["--start"]),
    (["--start", "100"], ["--start", "6.00 s"]),  # the file is 6 s long
    (["--duration", "0"], ["--duration"]),
    (["--preset", "no-such-look"], ["no-such-look", "default"]),  # lists what there is
])
def test_bad_render_flags(click_wav: Path, tmp_path: Path, capsys, flags: list[str], names: list[str]) -> None:
    # TINY comes first: a later --res/--net overrides it
    code, out, err = run_main(["render", click_wav, "-o", tmp_path / "out.mp4", *TINY, *flags], capsys)
    assert_one_line_error(code, err, *names)
    assert out == "" and list(tmp_path.iterdir()) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu(click_wav: Path, tmp_path: Path, capsys) -> None:
    code, _, err = run_main(["render", click_wav, "-o", tmp_path / "out.mp4", *TINY, "--device", "cuda"], capsys)
    assert_one_line_error(code, err, "--device cuda", "--device cpu")  # says what to do
    assert list(tmp_path.iterdir()) == []


def test_output_must_be_mp4(click_wav: Path, tmp_path: Path, capsys) -> None:
    code, _, err = run_main(["render", click_wav, "-o", tmp_path / "out.avi", *TINY], capsys)
    assert_one_line_error(code, err, "out.avi", ".mp4")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "expected"), [
    ("broken.toml", "TOML"), ("unknown.toml", "wobble"), ("future.toml", "schema"),
])
def test_bad_preset_files(bad: Path, click_wav: Path, tmp_path: Path, capsys, name: str, expected: str) -> None:
    code, _, err = run_main(["render", click_wav, "-o", tmp_path / "out.mp4", *TINY, "--preset", bad / name], capsys)
    assert_one_line_error(code, err, name, expected)
    assert list(tmp_path.iterdir()) == []


def test_analyze_needs_an_output(click_wav: Path, capsys) -> None:
    code, out, err = run_main(["analyze", click_wav, "--quiet"], capsys)
    assert_one_line_error(code, err, "--json", "--plot")
    assert out == ""


def test_presets_list_and_a_contact_sheet(tmp_path: Path, capsys) -> None:
    code, out, _ = run_main(["presets", "list"], capsys)
    assert code == 0 and "mandala" in out and "kaleidoscope" not in out and "Your presets" in out
    sheet = tmp_path / "sheet.png"
    code, out, _ = run_main(["presets", "show", "lava", "neon", "--png", sheet, "--frames", "3", "--seconds", "1",
                             "--size", "64x36", "--quiet"], capsys)
    assert code == 0 and "2 presets, 3 frames each" in out
    from PIL import Image

    picture = np.asarray(Image.open(sheet).convert("RGB"))
    assert picture.shape[0] == 2 * (36 + 4) and picture.shape[1] == 200 + 3 * (64 + 4)
    lava, neon = picture[:36, 200:264].astype(int), picture[40:76, 200:264].astype(int)
    assert np.abs(lava.mean(axis=(0, 1)) - neon.mean(axis=(0, 1))).max() > 20, "two looks, two colour casts"


@pytest.mark.parametrize(("argv", "names"), [
    (["presets", "show", "--png", "x.png"], ["name one or more presets", "--all"]),
    (["presets", "show", "nosuch", "--png", "x.png"], ["nosuch", "vj presets list"]),
    (["presets", "show", "lava", "--png", "x.jpg", "--quiet"], ["x.jpg", ".png"]),
    (["evolve", "--preset", "nosuch"], ["nosuch"]),
    (["frobnicate"], ["frobnicate", "render"]),
    ([], ["COMMAND", "--help"]),
    (["render"], ["--output"]),
    (["render", "-o", "o.mp4"], ["AUDIO", "--replay"]),
    (["render", "x.wav", "--replay", "show.vjlog", "-o", "o.mp4"], ["--replay", "not both"]),
    (["render", "--replay", "show.vjlog", "-o", "o.mp4", "--preset", "ink"], ["--preset", "replay"]),
    (["live", "--record", "show.mkv"], ["--record", ".mp4"]),
    (["render", "x.wav"], ["--output"]),
    (["render", "x.wav", "--output", "ndi"], ["-o/--output OUT.mp4"]),
    (["render", "--replay", "s.vjlog", "-o", "o.mp4", "--output", "ndi:A"], ["--output ndi:A", "--replay"]),
    (["live", "--output", "hdmi"], ["--output 'hdmi'", "ndi[:NAME]"]),
    (["render", "x.wav", "-o", "o.mp4", "--seed", "many"], ["--seed", "many"]),
    (["analyze", "x.wav", "--bogus"], ["--bogus"]),
    (["bench", "--frames", "0"], ["--frames"]),
])
def test_usage_errors(argv: list[str], names: list[str], capsys) -> None:
    code, out, err = run_main(argv, capsys)
    assert_one_line_error(code, err, *names)
    assert out == ""


# --- as a real process -----------------------------------------------------------------------------


def test_process_missing_file(tmp_path: Path) -> None:
    result = run_vj("render", tmp_path / "nope.flac", "-o", tmp_path / "out.mp4", *TINY)
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("vj: error: ") and str(tmp_path / "nope.flac") in line and "no such file" in line
    assert list(tmp_path.iterdir()) == []


def test_process_random_bytes(bad: Path, tmp_path: Path) -> None:
    result = run_vj("render", bad / "noise.wav", "-o", tmp_path / "out.mp4", *TINY)
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("vj: error: ") and "noise.wav" in line
    assert list(tmp_path.iterdir()) == []


def test_process_bad_resolution(click_wav: Path, tmp_path: Path) -> None:
    result = run_vj("render", click_wav, "-o", tmp_path / "out.mp4", "--res", "641x360", "--quiet")
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert "--res 641x360" in line and "642x360" in line  # the nearest size that works
    assert list(tmp_path.iterdir()) == []


def test_process_usage_error() -> None:
    result = run_vj("render", "--fps")
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("vj render: error: ") and "--fps" in line


# --- help ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "options"), [
    ([], ["render", "analyze", "bench", "--version"]),
    (["render"], ["--output", "--res", "--fps", "--device", "--preset", "--net", "--scale", "--frames", "--start",
                  "--duration", "--force", "--quiet", "Ctrl-C"]),
    (["analyze"], ["--fps", "--json", "--plot", "--quiet"]),
    (["bench"], ["--res", "--net", "--device", "--frames", "--json", "naive"]),
])
def test_help(argv: list[str], options: list[str], capsys) -> None:
    code, out, err = run_main([*argv, "--help"], capsys)
    assert code == 0 and err == ""
    assert out.startswith("usage: vj")
    for option in options:
        assert option in out, f"{option} missing from vj {' '.join(argv)} --help"


def test_version_and_help_as_a_process() -> None:
    result = run_vj("--version")
    assert result.returncode == 0 and result.stdout.strip() == "vj 0.1.0"
    result = run_vj("render", "--help")
    assert result.returncode == 0 and "--frames DIR" in result.stdout and result.stderr == ""
