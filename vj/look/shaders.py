"""The look's GLSL programs, built from the files in shaders/, reloaded live when a file changes.

A VJ tunes a shader during a show: `vj live` looks at the files' modification times twice a second,
rebuilds a program whose file changed, and keeps the last good program running (with the compile error
for the HUD) when the new text does not compile.
"""

from __future__ import annotations

import time
from pathlib import Path

import moderngl

from vj.errors import VJError
from vj.resources import resource_dir

CHECK_S = 0.5
VERTEX = "fullscreen.vert"


def shader_path(name: str) -> Path:
    return resource_dir("shaders") / name


def load_shader(name: str) -> str:
    path = shader_path(name)
    try:
        return path.read_text()
    except OSError as error:
        raise VJError(f"shader {path} cannot be read ({error.strerror}); reinstall vj") from None


def compile_error(error: Exception) -> str:
    """The first line of a GL compile log that says what is wrong."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in lines:
        if "error" in line.lower() and not line.lower().startswith("glsl compiler failed"):
            return line
    return lines[-1] if lines else type(error).__name__


class ShaderSet:
    """Fullscreen programs by fragment shader file name; ``watch`` turns on live reload.

    A shipped shader that does not compile at start is a broken install (a VJError); after the start a
    failed reload only sets ``errors[name]``.
    """

    def __init__(self, ctx: moderngl.Context, fragments: list[str], watch: bool = False):
        self.ctx, self.watch = ctx, watch
        self.programs: dict[str, moderngl.Program] = {}
        self.errors: dict[str, str] = {}
        self.reloads = 0
        self._stamps: dict[str, float] = {}
        self._next_check = 0.0
        for name in fragments:
            self._stamps[name] = self._stamp(name)
            try:
                self.programs[name] = self._build(name)
            except moderngl.Error as error:
                raise VJError(f"shader {shader_path(name)} does not compile: {compile_error(error)}") from None

    def __getitem__(self, name: str) -> moderngl.Program:
        return self.programs[name]

    def _stamp(self, name: str) -> float:
        try:
            return max(shader_path(name).stat().st_mtime_ns, shader_path(VERTEX).stat().st_mtime_ns)
        except OSError:
            return 0.0

    def _build(self, name: str) -> moderngl.Program:
        return self.ctx.program(vertex_shader=load_shader(VERTEX), fragment_shader=load_shader(name))

    def check(self) -> None:
        """When watching, at most every CHECK_S: rebuild programs whose files changed (their uniforms are
        new: the look sets them every frame anyway)."""
        now = time.monotonic()
        if not self.watch or now < self._next_check:
            return
        self._next_check = now + CHECK_S
        for name in self.programs:
            stamp = self._stamp(name)
            if stamp == self._stamps[name]:
                continue
            self._stamps[name] = stamp
            try:
                program = self._build(name)
            except (moderngl.Error, VJError) as error:
                self.errors[name] = compile_error(error) if isinstance(error, moderngl.Error) else str(error)
                continue
            self.programs[name].release()
            self.programs[name] = program
            self.errors.pop(name, None)
            self.reloads += 1

    def release(self) -> None:
        for program in self.programs.values():
            program.release()


def set_uniform(program: moderngl.Program, name: str, value) -> None:
    """Set ``name`` if the program uses it: the GLSL compiler drops unused uniforms, and an edited
    shader may have dropped any of them."""
    member = program.get(name, None)
    if member is not None:
        member.value = value
