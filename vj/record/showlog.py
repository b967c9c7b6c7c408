"""The performance log (``SHOW.vjlog``): everything a live show's frames were a function of, so a replay
can make them again.

A text file of JSON lines, written as the show runs (a crash loses at most the last second):

- line 1, the header: ``{"vjlog": 1, ...}`` with the show's start (preset, seed, net, frame rate, the
  window, every parameter's target and smoothing) and the name of the audio file beside it
  (``SHOW.flac``: the input exactly as the analyzer heard it, 24-bit); presets by name, or a preset file
  by its path from the log's folder, which a replay will not look outside of;
- then one line per presented frame: ``{"f": frame, "at": samples analysed, "i": analysed frame shown,
  "pic": picture time, "seen": when it was seen, "now": the audio clock at its controls poll}``, all
  in samples of the audio, plus, when there are some, ``"ev"``: the controls applied before it, in
  order, each stamped with its sample position; ``"took"``: presets that finished loading and came in
  at this frame; ``"size"``/``"look"``: a new internal or look resolution; ``"rec"``: the frame's
  slot in the recording (its pts) while a take ran; ``"idle": 1``: nothing was drawn (no audio yet).

Events, each ending with ``t``, the sample position it happened at: ``["set", name, value, writer,
glide_s, t]`` (a parameter written by a control: MIDI, OSC, keys, learn), ``["tap", t]``, ``["tempo",
bpm, t]``, ``["untap", t]``, ``["clock", [status, data...], t]`` (MIDI clock and transport).
A newer version than this code reads is refused in one line; a truncated last line (a crash) is dropped.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from vj.errors import VJError

VERSION = 1
SUFFIX = ".vjlog"
MAX_LINE = 1 << 20
"""No honest line comes near this (a frame with a flood of events is a few kB); a longer one is refused."""
MAX_BYTES = 1 << 30
"""A twelve-hour show at 60 fps logs about 250 MB; a larger file is refused before it is read."""
EVENT_ARITY = {"set": 6, "tap": 2, "tempo": 3, "untap": 2, "clock": 3}
HEADER_KEYS = {"audio": str, "sample_rate": int, "channels": int, "fps": str, "record_fps": str,
               "record_size": list, "window": list, "net": str, "device": str, "preset": str, "presets": list,
               "strobe_limit": (int, float), "params": dict, "smoothing": dict}


@dataclass
class FrameRecord:
    """One presented frame's inputs (see the module doc for the keys)."""

    frame: int
    at: int
    index: int
    picture: int
    seen: int
    now: int
    events: list = field(default_factory=list)
    took: list = field(default_factory=list)
    size: tuple[int, int] | None = None
    look: tuple[int, int] | None = None
    rec: int | None = None
    idle: bool = False

    def line(self) -> str:
        record = {"f": self.frame, "at": self.at, "i": self.index, "pic": self.picture, "seen": self.seen,
                  "now": self.now}
        for key, value in (("ev", self.events), ("took", self.took), ("size", self.size), ("look", self.look),
                           ("rec", self.rec)):
            if value:
                record[key] = value
        if self.rec == 0:
            record["rec"] = 0
        if self.idle:
            record["idle"] = 1
        return json.dumps(record, separators=(",", ":"))


@dataclass
class ShowLog:
    path: Path
    header: dict
    frames: list[FrameRecord]

    @property
    def audio_path(self) -> Path:
        return self.path.parent / self.header["audio"]


def header_line(header: dict) -> str:
    return json.dumps({"vjlog": VERSION, **header}, separators=(",", ":"))


def read_show_log(path: Path) -> ShowLog:
    """Read and check a log; any problem is one VJError naming the file and the line."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise VJError(f"{path}: larger than {MAX_BYTES >> 20} MB; not a vj performance log")
        text = path.read_bytes()
    except OSError as error:
        raise VJError(f"{path}: cannot read the performance log ({error.strerror})") from None
    lines = text.split(b"\n")
    truncated = not text.endswith(b"\n")  # a show that died mid-line: the partial line is dropped
    if truncated:
        lines = lines[:-1]
    elif lines and lines[-1] == b"":
        lines = lines[:-1]
    if not lines:
        raise VJError(f"{path}: empty; a performance log starts with a vjlog header line")
    header = _parse(path, 1, lines[0])
    _check_header(path, header)
    frames = []
    for number, raw in enumerate(lines[1:], start=2):
        frames.append(_frame(path, number, _parse(path, number, raw)))
    if not frames:
        raise VJError(f"{path}: no frames were logged, so there is nothing to replay")
    return ShowLog(path, header, frames)


def _parse(path: Path, number: int, raw: bytes) -> dict:
    if len(raw) > MAX_LINE:
        raise VJError(f"{path}, line {number}: longer than {MAX_LINE} bytes; not a vj performance log")
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: brackets nested 100,000 deep
        raise VJError(f"{path}, line {number}: not JSON; is this a vj performance log?") from None
    if not isinstance(value, dict):
        raise VJError(f"{path}, line {number}: expected a JSON object")
    return value


def _check_header(path: Path, header: dict) -> None:
    version = header.get("vjlog")
    if not _whole(version):
        raise VJError(f"{path}: not a vj performance log (its first line has no \"vjlog\" version)")
    if version > VERSION:
        raise VJError(f"{path}: log version {version} is newer than this vj reads ({VERSION}); update vj")
    for key, kind in HEADER_KEYS.items():
        if not isinstance(header.get(key), kind) or isinstance(header.get(key), bool):
            raise VJError(f"{path}: header key {key!r} is missing or of the wrong type")
    if not 1 <= header["channels"] <= 8 or header["sample_rate"] <= 0:
        raise VJError(f"{path}: the header's audio must have 1 to 8 channels and a positive sample rate")
    for key in ("record_size", "window"):
        if not _size(header[key]):
            raise VJError(f"{path}: header key {key!r} must be [width, height] of 2..16384")
    for key, kind in (("seed", int), ("evolution", (int, float))):
        if header.get(key) is not None and (not isinstance(header[key], kind) or isinstance(header[key], bool)):
            raise VJError(f"{path}: header key {key!r} must be a number or null")
    if not all(isinstance(name, str) for name in header["presets"]) or header["preset"] not in header["presets"]:
        raise VJError(f"{path}: header key 'presets' must list the preset names, the show's first among them")
    folder = path.parent.resolve()
    header["presets"] = [_preset_inside(path, folder, name) for name in header["presets"]]
    header["preset"] = _preset_inside(path, folder, header["preset"])
    audio = Path(header["audio"])
    if audio.name != header["audio"] or audio.name in ("", ".", "..") or "\0" in audio.name:
        raise VJError(f"{path}: the audio file must sit beside the log (a plain file name, got {header['audio']!r})")


def _is_file(preset: str) -> bool:
    return preset.endswith(".toml") or "/" in preset or "\\" in preset


def logged_preset(preset: str, folder: Path) -> str:
    """How a log in ``folder`` names a preset: a shipped or saved one by its name, a file by its path
    from there (a replay looks for it there, wherever it is run from)."""
    return os.path.relpath(Path(preset).resolve(), folder.resolve()) if _is_file(preset) else preset


def _preset_inside(path: Path, folder: Path, preset: str) -> str:
    """A log's preset file as a path a replay can load: inside the log's folder, or refused (a stranger's
    log may not make vj read files elsewhere on the machine)."""
    if not _is_file(preset):
        return preset
    if "\0" in preset:
        raise VJError(f"{path}: the show's preset {preset!r} is not a file name")
    file = (folder / preset).resolve()
    if not file.is_relative_to(folder):
        raise VJError(f"{path}: the show's preset {preset!r} is outside the log's folder; copy the preset "
                      "(and its weights) next to the log and name it there")
    return str(file)


def _frame(path: Path, number: int, record: dict) -> FrameRecord:
    where = f"{path}, line {number}"
    try:
        values = [record[key] for key in ("f", "at", "i", "pic", "seen", "now")]
    except KeyError as error:
        raise VJError(f"{where}: frame record without {error.args[0]!r}") from None
    if not all(_whole(v) for v in values):
        raise VJError(f"{where}: frame numbers and sample positions must be whole numbers >= 0")
    events = record.get("ev", [])
    if not isinstance(events, list) or not all(_event_ok(event) for event in events):
        raise VJError(f"{where}: a malformed event in \"ev\"")
    took = record.get("took", [])
    if not isinstance(took, list) or not all(kind in ("switch", "cue") for kind in took):
        raise VJError(f"{where}: \"took\" lists only 'switch' and 'cue'")
    sizes = [record.get(key) for key in ("size", "look")]
    if not all(size is None or _size(size) for size in sizes):
        raise VJError(f"{where}: a resolution must be [width, height] of 2..16384")
    rec = record.get("rec")
    if rec is not None and not _whole(rec):
        raise VJError(f"{where}: \"rec\" must be a frame number >= 0")
    return FrameRecord(*values, events, took, *(tuple(s) if s else None for s in sizes), rec,
                       bool(record.get("idle")))


def _event_ok(event) -> bool:
    if not isinstance(event, list) or not event or EVENT_ARITY.get(event[0]) != len(event):
        return False
    if not _whole(event[-1]):
        return False
    kind = event[0]
    if kind == "set":
        return (isinstance(event[1], str) and _number(event[2]) and isinstance(event[3], str) and _number(event[4])
                and event[4] >= 0)
    if kind == "tempo":
        return _number(event[1]) and event[1] > 0
    if kind == "clock":
        return (isinstance(event[1], list) and 1 <= len(event[1]) <= 3
                and all(_whole(b) and b < 256 for b in event[1]))
    return True


def _whole(value) -> bool:
    """A whole number >= 0 (JSON's true is not one)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _size(value) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(_whole(v) and 2 <= v <= 16384 for v in value)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
