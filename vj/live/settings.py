"""What `vj live` is started with (`LiveSettings`) and what the performer changes during it (`LiveParams`)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from vj.control.controls import ControlSettings
from vj.errors import VJError
from vj.look.strobe import DEFAULT_MAX_PER_S, check_strobe_limit
from vj.output.rig import OutputSpec

EVOLUTION_STEPS = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)
"""The evolution rates `[` and `]` step through."""


@dataclass(frozen=True)
class LiveSettings:
    """The command line of `vj live`, checked by `check` before anything opens."""

    input: str | None = None
    channels: tuple[int, ...] = ()
    fullscreen: str | None = None
    size: tuple[int, int] = (1280, 720)
    target_fps: float = 60.0
    av_offset_ms: float = 0.0
    duration_s: float | None = None
    stats: Path | None = None
    trace: Path | None = None
    preset: str = "default"
    device: str = "auto"
    net: str | None = None
    seed: int | None = None
    evolution: float | None = None
    vsync: bool = True
    hud: bool = True
    controls: ControlSettings = ControlSettings()
    midi_map: str | None = None
    """``--map``: a shipped map's name or a .toml file; None: the performer's own map, else the generic one."""
    params: tuple[tuple[str, float], ...] = ()
    """``--set NAME=VALUE``: parameters to start the show with."""
    strobe_limit: float = DEFAULT_MAX_PER_S
    """``--strobe-limit``: most strobe flashes a second; 0 lifts the limit."""
    record: Path | None = None
    """``--record``: the show's first take (an .mp4); its performance log and FLAC go beside it."""
    record_fps: Fraction = Fraction(30)
    record_size: tuple[int, int] | None = None
    """``--record-res``; None records at the window's size."""
    outputs: tuple[OutputSpec, ...] = ()
    """``--output``: NDI, a virtual camera, Spout, Syphon (`vj.output.rig`), besides the window."""
    output_size: tuple[int, int] | None = None
    """``--output-res``; None sends at the window's size."""
    preview: bool = False
    """``--preview``: the performer's window (HUD, next preset); the show window stays clean."""

    def check(self) -> None:
        if not 10.0 <= self.target_fps <= 500.0:
            raise VJError(f"--target-fps {self.target_fps:g}: use 10 to 500")
        if abs(self.av_offset_ms) > 1000.0:
            raise VJError(f"--av-offset {self.av_offset_ms:g}: use -1000 to 1000 ms")
        if self.duration_s is not None and self.duration_s <= 0:
            raise VJError("--duration must be more than 0 seconds")
        if self.size[0] < 16 or self.size[1] < 16:
            raise VJError("--size must be at least 16x16")
        check_strobe_limit(self.strobe_limit)
        port = self.controls.osc_port
        if port is not None and not 0 < port < 65536:
            raise VJError(f"--osc {port}: use a UDP port from 1 to 65535 (e.g. 9000)")
        for option, path in (("--stats", self.stats), ("--trace", self.trace), ("--record", self.record)):
            if path is not None and not path.parent.resolve().is_dir():
                raise VJError(f"{option} {path}: the folder {path.parent} does not exist")
        if self.record is not None:
            self._check_record()

    def _check_record(self) -> None:
        """A recording never overwrites a file: a show is not something to lose by a typo."""
        from vj.record.recorder import recording_files

        if self.record.suffix.lower() != ".mp4":
            raise VJError(f"--record {self.record}: the recording must be an .mp4 file")
        taken = [path for path in recording_files(self.record) if path.exists()]
        if taken:
            raise VJError(f"--record {self.record}: {taken[0]} exists; choose a new name (a recording never "
                          "overwrites one)")


@dataclass
class LiveParams:
    """The show's state beyond the parameter registry (the window, the seed the reseeds reached, the
    preset playing); written to the stats file at exit, with the registry's values."""

    seed: int
    hud: bool = True
    av_offset_ms: float = 0.0
    tap_bpm: float = 0.0
    fullscreen: bool = False
    net: str = ""
    preset_name: str = ""


def step_along(value: float, steps: tuple[float, ...], direction: int) -> float:
    """The next value along ``steps`` from ``value`` (which need not be on it), up or down."""
    if direction > 0:
        return next((s for s in steps if s > value + 1e-9), steps[-1])
    return next((s for s in reversed(steps) if s < value - 1e-9), steps[0])
