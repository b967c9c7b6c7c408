"""`vj evolve`: interactive evolution, as in Picbreeder. A grid of nets renders live to music: the parent
in the centre, eight children around it. Pick the child you like (a number key, a click, a MIDI pad) and
it becomes the parent of the next generation; keep a favourite as a preset with `s`.

The grid runs the same engine and look as a show (palette, tone, the music through the nets' inputs);
the picture-wide effects (symmetry, kaleidoscope, trails, strobe, chromatic shift) stay off, since they
would mix the cells. The music comes from an audio file's analysis (the demo track by default), looped.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from vj.audio.features import FEATURE_NAMES
from vj.control.midi import MidiInput
from vj.control.standard import show_params
from vj.engine.cppn import CPPN, frame_inputs
from vj.engine.mutate import DEFAULT_STRENGTH, mutate
from vj.errors import VJError
from vj.live.hud import Hud, HudState
from vj.live.pacer import FramePacer
from vj.live.window import Window, check_display
from vj.live.present import Presenter
from vj.look.look import look_controls, picture_buffer, release_picture
from vj.presets import PRESET_OWNED, Preset, resolve_preset, save_preset, user_preset_dir
from vj.render.loader import build_net
from vj.render.sheet import analyse
from vj.resources import resource_dir

GRID = 3
PARENT = GRID * GRID // 2
FIRST_PAD = 36
"""MIDI notes 36..44 pick cells 1..9: the first bank of most pad controllers (General MIDI drums)."""
CELL = (128, 72)
"""Each net's size on a CPU (about 9 x 9k pixels a frame); with CUDA, four times the pixels."""
BORDER = 2
WHOLE_PICTURE_EFFECTS = {"symmetry": 0.0, "kaleidoscope": 0.0, "feedback": 0.0, "strobe": 0.0, "chroma": 0.0,
                         "vignette": 0.0}
KEYS = ("1-9 / click / pad 36-44: breed from that cell   s: save the centre as a preset",
        "b: back a generation   r: new children   m / M: gentler / wilder   q: quit")


@dataclass(frozen=True)
class EvolveSettings:
    preset: str = "default"
    audio: Path = resource_dir("assets") / "demo.ogg"
    device: str = "auto"
    net: str | None = None
    size: tuple[int, int] = (1280, 720)
    midi: str | None = None
    midi_enabled: bool = True
    duration_s: float | None = None
    seed: int = 1


def cell_at(x: float, y: float) -> int:
    """The cell (0..8, row by row) under a click at (x, y), fractions of the window from its top left."""
    return min(max(int(y * GRID), 0), GRID - 1) * GRID + min(max(int(x * GRID), 0), GRID - 1)


class Breeder:
    """The population: a parent, its children, and the parents before it. Knows nothing of windows."""

    def __init__(self, preset: Preset, device, seed: int, strength: float = DEFAULT_STRENGTH):
        self.preset, self.device, self.strength = preset, device, strength
        self.rng = np.random.default_rng(seed)
        parent = build_net(preset, device)
        self.generation = 1
        self._history: list[tuple] = []
        self._parent = (parent.spec, parent.layers)
        self.cells: list[CPPN] = []
        self._breed()

    def _breed(self) -> None:
        spec, layers = self._parent
        children = [mutate(spec, layers, self.rng, self.strength) for _ in range(GRID * GRID - 1)]
        children.insert(PARENT, self._parent)
        # in fp32: a pick breeds nine nets at once, and calibrating each for bf16 (`vj.engine.forward`)
        # would hold the grid still for a tenth of a second, for nets too small to gain from it
        self.cells = [build_net(self.preset, self.device, net=child, mixed=False) for child in children]

    def pick(self, cell: int) -> None:
        """``cell`` (0..8, row by row from the top left) becomes the parent of a new generation."""
        self._history.append(self._parent)
        chosen = self.cells[cell]
        self._parent = (chosen.spec, chosen.layers)
        self.generation += 1
        self._breed()

    def back(self) -> bool:
        if not self._history:
            return False
        self._parent = self._history.pop()
        self.generation -= 1
        self._breed()
        return True

    def reroll(self) -> None:
        self._breed()

    def favourite(self, walk: float) -> tuple[Preset, list]:
        """The centre net as a preset (its shape and activations) and its weights where its walk is at
        ``walk`` (what the grid shows), ready to save."""
        spec, _ = self._parent
        layers = self.cells[PARENT].pinned_layers(walk)
        preset = replace(self.preset, name=f"{self.preset.name}-bred",
                         engine=replace(self.preset.engine, net=spec, weights=None),
                         description=f"bred from {self.preset.name} over {self.generation} generations")
        return preset, layers


class EvolveSession:
    def __init__(self, settings: EvolveSettings):
        self.settings = settings
        self.preset = resolve_preset(settings.preset, net=settings.net)
        check_display()
        self.table = analyse(settings.audio)
        self.message = ""
        self.picks: list[int] = []

    def run(self) -> int:
        settings = self.settings
        window = Window("vj evolve", settings.size)
        midi = MidiInput(settings.midi) if settings.midi_enabled else None
        try:
            self.setup(window)
            if midi is not None:
                midi.open()
            self._loop(window, midi)
        finally:
            if midi is not None:
                midi.close()
            self.release()
            window.close()
        return 0

    def setup(self, window: Window) -> None:
        from vj.engine.device import select_device
        from vj.look.look import Look

        self.window = window
        device = select_device(self.settings.device)
        if device[0].type == "cpu" and self.settings.net is None:
            self.preset = resolve_preset(self.settings.preset, net="24x4")  # nine nets a frame, as live does
        self.cell = CELL if device[0].type == "cpu" else (CELL[0] * 2, CELL[1] * 2)
        self.breeder = Breeder(self.preset, device, self.settings.seed)
        self.params = show_params(self.preset)
        for name, value in WHOLE_PICTURE_EFFECTS.items():
            self.params.set(name, value)
        self.params.settle()
        self.look = Look(window.ctx, self.preset.look)
        self.presenter = Presenter(window.ctx)
        width, height = self.cell
        self.picture_size = (2 * GRID * (width + BORDER), 2 * GRID * (height + BORDER))
        self.picture = picture_buffer(window.ctx, self.picture_size)  # graded at twice the grid, then scaled
        self.hud = Hud(window.ctx)
        self.hud_state = HudState(figures=False)
        self.pacer = FramePacer(30.0)
        self.started = time.monotonic()

    def release(self) -> None:
        if hasattr(self, "look"):
            self.look.release()
            self.presenter.release()
            release_picture(self.picture)

    def _loop(self, window: Window, midi: MidiInput | None) -> None:
        deadline = None if self.settings.duration_s is None else self.started + self.settings.duration_s
        self.quit = False
        while not self.quit and not window.should_close:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            window.poll()
            for key in window.keys:
                self.handle_key(key)
            window.keys.clear()
            for x, y in window.clicks:
                self.pick(cell_at(x, y))
            window.clicks.clear()
            if midi is not None:
                for _arrival, _port, data in midi.poll(now):
                    self.handle_midi(data)
            self.draw(now - self.started)
            self.pacer.wait()
            window.swap()

    def handle_midi(self, data: tuple[int, ...]) -> None:
        """A pad (note on 36..44) picks its cell."""
        if len(data) >= 3 and data[0] & 0xF0 == 0x90 and data[2] > 0 and 0 <= data[1] - FIRST_PAD < GRID * GRID:
            self.pick(data[1] - FIRST_PAD)

    def handle_key(self, key: str) -> None:
        breeder = self.breeder
        if key in "123456789" and len(key) == 1:
            self.pick(int(key) - 1)
        elif key == "b":
            self.message = "back a generation" if breeder.back() else "this is the first generation"
        elif key == "r":
            breeder.reroll()
            self.message = "new children"
        elif key in ("m", "M"):
            breeder.strength = min(max(breeder.strength * (0.5 if key == "m" else 2.0), 0.01), 1.0)
            self.message = f"mutation strength {breeder.strength:.2f}"
        elif key == "s":
            self.save()
        elif key in ("q", "escape"):
            self.quit = True

    def pick(self, cell: int) -> None:
        self.breeder.pick(cell)
        self.picks.append(cell)
        self.message = f"bred from cell {cell + 1}"
        print(f"generation {self.breeder.generation}: bred from cell {cell + 1}", flush=True)

    def save(self) -> None:
        preset, layers = self.breeder.favourite(self.params.integrals["evolution"])
        values = {name: self.params.targets[name] for name in PRESET_OWNED} | {
            name: self.params.specs[name].default for name in WHOLE_PICTURE_EFFECTS}  # the preset's own
        try:
            path = save_preset(preset, layers, values, user_preset_dir())
        except VJError as error:
            self.message = f"not saved: {error}"
            print(f"vj: {self.message}", file=sys.stderr)
            return
        self.message = f"saved preset {path.stem}"
        print(f"saved {path}", flush=True)

    def draw(self, t: float) -> None:
        """Every cell's net at picture time ``t`` (the music looped), tiled, through the look, then the HUD."""
        table = self.table
        features = table[int(t * 30) % len(table)]
        self.params.advance(t)
        inputs = frame_inputs(features.vector(), FEATURE_NAMES.index("time")) * np.float32(self.params["input_scale"])
        walk = self.params.integrals["evolution"]
        width, height = self.cell
        mosaic = np.zeros((GRID * (height + BORDER), GRID * (width + BORDER), 3), np.float32)
        for index, net in enumerate(self.breeder.cells):
            row, column = divmod(index, GRID)
            top, left = row * (height + BORDER), column * (width + BORDER)
            mosaic[top : top + height, left : left + width] = net.render(inputs, walk, width, height)
        self.look.draw(mosaic, features, self.picture, look_controls(self.params))
        self.presenter.show(self.picture, self.window.size)
        self.hud_state.status = f"generation {self.breeder.generation}   mutation {self.breeder.strength:.2f}"
        self.hud_state.lines = (*KEYS, self.message) if self.message else KEYS
        self.hud.draw(self.hud_state, time.monotonic(), self.window.size)


def run_evolve(settings: EvolveSettings) -> int:
    return EvolveSession(settings).run()
