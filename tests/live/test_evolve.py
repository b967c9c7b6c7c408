"""`vj evolve` on a real window (Xvfb): the grid breeds, goes back, saves favourites that load as presets,
and MIDI pads pick cells through a JACK virtual port."""

from __future__ import annotations

import queue
import threading

import numpy as np
import pytest

from tests.live.conftest import start_vj
from tests.live.test_live_control import PORT, SOURCE, Sender
from vj.live.evolve import GRID, PARENT, EvolveSession, EvolveSettings, cell_at
from vj.live.window import Window


@pytest.fixture
def evolve(display, monkeypatch, tmp_path):
    monkeypatch.setenv("DISPLAY", display)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    session = EvolveSession(EvolveSettings(midi_enabled=False, size=(480, 270)))
    window = Window("vj evolve test", (480, 270))
    session.setup(window)
    yield session
    session.release()
    window.close()


def screen(session) -> np.ndarray:
    session.draw(1.0)
    ctx = session.window.ctx
    pixels = np.frombuffer(ctx.screen.read(components=3), np.uint8).reshape(*session.window.size[::-1], 3)
    return pixels[::-1]


def cells(picture: np.ndarray) -> list[np.ndarray]:
    height, width = picture.shape[0] // GRID, picture.shape[1] // GRID
    return [picture[r * height + 10 : (r + 1) * height - 10, c * width + 10 : (c + 1) * width - 10].astype(int)
            for r in range(GRID) for c in range(GRID)]


def test_the_grid_shows_a_parent_and_eight_different_children(evolve):
    tiles = cells(screen(evolve))
    differences = [np.abs(tiles[PARENT] - tile).mean() for i, tile in enumerate(tiles) if i != PARENT]
    assert min(differences) > 2, "every child differs from its parent"
    assert max(differences) < 120, "and is still a picture, not noise"


def test_picking_breeds_from_that_cell_and_back_returns(evolve):
    breeder = evolve.breeder
    chosen = breeder.cells[2]
    evolve.handle_key("3")
    assert breeder.generation == 2 and breeder.cells[PARENT].layers is chosen.layers
    evolve.pick(cell_at(0.1, 0.9))  # a click in the bottom-left cell
    assert breeder.generation == 3 and evolve.picks == [2, 6]
    evolve.handle_key("b")
    assert breeder.generation == 2 and breeder.cells[PARENT].layers is chosen.layers
    evolve.handle_key("M")
    assert breeder.strength == pytest.approx(0.24)


def test_a_favourite_becomes_a_preset_that_draws_the_same_net(evolve):
    from vj.presets import load_preset
    from vj.render.loader import build_net

    evolve.handle_key("5")  # the centre breeds with itself: a new generation of children
    evolve.handle_key("1")
    evolve.handle_key("s")
    assert evolve.message.startswith("saved preset default-bred-001"), evolve.message
    preset = load_preset("default-bred-001")
    assert "3 generations" in preset.description
    parent = evolve.breeder.cells[PARENT]
    saved = build_net(preset, (parent.device, parent.dtype), mixed=False)  # the grid draws in fp32
    inputs = np.full(9, 0.02, np.float32)
    np.testing.assert_allclose(saved.render(inputs, 4.0, 32, 18), parent.render(inputs, 4.0, 32, 18), atol=1e-6)


def test_midi_pads_pick_cells(live_env, jack):
    evolve = start_vj(live_env, "evolve", "--midi", PORT, "--duration", "14", "--size", "480x270")
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in evolve.stdout], daemon=True)
    reader.start()
    send = Sender(live_env)

    answered: list[str] = []  # what evolve printed, in order

    def press(note: int, cell: int, late: int | None = None) -> None:
        """Without real-time scheduling a JACK client starved for a cycle loses that cycle's MIDI (the
        server logs an XRun): a pad the grid did not answer within 4 s is pressed again, up to 3 times. A
        press answered late is answered twice: ``late``, the cell the press before picked, may come again."""
        for _ in range(3):
            send(f"send 144 {note} 100")
            try:
                while True:
                    answered.append(line := lines.get(timeout=4.0).strip())
                    if line.endswith(f"bred from cell {cell}"):
                        return
                    assert late is not None and line.endswith(f"bred from cell {late}"), line
            except queue.Empty:
                continue
        pytest.fail(f"pad {note} was pressed 3 times and never answered (cell {cell})")

    try:
        send("open")
        jack.wait_for_connection(SOURCE, "vj-midi")
        press(40, 5)  # pad 40: cell 5 (the centre)
        press(36, 1, late=5)
        send("send 144 60 100")  # not a pad of the grid
    finally:
        send.close()
    assert evolve.wait(timeout=60) == 0, evolve.stderr.read()
    reader.join(timeout=10)  # everything evolve printed is in `lines` now
    err = evolve.stderr.read()
    rest = [lines.get_nowait().strip() for _ in range(lines.qsize())]
    assert all(line.endswith("bred from cell 1") for line in rest), f"a note that is not a pad picks nothing: {rest}"
    answered += rest
    assert [line.split(":")[0] for line in answered] == [f"generation {n}" for n in range(2, len(answered) + 2)]
    assert "Traceback" not in err
