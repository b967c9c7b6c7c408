"""`vj live --record`: the show's side of a recording, between the live loop and the recorder process.

Every frame the loop hands over what the frame was made of (`FrameRecord`: sample positions, the
analysed frame shown, controls applied, loads taken, resolution changes) and the audio that came in;
while a take runs, the look's picture goes too. Pictures land on the recording's own frame grid
(``--record-fps``) at the moment they were seen, so a flash aimed at a beat is on that beat in the file;
a frame whose grid slot is already filled is not recorded (a 60 fps show recorded at 30 keeps every
other frame).

`R` ends the take being recorded and starts the next (``OUT-2.mp4``, ...); the performance log and its
FLAC run for the whole show, so every take can be replayed from it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import moderngl
import numpy as np

from vj import __version__
from vj.control.controls import Controls
from vj.control.params import Params
from vj.record.grid import grid_slot
from vj.record.journal import Journal
from vj.record.recorder import Recorder, RecordSettings
from vj.record.showlog import FrameRecord, header_line


class LiveRecording:
    """Records the show described by ``header`` (see `vj.record.showlog`) with ``settings``."""

    def __init__(self, settings: RecordSettings, header: dict, params: Params, controls: Controls, target_fps: float):
        self.settings = settings
        self.journal = Journal(settings.sample_rate)
        self.journal.watch(params, controls.tap, controls.midi_clock)
        header = {**header, "audio": settings.audio_path.name, "record_fps": str(settings.fps),
                  "record_size": list(settings.size),
                  "sample_rate": settings.sample_rate, "channels": settings.channels,
                  "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "vj": __version__}
        self.recorder = Recorder(settings, header_line(header), target_fps)
        self._last_pts = -1
        self._first_pts = 0
        self._take_path: Path | None = None
        self._size: tuple | None = None
        self._look: tuple | None = None
        self._take_from: int | None = 0
        """Where on the grid the next take starts (-1: at the next frame); None: no take is wanted."""

    def stamp(self, now_sample: int) -> None:
        """The audio clock at this frame's control poll: controls without a time of their own get it."""
        self.journal.stamp = now_sample

    def toggle(self) -> None:
        """`R`: end the take that runs, or start the next one at the next frame."""
        if self.recorder.recording:
            self.recorder.cut()
            self._take_path = None
        else:
            self._take_from = -1

    def frame(self, record: FrameRecord, audio: np.ndarray, picture: moderngl.Framebuffer | None) -> None:
        """Log one frame and, while a take runs, record its picture (None: nothing was drawn yet)."""
        self.recorder.poll()
        record.events = self.journal.take()
        if self._size != record.size:
            self._size = record.size
        else:
            record.size = None
        if self._look != record.look:
            self._look = record.look
        else:
            record.look = None
        if picture is not None:
            position = record.seen * float(self.settings.fps) / self.settings.sample_rate
            if self._take_from is not None and self.recorder.alive:
                self._first_pts = max(0, round(position)) if self._take_from < 0 else self._take_from
                self._take_from = None
                self._last_pts = self._first_pts - 1
                self._take_path = self.recorder.take(self._first_pts)
            pts = grid_slot(position, self._last_pts)
            if self.recorder.recording and pts is not None:
                self._last_pts = pts
                record.rec = pts  # its slot, recorded or not: a replay fills in what the encoder dropped
                self.recorder.frame(pts, picture.read(components=3), picture.size)
        self.recorder.tick(audio, record.line())

    def hud(self) -> tuple[list[str], list[str]]:
        """(lines, warnings) for the HUD."""
        recorder = self.recorder
        if recorder.problem:
            return [], [recorder.problem]
        if not recorder.recording:
            return ["REC paused (R: new take)"], []
        seconds = max(0, self._last_pts - self._first_pts) / float(self.settings.fps)
        line = f"REC {int(seconds // 60):02d}:{seconds % 60:04.1f}  {self._take_path.name if self._take_path else ''}"
        warnings = [f"recording dropped {recorder.dropped} frames (encoder behind)"] if recorder.dropped else []
        return [line], warnings

    def close(self) -> None:
        self.recorder.close()

    def summary(self) -> dict:
        recorder = self.recorder
        return {"path": str(self.settings.path), "log": str(self.settings.log_path), "frames_sent": recorder.sent,
                "frames_dropped": recorder.dropped, "takes": recorder.finished, "problem": recorder.problem,
                "fps": str(self.settings.fps), "size": list(self.settings.size)}
