"""The outputs' own parts, without a live show: `--output` specs, the GPU read-back (real EGL context), the
per-output threads that drop rather than wait, and the one-line refusals of outputs this machine cannot
have (no v4l2loopback device, Spout and Syphon on Linux, NDI not installed). NDI itself is tested end to
end in tests/live/test_outputs.py."""

from __future__ import annotations

import sys
import threading
import time
from fractions import Fraction

import moderngl
import numpy as np
import pytest

from vj.errors import VJError
from vj.look.look import picture_buffer, release_picture
from vj.output.fanout import QUEUE, OutputThread
from vj.output.readback import PixelTap
from vj.output.rig import OutputFormat, OutputFrame, OutputSpec, open_sink, parse_output
from vj.output.virtualcam import loopback_devices

FORMAT = OutputFormat((64, 36), Fraction(30), 48000, 2)


def test_specs_name_a_kind_and_its_argument():
    assert parse_output("ndi") == OutputSpec("ndi")
    assert parse_output("ndi:Stage Left") == OutputSpec("ndi", "Stage Left")
    assert parse_output("V4L2:/dev/video7") == OutputSpec("v4l2", "/dev/video7")
    assert str(parse_output("ndi:A")) == "ndi:A"
    for bad, says in (("hdmi", "use ndi"), ("spout:x", "takes no argument"), ("", "use ndi")):
        with pytest.raises(VJError, match=says):
            parse_output(bad)


def _picture(ctx: moderngl.Context) -> moderngl.Framebuffer:
    """A 32x18 framebuffer whose top half is red and bottom half blue, as the look leaves a picture (GL's
    row 0 at the bottom)."""
    rgba = np.zeros((18, 32, 4), np.uint8)
    rgba[:9] = (255, 0, 0, 255)  # numpy row 0 is the top
    rgba[9:] = (0, 0, 255, 255)
    picture = picture_buffer(ctx, (32, 18))
    picture.color_attachments[0].write(np.ascontiguousarray(rgba[::-1]).tobytes())  # GL rows: bottom first
    return picture


def test_the_tap_scales_and_reads_back_top_row_first_one_frame_late(gl_ctx):
    tap = PixelTap(gl_ctx, (64, 36))
    picture = _picture(gl_ctx)
    try:
        tap.scale(picture)
        assert tap.read("first") is None, "the first read-back is still in flight"
        picture.clear(0.0, 1.0, 0.0, 1.0)  # the next frame is green
        tap.scale(picture)
        pixels, tag = tap.read("second")
        assert tag == "first" and pixels.shape == (36, 64, 4) and pixels.dtype == np.uint8
        assert (pixels[:16, :, :3] == (255, 0, 0)).all() and (pixels[20:, :, :3] == (0, 0, 255)).all()
        pixels, tag = tap.read("third")
        assert tag == "second" and (pixels[..., :3] == (0, 255, 0)).all()
    finally:
        release_picture(picture)
        tap.release()


class SlowSink:
    """A receiver that takes 50 ms a frame (a real one on a congested network)."""

    name = "slow"

    def __init__(self, fail: bool = False):
        self.received: list[int] = []
        self.fail = fail
        self.closed = threading.Event()

    def send(self, frame: OutputFrame) -> None:
        time.sleep(0.05)
        if self.fail:
            raise OSError("the network went away")
        self.received.append(frame.timecode)

    def summary(self) -> dict:
        return {}

    def close(self) -> None:
        self.closed.set()


def _frame(number: int) -> OutputFrame:
    return OutputFrame(np.zeros((36, 64, 4), np.uint8), np.zeros((0, 2), np.float32), number)


def test_a_slow_output_drops_frames_and_never_holds_up_the_sender():
    sink = SlowSink()
    thread = OutputThread(sink)
    started = time.monotonic()
    for number in range(40):  # 40 frames at once: the sink can take a couple
        thread.offer(_frame(number))
    offered_in = time.monotonic() - started
    time.sleep(0.05 * (QUEUE + 2))
    thread.close()
    assert offered_in < 0.05, "offering must never wait for the sink"
    assert thread.dropped >= 40 - QUEUE - 2 and thread.sent == len(sink.received) == 40 - thread.dropped
    assert sink.received == sorted(sink.received) and sink.closed.is_set()


def test_a_failing_output_is_reported_and_the_show_goes_on():
    thread = OutputThread(SlowSink(fail=True))
    thread.offer(_frame(1))
    time.sleep(0.2)
    thread.offer(_frame(2))
    time.sleep(0.2)
    thread.close()
    summary = thread.summary()
    assert summary["failed"] == 2 and summary["sent"] == 0 and "the network went away" in summary["problem"]


def test_outputs_this_machine_cannot_have_say_how_in_one_line(monkeypatch):
    cases = [(OutputSpec("spout"), "Windows only"), (OutputSpec("syphon"), "macOS only"),
             (OutputSpec("v4l2", "/dev/video63"), "modprobe v4l2loopback")]
    if not loopback_devices():  # a machine with v4l2loopback would open it
        cases.append((OutputSpec("v4l2"), "no v4l2loopback device"))
    monkeypatch.setitem(sys.modules, "NDIlib", None)  # as if ndi-python were not installed
    cases.append((OutputSpec("ndi"), "pip install 'vj[ndi]'"))
    for spec, says in cases:
        with pytest.raises(VJError) as refused:
            open_sink(spec, FORMAT)
        assert says in str(refused.value) and "\n" not in str(refused.value), (spec, str(refused.value))
