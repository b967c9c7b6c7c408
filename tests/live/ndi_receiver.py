"""An NDI receiver for the output tests, in its own process as Resolume or OBS would be: finds the source
whose name contains NAME, connects, and receives until the source has been silent for 3 s (or --seconds).

Writes OUT.json: when each video frame arrived (monotonic), its timecode and size, the audio samples
received, and NDI's own count of frames it dropped; and OUT.npz: every --keep'th frame (RGBA, top row
first), keyed by timecode. --pause-at S --pause-for P stops reading for P seconds, S seconds after the
first frame, as a receiver that hangs would. Discovery needs NDI_CONFIG_DIR (see the tests' conftest).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import NDIlib as ndi

SILENT_S = 3.0


def find(name: str, timeout: float):
    finder = ndi.find_create_v2(ndi.FindCreate())
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ndi.find_wait_for_sources(finder, 500)
            for source in ndi.find_get_current_sources(finder):
                if name in source.ndi_name:
                    return source
        raise SystemExit(f"no NDI source named like {name!r} in {timeout:g} s")
    finally:
        ndi.find_destroy(finder)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("out")
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--keep", type=int, default=15)
    parser.add_argument("--pause-at", type=float)
    parser.add_argument("--pause-for", type=float, default=3.0)
    args = parser.parse_args()
    if not ndi.initialize():
        raise SystemExit("NDI does not run here")
    source = find(args.name, 60.0)
    create = ndi.RecvCreateV3()
    create.color_format = ndi.RECV_COLOR_FORMAT_RGBX_RGBA
    receiver = ndi.recv_create_v3(create)
    ndi.recv_connect(receiver, source)
    frames, kept, audio_samples, paused = [], {}, 0, None
    started = time.monotonic()
    heard = started
    while time.monotonic() - heard < SILENT_S and time.monotonic() - started < args.seconds:
        if args.pause_at is not None and paused is None and frames and time.monotonic() - frames[0][0] >= args.pause_at:
            paused = [time.monotonic(), 0.0]
            time.sleep(args.pause_for)
            paused[1] = time.monotonic()
            heard = paused[1]
        kind, video, audio, _ = ndi.recv_capture_v2(receiver, 100)
        if kind == ndi.FRAME_TYPE_VIDEO:
            heard = time.monotonic()
            frames.append((heard, video.timecode, video.xres, video.yres))
            if len(frames) % args.keep == 0:
                kept[str(video.timecode)] = np.array(video.data, copy=True)
            ndi.recv_free_video_v2(receiver, video)
        elif kind == ndi.FRAME_TYPE_AUDIO:
            heard = time.monotonic()
            audio_samples += audio.no_samples
            ndi.recv_free_audio_v2(receiver, audio)
    total, dropped = ndi.recv_get_performance(receiver)
    ndi.recv_destroy(receiver)
    ndi.destroy()
    np.savez(args.out + ".npz", **kept)
    with open(args.out + ".json", "w") as out:
        json.dump({"frames": frames, "audio_samples": audio_samples, "paused": paused,
                   "ndi_total_video": total.video_frames, "ndi_dropped_video": dropped.video_frames}, out)


if __name__ == "__main__":
    main()
