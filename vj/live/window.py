"""The show window: glfw + a moderngl context, windowed or fullscreen on any monitor, keys as a queue.

glfw is imported here only, so an offline render never needs a display. Under Xvfb vsync does not cap
the frame rate; `vj.live.pacer` paces frames whatever the driver does.
"""

from __future__ import annotations

import os

import moderngl

from vj.errors import VJError

NO_DISPLAY = ("no display: `vj live` and `vj evolve` need a screen ({why}); to make a video without one, "
              "use `vj render AUDIO -o OUT.mp4`")


def _glfw():
    """glfw, initialised, or a one-line VJError when there is no display to open."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        raise VJError(NO_DISPLAY.format(why="DISPLAY is not set"))
    try:
        import glfw
    except ImportError as error:  # the wheel ships libglfw; this means a broken install
        raise VJError(f"glfw cannot be loaded ({error}); reinstall vj") from None
    glfw.ERROR_REPORTING = "raise"
    try:
        glfw.init()
    except glfw.GLFWError as error:
        raise VJError(NO_DISPLAY.format(why=str(error).split("] ", 1)[-1].rstrip("."))) from None
    return glfw


def check_display() -> None:
    """Raise the one-line no-display error now, before anything slow starts."""
    _glfw()


def monitors() -> list[dict]:
    """The connected monitors: name, current mode, position (for `vj devices` and --fullscreen)."""
    glfw = _glfw()
    found = []
    for index, monitor in enumerate(glfw.get_monitors()):
        mode = glfw.get_video_mode(monitor)
        x, y = glfw.get_monitor_pos(monitor)
        found.append({"index": index, "name": glfw.get_monitor_name(monitor).decode(errors="replace"),
                      "width": mode.size.width, "height": mode.size.height, "refresh_hz": mode.refresh_rate,
                      "x": x, "y": y})
    return found


class Window:
    """A resizable window with an OpenGL 3.3 core context made current on the calling thread.

    Args:
        size: windowed size in screen coordinates.
        fullscreen: None for windowed; a monitor index or a case-insensitive part of its name, or "" for
            the primary monitor.
        vsync: ask the driver to sync swaps to the display.
        share: a window whose GL objects this one's context shares (the performer's preview draws the
            show window's textures); its context is current again when this returns.
    """

    def __init__(self, title: str, size: tuple[int, int] = (1280, 720), fullscreen: str | None = None,
                 vsync: bool = True, share: Window | None = None):
        glfw = self._glfw = _glfw()
        for hint, value in ((glfw.CONTEXT_VERSION_MAJOR, 3), (glfw.CONTEXT_VERSION_MINOR, 3),
                            (glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE), (glfw.OPENGL_FORWARD_COMPAT, True)):
            glfw.window_hint(hint, value)
        try:
            self.handle = glfw.create_window(size[0], size[1], title, None, share.handle if share else None)
        except glfw.GLFWError as error:
            if share is None:
                glfw.terminate()
            raise VJError(f"cannot open an OpenGL 3.3 window: {str(error).split('] ', 1)[-1]}") from None
        self._owns_glfw = share is None
        glfw.make_context_current(self.handle)
        glfw.swap_interval(1 if vsync else 0)
        self.ctx = moderngl.create_context()
        if share is not None:
            share.make_current()
        self._windowed = (*glfw.get_window_pos(self.handle), *size)
        self.keys: list[str] = []
        """Keys pressed since the loop last looked: typed characters ('f', '[', 'T', ' '), 'escape', 'up', 'down'."""
        glfw.set_char_callback(self.handle, lambda _w, codepoint: self.keys.append(chr(codepoint)))
        glfw.set_key_callback(self.handle, self._on_key)
        self.clicks: list[tuple[float, float]] = []
        """Left clicks since the loop last looked, as (x, y) fractions of the window from its top-left."""
        glfw.set_mouse_button_callback(self.handle, self._on_click)
        if fullscreen is not None:
            self.set_fullscreen(fullscreen)

    def _on_key(self, _window, key, _scancode, action, _mods) -> None:
        glfw = self._glfw
        names = {glfw.KEY_ESCAPE: "escape", glfw.KEY_UP: "up", glfw.KEY_DOWN: "down"}
        held = action == glfw.REPEAT and key != glfw.KEY_ESCAPE  # arrows repeat; a held Esc must not quit twice
        if key in names and (action == glfw.PRESS or held):
            self.keys.append(names[key])

    def _on_click(self, _window, button, action, _mods) -> None:
        glfw = self._glfw
        if button == glfw.MOUSE_BUTTON_LEFT and action == glfw.PRESS:
            x, y = glfw.get_cursor_pos(self.handle)
            width, height = glfw.get_window_size(self.handle)
            self.clicks.append((x / max(width, 1), y / max(height, 1)))

    @property
    def fullscreen(self) -> bool:
        return bool(self._glfw.get_window_monitor(self.handle))

    def set_fullscreen(self, which: str = "") -> None:
        """Go fullscreen on the monitor ``which`` names (index or name part; "" is the primary)."""
        glfw = self._glfw
        monitor = _pick_monitor(glfw, which)
        if not self.fullscreen:
            self._windowed = (*glfw.get_window_pos(self.handle), *glfw.get_window_size(self.handle))
        mode = glfw.get_video_mode(monitor)
        glfw.set_window_monitor(self.handle, monitor, 0, 0, mode.size.width, mode.size.height, mode.refresh_rate)

    def toggle_fullscreen(self) -> None:
        """Between fullscreen (on the monitor the window is on) and the last windowed size and place."""
        if self.fullscreen:
            x, y, width, height = self._windowed
            self._glfw.set_window_monitor(self.handle, None, x, y, width, height, 0)
        else:
            self.set_fullscreen(str(self._current_monitor()))

    def _current_monitor(self) -> int:
        """Index of the monitor holding the window's centre (0 when it is on none)."""
        glfw = self._glfw
        x, y = glfw.get_window_pos(self.handle)
        width, height = glfw.get_window_size(self.handle)
        cx, cy = x + width // 2, y + height // 2
        for index, monitor in enumerate(glfw.get_monitors()):
            mx, my = glfw.get_monitor_pos(monitor)
            mode = glfw.get_video_mode(monitor)
            if mx <= cx < mx + mode.size.width and my <= cy < my + mode.size.height:
                return index
        return 0

    @property
    def size(self) -> tuple[int, int]:
        """The framebuffer's size in pixels (differs from the window size on HiDPI screens)."""
        return tuple(self._glfw.get_framebuffer_size(self.handle))

    @property
    def should_close(self) -> bool:
        return bool(self._glfw.window_should_close(self.handle))

    def poll(self) -> None:
        self._glfw.poll_events()

    def swap(self) -> None:
        self._glfw.swap_buffers(self.handle)

    def place_beside(self, other: Window) -> None:
        """Put this window just right of ``other`` (a windowed show: the preview must not cover it)."""
        x, y = self._glfw.get_window_pos(other.handle)
        width, _ = self._glfw.get_window_size(other.handle)
        self._glfw.set_window_pos(self.handle, x + width + 16, y)

    def make_current(self) -> None:
        """Make this window's GL context the calling thread's (with two windows, before drawing into one)."""
        self._glfw.make_context_current(self.handle)

    def hide_cursor(self) -> None:
        """No mouse pointer over this window (a projector's)."""
        self._glfw.set_input_mode(self.handle, self._glfw.CURSOR, self._glfw.CURSOR_HIDDEN)

    def close(self) -> None:
        self.make_current()
        self.ctx.release()
        self._glfw.destroy_window(self.handle)
        if self._owns_glfw:
            self._glfw.terminate()


def _pick_monitor(glfw, which: str):
    found = glfw.get_monitors()
    if not which:
        return glfw.get_primary_monitor()
    if which.isdigit() and int(which) < len(found):
        return found[int(which)]
    for monitor in found:
        if which.casefold() in glfw.get_monitor_name(monitor).decode(errors="replace").casefold():
            return monitor
    names = ", ".join(f"{i}: {glfw.get_monitor_name(m).decode(errors='replace')}" for i, m in enumerate(found))
    raise VJError(f"no monitor matches {which!r}; the monitors are {names}")
