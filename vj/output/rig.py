"""Outputs into the rest of a VJ's rig (`--output`): NDI on the network, a v4l2loopback virtual camera,
Spout (Windows) and Syphon (macOS). Each is a sink behind one small interface, opened from its spec.

Pixel sinks (NDI, v4l2) take the picture read back once a frame (`vj.output.readback`) in a thread of their
own (`vj.output.fanout`); texture sinks (Spout, Syphon) hand the GL texture itself to the other program, on
the render thread, with no copy through the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

import numpy as np

from vj.errors import VJError

KINDS = ("ndi", "v4l2", "spout", "syphon")
DEFAULT_NAME = "vj"


@dataclass(frozen=True)
class OutputSpec:
    """``--output KIND[:ARG]``: the kind, and its NDI source name or v4l2 device (None: the default)."""

    kind: str
    arg: str | None = None

    def __str__(self) -> str:
        return self.kind if self.arg is None else f"{self.kind}:{self.arg}"


def parse_output(text: str) -> OutputSpec:
    kind, _, arg = text.strip().partition(":")
    kind = kind.lower()
    if kind not in KINDS:
        raise VJError(f"--output {text!r}: use ndi[:NAME], v4l2[:/dev/videoN], spout or syphon")
    if arg and kind in ("spout", "syphon"):
        raise VJError(f"--output {text!r}: {kind} takes no argument (the source is named {DEFAULT_NAME!r})")
    return OutputSpec(kind, arg or None)


@dataclass(frozen=True)
class OutputFormat:
    """What every output sends: the picture's size and rate, and the input audio's."""

    size: tuple[int, int]
    fps: Fraction
    sample_rate: int
    channels: int


@dataclass(frozen=True)
class OutputFrame:
    """One picture for the pixel sinks: RGBA, top row first; the input audio that came in with it
    ((samples, channels) float32); its time in the show, in 100 ns units (NDI's timecode)."""

    pixels: np.ndarray
    audio: np.ndarray
    timecode: int


class PixelSink(Protocol):
    name: str

    def send(self, frame: OutputFrame) -> None: ...

    def summary(self) -> dict: ...

    def close(self) -> None: ...


class TextureSink(Protocol):
    name: str

    def send_texture(self, texture_id: int, size: tuple[int, int]) -> None: ...

    def close(self) -> None: ...


def open_sink(spec: OutputSpec, fmt: OutputFormat) -> PixelSink | TextureSink:
    """The sink for ``spec``, ready to send; a one-line VJError saying how to get it where it cannot open."""
    if spec.kind == "ndi":
        from vj.output.ndi import NdiSink

        return NdiSink(spec.arg or DEFAULT_NAME, fmt)
    if spec.kind == "v4l2":
        from vj.output.virtualcam import VirtualCamera

        return VirtualCamera(spec.arg, fmt)
    from vj.output.texshare import open_texture_share

    return open_texture_share(spec.kind, DEFAULT_NAME)


def is_texture_sink(sink: PixelSink | TextureSink) -> bool:
    return hasattr(sink, "send_texture")
