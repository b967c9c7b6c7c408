"""Recording a show so it can be replayed: the performance log (`vj.record.showlog`) round-trips and
refuses what it cannot trust with one VJError naming the file and line; the 24-bit FLAC
(`vj.record.lossless`) keeps the analyzer's samples bit for bit, even cut short; the journal
(`vj.record.journal`) logs controls in samples and `apply_event` redoes them exactly; and `grid_slot`
(`vj.record.grid`) puts pictures on the recording's frame grid without doubling or skipping slots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vj.control.clock import MidiClock
from vj.control.standard import PRESET_WRITER, show_params
from vj.control.tap import TapTempo
from vj.errors import VJError
from vj.record.grid import grid_slot
from vj.presets import resolve_preset
from vj.record.journal import Journal, apply_event
from vj.record.lossless import FlacWriter, quantize, read_flac
from vj.record.showlog import MAX_BYTES, MAX_LINE, FrameRecord, header_line, logged_preset, read_show_log

RATE = 48000
HEADER = {"fps": "30", "record_fps": "30", "record_size": [64, 36], "window": [64, 36], "net": "24x4",
          "device": "cpu", "preset": "default", "presets": ["default", "ink"], "seed": None, "evolution": None,
          "strobe_limit": 3.0, "clock": "audio", "params": {"zoom": 1.0}, "smoothing": {"zoom": 0.12},
          "audio": "show.flac", "sample_rate": RATE, "channels": 2}
FRAMES = [
    FrameRecord(0, 1600, 0, 0, 1600, 1600, idle=True),
    FrameRecord(1, 3200, 1, 1600, 3200, 3100,
                events=[["set", "zoom", 2.0, "midi", 0.25, 3050], ["tap", 3060], ["tempo", 128.0, 3070],
                        ["untap", 3080], ["clock", [0xF2, 16, 1], 3090]],
                took=["switch", "cue"], size=(64, 36), look=(128, 72), rec=0),
    FrameRecord(2, 4800, 2, 3200, 4800, 4700, rec=1),
]
GOOD = FrameRecord(0, 0, 0, 0, 0, 0).line()


def write(path: Path, *lines: str | bytes, end: bytes = b"\n") -> Path:
    raw = [line.encode() if isinstance(line, str) else line for line in lines]
    path.write_bytes(b"\n".join(raw) + (end if raw else b""))
    return path


def frame_with(**keys) -> str:
    return json.dumps({"f": 1, "at": 10, "i": 1, "pic": 10, "seen": 10, "now": 10, **keys})


# --- the performance log -------------------------------------------------------------------------

def test_log_round_trips(tmp_path):
    path = write(tmp_path / "SHOW.vjlog", header_line(HEADER), *(frame.line() for frame in FRAMES))
    log = read_show_log(path)
    assert log.header == {"vjlog": 1, **HEADER}
    assert log.frames == FRAMES
    assert log.frames[1].rec == 0 and log.frames[0].idle and not log.frames[2].idle
    assert log.audio_path == tmp_path / "show.flac"


def test_a_preset_file_is_named_from_the_logs_folder_and_found_there_from_anywhere(tmp_path, monkeypatch):
    show = tmp_path / "shows" / "SHOW.vjlog"
    mine = tmp_path / "shows" / "sets" / "mine.toml"
    show.parent.mkdir()
    monkeypatch.chdir(tmp_path)  # the show ran here, with --preset shows/sets/mine.toml
    named = logged_preset("shows/sets/mine.toml", show.parent)
    assert named == "sets/mine.toml" and logged_preset("ember", show.parent) == "ember"
    monkeypatch.chdir(tmp_path.parent)  # the replay runs somewhere else
    write(show, _header(preset=named, presets=["default", named]), GOOD)
    header = read_show_log(show).header
    assert header["preset"] == str(mine) and header["presets"] == ["default", str(mine)]


def test_truncated_last_line_is_dropped(tmp_path):
    lines = [header_line(HEADER), *(frame.line() for frame in FRAMES)]
    path = tmp_path / "SHOW.vjlog"
    path.write_text("\n".join(lines)[: -len(lines[-1]) // 2])  # died mid-way through the last frame's line
    assert read_show_log(path).frames == FRAMES[:2]


def _header(**changes) -> str:
    return header_line({key: value for key, value in {**HEADER, **changes}.items() if value is not ...})


HEADER_REFUSALS = {
    "newer version": (json.dumps({**json.loads(header_line(HEADER)), "vjlog": 2}), "newer"),
    "no vjlog key": (json.dumps(HEADER), '"vjlog"'),
    "no record_size": (_header(record_size=...), "'record_size'"),
    "audio up a folder": (_header(audio="../x.flac"), "beside the log"),
    "audio in a subfolder": (_header(audio="sub/x.flac"), "beside the log"),
    "audio with a NUL": (_header(audio="x\x00.flac"), "beside the log"),
    "version true": (json.dumps({**json.loads(header_line(HEADER)), "vjlog": True}), '"vjlog"'),
    "negative channels": (_header(channels=-3), "1 to 8 channels"),
    "size of words": (_header(record_size=["a", 36]), "'record_size'"),
    "preset up a folder": (_header(preset="../mine.toml", presets=["default", "../mine.toml"]), "outside the log's folder"),
    "preset by absolute path": (_header(preset="/etc/x.toml", presets=["/etc/x.toml"]), "outside the log's folder"),
    "preset out through a subfolder": (_header(presets=["default", "sub/../../x.toml"]), "outside the log's folder"),
    "preset with a NUL": (_header(presets=["default", "a\x00.toml"]), "not a file name"),
}


@pytest.mark.parametrize("header, says", HEADER_REFUSALS.values(), ids=HEADER_REFUSALS.keys())
def test_bad_header_is_refused(tmp_path, header, says):
    path = write(tmp_path / "SHOW.vjlog", header, GOOD)
    with pytest.raises(VJError) as error:
        read_show_log(path)
    assert str(path) in str(error.value) and says in str(error.value)


FRAME_REFUSALS = {
    "not JSON": ('{"f": 1, oops', "not JSON"),
    "negative sample": (frame_with(at=-5), ">= 0"),
    "unknown event": (frame_with(ev=[["jump", 5]]), "malformed event"),
    "event arity": (frame_with(ev=[["tap", 1, 5]]), "malformed event"),
    "bool value": (frame_with(ev=[["set", "zoom", True, "midi", 0.0, 5]]), "malformed event"),
    "bool bpm": (frame_with(ev=[["tempo", True, 5]]), "malformed event"),
    "bool time": (frame_with(ev=[["tap", True]]), "malformed event"),
    "clock byte": (frame_with(ev=[["clock", [0xF2, 256, 0], 5]]), "malformed event"),
    "clock byte true": (frame_with(ev=[["clock", [True], 5]]), "malformed event"),
    "negative glide": (frame_with(ev=[["set", "zoom", 1.0, "midi", -1.0, 5]]), "malformed event"),
    "rec true": (frame_with(rec=True), '"rec"'),
    "nested 100,000 deep": (frame_with()[:-1] + ',"ev":' + "[" * 100_000 + "]" * 100_000 + "}", "not JSON"),
    "took unknown": (frame_with(took=["switch", "drop"]), '"took"'),
    "line too long": (b'{"f":1,"pad":"' + b"x" * MAX_LINE + b'"}', "longer than"),
}


@pytest.mark.parametrize("line, says", FRAME_REFUSALS.values(), ids=FRAME_REFUSALS.keys())
def test_bad_frame_is_refused_with_its_line(tmp_path, line, says):
    path = write(tmp_path / "SHOW.vjlog", header_line(HEADER), GOOD, line, GOOD)
    with pytest.raises(VJError) as error:
        read_show_log(path)
    assert f"{path}, line 3:" in str(error.value) and says in str(error.value)


def test_a_huge_log_is_refused_before_it_is_read(tmp_path):
    path = write(tmp_path / "SHOW.vjlog", header_line(HEADER), GOOD)
    with path.open("r+b") as log:
        log.truncate(MAX_BYTES + 1)  # sparse: no disk used
    with pytest.raises(VJError, match="larger than 1024 MB"):
        read_show_log(path)


@pytest.mark.parametrize("lines, says", [((), "empty"), ((header_line(HEADER),), "no frames")],
                         ids=["empty file", "header only"])
def test_log_without_frames_is_refused(tmp_path, lines, says):
    path = write(tmp_path / "SHOW.vjlog", *lines)
    with pytest.raises(VJError, match=says) as error:
        read_show_log(path)
    assert str(path) in str(error.value)


# --- the show's audio, lossless --------------------------------------------------------------------

def write_flac(path: Path, samples: np.ndarray, blocks: list[int]) -> Path:
    writer = FlacWriter(path, samples.shape[1], RATE)
    start = 0
    for size in blocks:
        writer.write(samples[start : start + size])
        start += size
    writer.write(samples[start:])
    writer.close()
    assert writer.samples == len(samples)
    return path


def test_quantize_clips_and_is_idempotent():
    x = np.random.default_rng(0).uniform(-1.5, 1.5, (10000, 2)).astype(np.float32)
    q = quantize(x)
    assert q.dtype == np.float32
    assert np.array_equal(quantize(q), q)
    assert q.min() == -1.0 and q.max() == np.float32(1 - 2**-23)
    assert np.all(np.abs(q - np.clip(x, -1, 1)) <= 2**-23)


@pytest.mark.parametrize("channels", [2, 1], ids=["stereo", "mono"])
def test_flac_keeps_quantized_samples_exactly(tmp_path, channels):
    noise = quantize(np.random.default_rng(channels).uniform(-1.3, 1.3, (60000, channels)).astype(np.float32))
    path = write_flac(tmp_path / "show.flac", noise, [1, 1000, 0, 4608, 7, 20000, 123])
    back = read_flac(path)
    assert back.dtype == np.float32 and back.shape == noise.shape
    assert np.array_equal(back, noise)


def test_truncated_flac_reads_back_a_prefix(tmp_path):
    noise = quantize(np.random.default_rng(7).uniform(-1, 1, (96000, 2)).astype(np.float32))
    whole = write_flac(tmp_path / "show.flac", noise, [5000, 30000]).read_bytes()
    cut = tmp_path / "cut.flac"
    cut.write_bytes(whole[: len(whole) // 2])  # a show killed half-way
    back = read_flac(cut)
    assert 0 < len(back) < len(noise)
    assert np.array_equal(back, noise[: len(back)])


# --- the journal of controls -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def preset():
    return resolve_preset("default")


def s(samples: int) -> float:
    """A time in seconds on a whole sample, as live hands them over."""
    return samples / RATE


def perform(params, tap: TapTempo, clock: MidiClock, journal: Journal | None = None) -> None:
    """A few seconds of a show's controls (with ``journal``: its stamp moves as the frames' polls would)."""
    stamp = lambda sample: setattr(journal, "stamp", sample) if journal else None  # noqa: E731
    stamp(4800)
    params.set("zoom", 2.0, "midi", glide_s=0.5)
    params.toggle("freeze", "keys")
    params.fire("reseed", "keys")
    params.set("hue", 0.3, PRESET_WRITER)
    clock.message((0xFA,), s(12000))
    for tick in range(48):  # two beats at 120 BPM: a tick every 1000 samples
        clock.message((0xF8,), s(13000 + 1000 * tick))
    for sample in (48000, 72000, 96000, 120000):
        tap.tap(s(sample))
    stamp(130000)
    tap.clear()
    for sample in (150000, 171000, 192000):
        tap.tap(s(sample))
    tap.set_bpm(126.0, s(200000))
    params.set("brightness", 0.7, "midi")


def test_journal_logs_controls_in_samples(preset):
    params, tap, clock = show_params(preset), TapTempo(), MidiClock()
    journal = Journal(RATE)
    journal.watch(params, tap, clock)
    perform(params, tap, clock, journal)
    events = journal.take()
    assert events[:4] == [["set", "zoom", 2.0, "midi", 0.5, 4800], ["set", "freeze", 1.0, "keys", 0.0, 4800],
                          ["set", "reseed", 1.0, "keys", 0.0, 4800], ["clock", [0xFA], 12000]]
    assert all(event[1] != "hue" for event in events)  # the preset's own writes are not journaled
    assert [e for e in events if e[0] == "clock"][1:] == [["clock", [0xF8], 13000 + 1000 * i] for i in range(48)]
    assert events[-10:] == [["tap", 48000], ["tap", 72000], ["tap", 96000], ["tap", 120000], ["untap", 130000],
                            ["tap", 150000], ["tap", 171000], ["tap", 192000], ["tempo", 126.0, 200000],
                            ["set", "brightness", 0.7, "midi", 0.0, 130000]]
    assert len(events) == 4 + 48 + 10
    assert journal.take() == []


def test_journaled_events_pass_the_log_check(tmp_path, preset):
    params, tap, clock = show_params(preset), TapTempo(), MidiClock()
    journal = Journal(RATE)
    journal.watch(params, tap, clock)
    perform(params, tap, clock, journal)
    frame = FrameRecord(0, 0, 0, 0, 0, 0, events=journal.take())
    path = write(tmp_path / "SHOW.vjlog", header_line(HEADER), frame.line())
    assert read_show_log(path).frames == [frame]


def test_replay_redoes_the_show(preset):
    params, tap, clock = show_params(preset), TapTempo(), MidiClock()
    journal = Journal(RATE)
    journal.watch(params, tap, clock)
    perform(params, tap, clock, journal)
    events = json.loads(json.dumps(journal.take()))  # as a log hands them back

    again, tap_again, clock_again = show_params(preset), TapTempo(), MidiClock()
    again.set("hue", 0.3, PRESET_WRITER)  # the replay's pipeline makes the preset's writes itself
    for event in events:
        apply_event(event, again, tap_again, clock_again, RATE)

    assert again.targets == params.targets and again.writers == params.writers
    assert again.fired("reseed") and params.fired("reseed")
    assert (tap_again.period, tap_again.anchor) == (tap.period, tap.anchor) == (60.0 / 126.0, s(192000))
    assert clock_again.bpm == clock.bpm == pytest.approx(120.0)
    assert clock_again.beat_at(s(70000)) == clock.beat_at(s(70000))


def test_replay_without_a_midi_clock_skips_clock_events(preset):
    params, tap = show_params(preset), TapTempo()
    apply_event(["clock", [0xF8], 1000], params, tap, None, RATE)
    apply_event(["tap", 48000], params, tap, None, RATE)
    assert tap.period == 0.0


# --- the recording's frame grid --------------------------------------------------------------------

def test_steady_jittered_frames_take_consecutive_slots():
    jitter = np.random.default_rng(3).uniform(-0.2, 0.2, 1000)
    last = -1
    for frame, wobble in enumerate(jitter):
        position = frame + wobble
        slot = grid_slot(position, last)
        assert slot == last + 1 and abs(slot - position) <= 1
        last = slot
    assert last == 999


def test_twice_the_grid_rate_fills_every_slot_once():
    last, slots = -1, []
    for frame in range(1000):
        slot = grid_slot(frame / 2, last)
        slots.append(slot)
        if slot is not None:
            assert abs(slot - frame / 2) <= 1
            last = slot
    taken = [slot for slot in slots if slot is not None]
    assert taken == list(range(len(taken))) and len(taken) >= 500
    assert all((a is None) != (b is None) for a, b in zip(slots[1:], slots[2:]))  # every other frame skipped


def test_twice_the_grid_rate_with_jitter_neither_skips_nor_doubles():
    jitter = np.random.default_rng(4).uniform(-0.1, 0.1, 2000)
    last, slots = -1, []
    for frame, wobble in enumerate(jitter):
        slot = grid_slot(frame / 2 + wobble, last)
        if slot is not None:
            slots.append(slot)
            last = slot
    assert slots == list(range(len(slots))) and len(slots) >= 999


def test_late_frame_jumps_ahead():
    assert grid_slot(14.0, 10) == 14
    assert grid_slot(14.3, 10) == 14
    assert grid_slot(12.0, 10) == 11  # within a frame of its slot: no jump


def test_early_frame_waits():
    assert grid_slot(9.4, 10) is None
    assert grid_slot(10.4, 10) is None
    assert grid_slot(10.5, 10) == 11
