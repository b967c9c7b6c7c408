"""MP4 music videos (H.264 yuv420p + AAC) that survive Ctrl-C and a killed process.

While rendering, packets go to a *fragmented* MP4 next to the output (``OUT.partial.mp4``): a fragment is
complete at every keyframe (every 2 s), so a process killed mid-render leaves a file that plays up to the
last finished fragment. ``close()`` flushes the encoders and copies the packets (no re-encode) into a normal
MP4 with the index at the front (``faststart``), written under a temporary name and renamed into place.

Timestamps. The fragmented file has no edit lists, so the muxer shifts the whole timeline to make the
earliest decode time 0: x264's B-frames start at dts -2 frames, and AAC's first packet is 1024 "priming"
samples at pts -1024. In the partial file both streams move by the same amount (they stay in sync) but the
AAC priming packet is stretched to fill the gap, so its timestamps cannot be read back as they were; and
where the first frame comes later than 0 (a recording's first picture, a replay's first slot) the muxer
moved the video's first packet by another amount than the rest (0.64 frame apart, measured). The remux
therefore puts the timeline back from what the encoders reported: each video packet's pts and dts as
x264 gave them, in order, and the audio from its first packet's pts (-1024), fixed frame size and the
samples written. Given
negative start times, the regular MP4 muxer writes edit lists, and a decoder then starts frame 0 and audio
sample 0 both at t=0, with the priming skipped. Measured with PyAV on a click track: after this rewrite the
click decodes at its exact sample time and the stream durations are exact; a plain packet copy instead started
both streams 66 ms late (the B-frame shift) with the priming audible as a stretched first packet.
"""

from __future__ import annotations

import functools
import os
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np

from vj.errors import VJError

_FRAGMENTED = "frag_keyframe+empty_moov+default_base_moof"
_BT709 = 1  # AVCOL_PRI/TRC/SPC_BT709: tag what we convert with, so players do not guess BT.601 for SD sizes.
_MPEG_RANGE = 1  # AVCOL_RANGE_MPEG (limited, 16-235): what every player expects from H.264.


def take_channels(audio: np.ndarray, channels: int) -> np.ndarray:
    """A show's input as the video's audio: mono as is, stereo from the first two inputs (or a mono one twice)."""
    return audio[:, :channels] if audio.shape[1] >= channels else np.repeat(audio, channels, axis=1)


def upright(pixels: bytes, size: tuple[int, int]) -> np.ndarray:
    """A GL read-back of an RGB picture of ``size`` (bottom row first) as an upright (height, width, 3) view."""
    width, height = size
    return np.frombuffer(pixels, np.uint8).reshape(height, width, 3)[::-1]


@functools.cache
def encoder_name() -> str:
    """'h264_nvenc' where it really opens (FFmpeg lists it even without a GPU), else 'libx264'."""
    try:
        ctx = av.CodecContext.create("h264_nvenc", "w")
        ctx.width, ctx.height, ctx.pix_fmt = 256, 144, "yuv420p"
        ctx.time_base = Fraction(1, 30)
        ctx.open()
        ctx.encode(av.VideoFrame(256, 144, "yuv420p"))
    except (av.FFmpegError, ValueError):
        return "libx264"
    return "h264_nvenc"


def _video_options(codec: str, crf: int, preset: str) -> dict[str, str]:
    """Quality settings per encoder: NVENC has no CRF or x264 presets; constant-quality VBR is its match."""
    if codec == "h264_nvenc":
        return {"rc": "vbr", "cq": str(crf), "preset": "p5"}
    return {"crf": str(crf), "preset": preset}


def audio_frame(samples: np.ndarray, layout, sample_rate: int, pts: int) -> av.AudioFrame:
    """(k, channels) float32 samples as an encoder's input frame starting at sample ``pts``."""
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples.T, dtype=np.float32), format="fltp",
                                       layout=layout)
    frame.sample_rate, frame.pts, frame.time_base = sample_rate, pts, Fraction(1, sample_rate)
    return frame


class VideoWriter:
    """H.264 (yuv420p) + AAC in MP4, written crash-safe."""

    def __init__(self, path: Path, width: int, height: int, fps: Fraction, *, sample_rate: int = 48000,
                 audio_channels: int = 2, crf: int = 18, preset: str = "veryfast",
                 audio_bitrate: int = 192_000, threads: int = 0) -> None:
        if width % 2 or height % 2 or width <= 0 or height <= 0:
            raise VJError(f"video size {width}x{height} cannot be encoded as yuv420p: "
                          "width and height must be positive and even; use e.g. 1280x720")
        if audio_channels not in (0, 1, 2):
            raise ValueError(f"audio_channels must be 0, 1 or 2, not {audio_channels}")
        self.path = Path(path)
        self.partial_path = self.path.with_name(self.path.stem + ".partial.mp4")
        self.width, self.height, self.fps = width, height, Fraction(fps)
        self.sample_rate, self.audio_channels = sample_rate, audio_channels
        self.frames_written = 0
        self._next_pts = 0
        self._video_times: list[tuple[int, int]] = []  # (pts, dts) in frames of each packet, as x264 gave them
        self._samples_written = 0
        self._audio_first_pts: int | None = None
        self._kept: bool | None = None  # set by finish: whether the final MP4 was made
        # flush_packets: each finished fragment reaches the OS at once, so a kill loses only the one in progress.
        self._out = av.open(str(self.partial_path), "w", format="mp4",
                            container_options={"movflags": _FRAGMENTED, "flush_packets": "1"})
        codec = encoder_name()
        options = _video_options(codec, crf, preset)
        if threads:
            options["threads"] = str(threads)
        self._video = self._out.add_stream(codec, rate=self.fps, options=options)
        ctx = self._video.codec_context
        ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
        ctx.time_base = 1 / self.fps
        ctx.gop_size = max(1, round(2 * self.fps))
        ctx.color_primaries = ctx.color_trc = ctx.colorspace = _BT709
        ctx.color_range = _MPEG_RANGE
        self._audio = None
        if audio_channels:
            self._audio = self._out.add_stream("aac", rate=sample_rate,
                                               layout="stereo" if audio_channels == 2 else "mono")
            self._audio.bit_rate = audio_bitrate

    def write_frame(self, rgb: np.ndarray, pts: int | None = None) -> None:
        """Encode a frame shown at ``pts / fps`` (default: right after the last one; a later ``pts`` leaves
        a gap in which the previous frame stays up). A picture of another size is scaled to the video's
        (bilinear): a live recording and its replay scale the look's picture the same way."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"frame must be uint8 (height, width, 3), got {rgb.dtype} {rgb.shape}")
        pts = self._next_pts if pts is None else pts
        if pts < self._next_pts:
            raise ValueError(f"frame pts {pts} is not after the last one ({self._next_pts - 1})")
        scale = {} if rgb.shape[:2] == (self.height, self.width) else {
            "width": self.width, "height": self.height, "interpolation": "BILINEAR"}
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24").reformat(
            format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG", **scale)
        frame.pts = pts
        frame.time_base = self._video.codec_context.time_base
        self._mux_video(self._video.encode(frame))
        self.frames_written += 1
        self._next_pts = pts + 1

    def _mux_video(self, packets: list[av.Packet]) -> None:
        self._video_times.extend((packet.pts, packet.dts) for packet in packets)
        self._out.mux(packets)

    def write_audio(self, samples: np.ndarray) -> None:
        """Append (k, channels) float32 samples; the encoder cuts them into AAC frames itself."""
        if self._audio is None:
            raise ValueError("this VideoWriter was made with audio_channels=0")
        if samples.ndim != 2 or samples.shape[1] != self.audio_channels:
            raise ValueError(f"audio must be (k, {self.audio_channels}), got {samples.shape}")
        if not len(samples):
            return
        frame = audio_frame(samples, self._audio.layout, self.sample_rate, self._samples_written)
        self._mux_audio(self._audio.encode(frame))
        self._samples_written += len(samples)

    def _mux_audio(self, packets: list[av.Packet]) -> None:
        if packets and self._audio_first_pts is None:
            self._audio_first_pts = packets[0].pts
        self._out.mux(packets)

    def close(self) -> Path:
        """Flush the encoders, remux into the final MP4 atomically, delete the partial file."""
        if not self.finish():
            raise VJError(f"no video frames were rendered, so {self.path} was not written")
        return self.path

    def finish(self) -> bool:
        """Do the work of close(); False (and no files left behind) when there was no frame to keep."""
        if self._kept is not None:
            return self._kept
        self._mux_video(self._video.encode(None))
        if self._audio is not None:
            self._mux_audio(self._audio.encode(None))
        self._out.close()
        if not self.frames_written:
            self.partial_path.unlink(missing_ok=True)
            self._kept = False
            return False
        finishing = self.path.with_name(self.path.stem + ".finishing.mp4")
        try:
            self._remux(finishing)
            os.replace(finishing, self.path)
        finally:
            finishing.unlink(missing_ok=True)
        self.partial_path.unlink()
        self._kept = True
        return True

    def _remux(self, target: Path) -> None:
        """Copy the partial file's packets into a regular MP4, restoring the timestamps (module doc)."""
        with av.open(str(self.partial_path)) as src, \
                av.open(str(target), "w", format="mp4", container_options={"movflags": "faststart"}) as dst:
            has_audio = self._audio_first_pts is not None
            inputs = [s for s in src.streams if s.type == "video" or (s.type == "audio" and has_audio)]
            outputs = {s.index: dst.add_stream_from_template(s) for s in inputs}
            frame_size = self._audio.codec_context.frame_size if has_audio else 0
            audio_index, video_index = 0, 0
            for packet in src.demux(inputs):
                if packet.dts is None:  # the demuxer's end-of-stream marker
                    continue
                if packet.stream.type == "video":
                    pts, dts = self._video_times[video_index]  # in frames
                    ticks = 1 / (self.fps * packet.time_base)
                    packet.pts, packet.dts = round(pts * ticks), round(dts * ticks)
                    video_index += 1
                else:
                    pts = self._audio_first_pts + audio_index * frame_size
                    packet.time_base = Fraction(1, self.sample_rate)
                    packet.pts = packet.dts = pts
                    packet.duration = min(frame_size, self._samples_written - pts)
                    audio_index += 1
                packet.stream = outputs[packet.stream.index]
                dst.mux(packet)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Keep what was rendered, also on Ctrl-C; an empty render is only an error if nothing else went wrong."""
        if exc_type is None:
            self.close()
        else:
            self.finish()
