"""One MP4 from parts rendered apart: their H.264 packets copied in order (no re-encode), with the sound
encoded once into a file of its own (`encode_sound`, which a cluster's driver runs while its workers
draw) and its AAC packets copied beside them.

Each part (`vj.render.segments`, `vj.record.replay_parts`) is its own encode, so it starts with a
keyframe, and its frames carry their place in the whole video: with the same encoder settings the parts'
decode times then follow on from each other as one encode's would (x264 delays decode times by the same
B-frames in every part), and the packets go into one stream unchanged. Copied AAC packets keep their
priming (the first packet's pts is -1024), so the sound decodes at its exact sample times (tested).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from contextlib import nullcontext
from pathlib import Path

import av
import numpy as np

from vj.errors import VJError
from vj.output.video import audio_frame


def encode_sound(blocks: Iterable[np.ndarray], path: Path, channels: int = 2, sample_rate: int = 48000,
                 bitrate: int = 192_000, stop: threading.Event | None = None) -> None:
    """The float32 ``blocks`` (1 or 2 ``channels``) as AAC in an M4A at ``path`` (whole or absent);
    ``stop`` set ends it early, leaving nothing."""
    writing = path.with_name(path.name + ".writing")
    try:
        with av.open(str(writing), "w", format="mp4") as out:
            sound = out.add_stream("aac", rate=sample_rate, layout="stereo" if channels == 2 else "mono")
            sound.bit_rate = bitrate
            written = 0
            for block in blocks:
                if stop is not None and stop.is_set():
                    return
                if len(block):
                    out.mux(sound.encode(audio_frame(block, sound.layout, sample_rate, written)))
                    written += len(block)
            out.mux(sound.encode(None))
        os.replace(writing, path)
    finally:
        writing.unlink(missing_ok=True)


def join_parts(parts: list[Path], output: Path, sound: Path | None) -> int:
    """Write ``output`` from the video ``parts`` (in order) and the AAC of ``sound`` (`encode_sound`);
    written under a temporary name and renamed into place. Returns the frames joined."""
    if not parts:
        raise VJError("no rendered parts to join")
    finishing = output.with_name(output.stem + ".joining.mp4")
    frames = 0
    try:
        with av.open(str(parts[0])) as first, (av.open(str(sound)) if sound else nullcontext()) as source, \
                av.open(str(finishing), "w", format="mp4", container_options={"movflags": "faststart"}) as out:
            video = out.add_stream_from_template(first.streams.video[0])
            audio = None if source is None else out.add_stream_from_template(source.streams.audio[0])
            last_dts = None
            for part in parts:
                copied, last_dts = _copy_video(part, video, out, last_dts)
                frames += copied
            if source is not None:
                for packet in source.demux(source.streams.audio[0]):
                    if packet.dts is not None:
                        packet.stream = audio
                        out.mux(packet)
        os.replace(finishing, output)
    finally:
        finishing.unlink(missing_ok=True)
    return frames


def _copy_video(part: Path, video: av.VideoStream, out: av.container.OutputContainer,
                last_dts: int | None) -> tuple[int, int | None]:
    """Copy ``part``'s packets after a part whose last decode time was ``last_dts``. Returns (packets
    copied, the last decode time). Where a part's frames are not evenly spaced (a replay's frames skip
    slots), its encoder may have started its decode times as far back as the last part's end: a seam
    packet then decodes one tick after the last part's last, still before it is shown (its keyframe
    comes after every frame of the part before)."""
    frames = 0
    with av.open(str(part)) as source:
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is None:  # the demuxer's end-of-stream marker
                continue
            if last_dts is not None and packet.dts <= last_dts:
                packet.dts = last_dts + 1
            last_dts = packet.dts
            packet.stream = video
            out.mux(packet)
            frames += 1
    return frames, last_dts
