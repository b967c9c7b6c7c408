"""A show's outputs (`--output`, several at once): one read-back a frame feeds them all.

Each pixel sink (NDI, v4l2) sends from a thread of its own through a queue of `QUEUE` frames. When a
receiver is slow or gone, its queue is full and the frame is dropped for that output only (counted for the
HUD and --stats): an output never slows the show. Texture sinks (Spout, Syphon) get the scaled texture on
the render thread, which is a copy on the GPU.
"""

from __future__ import annotations

import queue
import threading

import moderngl
import numpy as np

from vj.output.readback import PixelTap
from vj.output.rig import OutputFormat, OutputFrame, OutputSpec, PixelSink, TextureSink, is_texture_sink, open_sink

QUEUE = 2
"""Frames an output may fall behind before it drops: enough to ride out a hiccup, little enough latency."""
CLOSE_S = 2.0


class OutputThread:
    """Sends frames to one pixel sink off the render thread."""

    def __init__(self, sink: PixelSink):
        self.sink = sink
        self.sent = self.dropped = self.failed = 0
        self.problem = ""
        self._queue: queue.Queue[OutputFrame | None] = queue.Queue(QUEUE)
        self._thread = threading.Thread(target=self._run, name=f"vj output {sink.name}", daemon=True)
        self._thread.start()

    def offer(self, frame: OutputFrame) -> None:
        """Queue ``frame``, or drop it when the sink is behind."""
        try:
            self._queue.put_nowait(frame)
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        while (frame := self._queue.get()) is not None:
            try:
                self.sink.send(frame)
            except Exception as error:  # noqa: BLE001 - a failing output must not end the show
                self.failed += 1
                self.problem = f"{type(error).__name__}: {error}"
            else:
                self.sent += 1

    def close(self) -> None:
        """Stop after the frame being sent; a sink stuck inside its library is left to its daemon thread."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(None)
        self._thread.join(CLOSE_S)
        if not self._thread.is_alive():
            self.sink.close()

    def summary(self) -> dict:
        return {"name": self.sink.name, "sent": self.sent, "dropped": self.dropped, "failed": self.failed,
                "problem": self.problem, **self.sink.summary()}


class Outputs:
    """Opens every output in ``specs`` (all or none: a one-line VJError names the first that cannot open)
    and feeds them the look's final pictures, scaled to ``fmt.size``."""

    def __init__(self, ctx: moderngl.Context, specs: list[OutputSpec], fmt: OutputFormat):
        self.format = fmt
        sinks: list[PixelSink | TextureSink] = []
        try:
            for spec in specs:
                sinks.append(open_sink(spec, fmt))
        except BaseException:
            for sink in sinks:
                sink.close()
            raise
        self.tap = PixelTap(ctx, fmt.size)
        self.threads = [OutputThread(sink) for sink in sinks if not is_texture_sink(sink)]
        self.texture_sinks = [sink for sink in sinks if is_texture_sink(sink)]
        self.texture_problem = ""

    def send(self, picture: moderngl.Framebuffer, audio: np.ndarray, sample: int) -> None:
        """Send ``picture`` with the input ``audio`` that came in with it; ``sample``: when it is seen, in
        samples of the show (its timecode)."""
        self.tap.scale(picture)
        for sink in self.texture_sinks:
            try:
                sink.send_texture(self.tap.texture.glo, self.format.size)
            except Exception as error:  # noqa: BLE001 - a failing output must not end the show
                self.texture_problem = f"{sink.name}: {type(error).__name__}: {error}"
        if not self.threads:
            return
        timecode = sample * 10_000_000 // self.format.sample_rate  # NDI counts in 100 ns
        done = self.tap.read((audio, timecode))
        if done is not None:
            pixels, (audio, timecode) = done
            frame = OutputFrame(pixels, audio, timecode)
            for thread in self.threads:
                thread.offer(frame)

    def hud(self) -> tuple[list[str], list[str]]:
        """(lines, warnings) for the HUD: each output with what it dropped."""
        lines = [f"OUT {thread.sink.name}  {thread.sent} sent, {thread.dropped} dropped" for thread in self.threads]
        lines += [f"OUT {sink.name}" for sink in self.texture_sinks]
        warnings = [f"output {thread.sink.name}: {thread.problem}" for thread in self.threads if thread.problem]
        return lines, warnings + ([f"output {self.texture_problem}"] if self.texture_problem else [])

    def summary(self) -> dict:
        return {"size": list(self.format.size), "fps": str(self.format.fps),
                "outputs": [thread.summary() for thread in self.threads]
                + [{"name": sink.name, "problem": self.texture_problem} for sink in self.texture_sinks]}

    def close(self) -> None:
        for thread in self.threads:
            thread.close()
        for sink in self.texture_sinks:
            sink.close()
        self.tap.release()
