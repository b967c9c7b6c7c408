"""`vj live --preview`: the performer's window. A small second window, on the performer's screen, shows the
output with the HUD over it and a thumbnail of the next preset in a corner, while the show window (on the
projector, `--fullscreen MONITOR`) stays clean: no HUD, no mouse pointer.

The two windows share GL objects, so the preview draws the very texture the projector shows, with no copy.
The next preset is the cued one while a cue is loaded, else the one `p` would switch to; it is loaded in
the background like any switch, and its thumbnail is drawn a few times a second with a look of its own.
"""

from __future__ import annotations

from concurrent.futures import Future

import moderngl

from vj.audio.features import FrameFeatures
from vj.control.params import Params
from vj.live.hud import Hud, HudState
from vj.live.present import Presenter
from vj.live.window import Window
from vj.look.look import Look, picture_buffer, release_picture
from vj.render.loader import LoadedPreset, outcome
from vj.render.pipeline import FramePipeline

SIZE = (640, 360)
THUMBNAIL = (160, 90)
THUMBNAIL_INTERVAL_S = 0.25
MARGIN = 8


class NextPreset:
    """The next preset, loaded in the background, and its thumbnail (redrawn every THUMBNAIL_INTERVAL_S)."""

    def __init__(self, ctx: moderngl.Context, pipeline: FramePipeline):
        self.pipeline = pipeline
        self.look = Look(ctx, pipeline.preset.look)
        self.picture = picture_buffer(ctx, THUMBNAIL)
        self.name = ""
        self._loading: Future | None = None
        self._loaded: LoadedPreset | None = None
        self._drawn_at = -1.0

    def name_of_next(self, params: Params, presets: list[str]) -> str:
        cued = self.pipeline.cued
        if cued is not None:
            return cued.preset.name
        return presets[(int(params["preset"]) + 1) % len(presets)]

    def update(self, features: FrameFeatures, params: Params, presets: list[str], now: float) -> bool:
        """Follow the next preset and redraw its thumbnail when it is due; whether there is one to show."""
        name = self.name_of_next(params, presets)
        if name != self.name:
            if self._loading is not None:
                self._loading.cancel()
            self.name, self._loaded, self._drawn_at = name, None, -1.0
            self._loading = self.pipeline.loader.request(name)
        if self._loaded is None:
            result = outcome(self._loading)
            if not isinstance(result, LoadedPreset):
                return False  # still loading, or it does not load (the switch to it will say why)
            self._loaded, self._loading = result, None
        if now - self._drawn_at >= THUMBNAIL_INTERVAL_S:
            self.pipeline.draw_other(self._loaded, self.look, features, THUMBNAIL, self.picture, params)
            self._drawn_at = now
        return True

    def release(self) -> None:
        if self._loading is not None:
            self._loading.cancel()
        self.look.release()
        release_picture(self.picture)


class Preview:
    """The performer's window, sharing ``show``'s GL objects; draws nothing into the show window."""

    def __init__(self, show: Window, pipeline: FramePipeline):
        self.show = show
        self.window = Window("vj preview", SIZE, vsync=False, share=show)  # the show's swap keeps time
        if not show.fullscreen:
            self.window.place_beside(show)
        self.window.make_current()
        self.presenter = Presenter(self.window.ctx)
        self.hud = Hud(self.window.ctx)
        show.make_current()
        self.next = NextPreset(show.ctx, pipeline)
        self._shared: dict[tuple[int, tuple[int, int]], moderngl.Texture] = {}

    def _texture(self, picture: moderngl.Framebuffer) -> moderngl.Texture:
        """``picture``'s texture as the preview's context sees it (the same GL texture, shared)."""
        texture = picture.color_attachments[0]
        key = (texture.glo, texture.size)
        if key not in self._shared:
            self._shared[key] = self.window.ctx.external_texture(texture.glo, texture.size, 4, 0, "f1")
        return self._shared[key]

    def draw(self, picture: moderngl.Framebuffer, hud: HudState | None, now: float,
             features: FrameFeatures | None, params: Params, presets: list[str]) -> None:
        """After the show window's frame is drawn and finished: the preview's frame (``hud``: None while the
        HUD is hidden), then the show's context is current again."""
        thumbnail = features is not None and self.next.update(features, params, presets, now)
        if thumbnail:
            self.show.ctx.finish()  # the thumbnail is drawn in the show's context: done before it is sampled
        self.window.make_current()
        width, height = self.window.size
        self.presenter.show_texture(self._texture(picture), (0, 0, width, height))
        if thumbnail:
            self.presenter.show_texture(self._texture(self.next.picture),
                                        (width - THUMBNAIL[0] - MARGIN, MARGIN, *THUMBNAIL))
        if hud is not None:
            self.hud.draw(hud, now, (width, height))
        self.window.swap()
        self.show.make_current()

    @property
    def keys(self) -> list[str]:
        return self.window.keys

    def close(self) -> None:
        self.next.release()
        self.window.close()
        self.show.make_current()
