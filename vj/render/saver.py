"""`s` in a show: the picture on screen kept as a new preset, written off the render thread.

The net is pinned at the point its walk has reached (so the preset opens on what was on screen) with the
parameter values of the moment; the files go to the performer's preset folder under a new name, never
over an old one. A failed save is a HUD line; the show goes on.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from vj.control.params import Params
from vj.errors import VJError
from vj.presets import PRESET_OWNED, save_preset, user_preset_dir
from vj.render.pipeline import FramePipeline


class PresetSaver:
    def __init__(self):
        self.message = ""
        """The last save's outcome, for the HUD."""
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vj-save")

    def save(self, pipeline: FramePipeline, params: Params) -> None:
        layers = pipeline.engine.pinned_layers(pipeline.preset_walk)  # copied now: the walk moves on
        values = {name: params.targets[name] for name in PRESET_OWNED}
        self.message = "saving the preset..."
        self._pool.submit(self._write, pipeline.preset, layers, values)

    def _write(self, preset, layers, values) -> None:
        try:
            path = save_preset(preset, layers, values, user_preset_dir())
        except VJError as error:
            self.message = f"preset not saved: {error}"
        except Exception as error:  # noqa: BLE001 - the HUD must hear of any failure, never "saving..." for ever
            self.message = f"preset not saved: {type(error).__name__}: {error}"
        else:
            self.message = f"saved preset {path.stem} ({path})"

    def wait(self) -> None:
        """Finish any save in flight (the show is ending)."""
        self._pool.shutdown(wait=True)
