"""What a cluster render costs its driver beside the workers' drawing, measured at the size of a long set.

- analysis: decoding and analysing the demo track once at --fps (the driver does it alone), as seconds
  per second of audio;
- object store: putting the feature table of a set of --hours at --fps, a worker getting it, and the
  driver getting back a part's video (--part-mb, about a 10 s 4K60 part);
- join: copying a part's H.264 packets into the joined file (MB/s), and encoding the sound once (seconds
  of audio per second).

`docs/SCALING.md` projects long renders from these and from `bench/workers_per_machine.py`.

    python bench/cluster_overheads.py [--hours 2] [--fps 60] [--part-mb 40]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from vj.audio.decode import open_audio
from vj.audio.features import FrameFeatures, feature_rows
from vj.audio.framestream import FrameStream
from vj.output.join import join_parts
from vj.resources import resource_dir
from vj.timebase import Timebase


def analysis_rate(fps: int) -> float:
    source = open_audio(resource_dir("assets") / "demo.ogg")
    started = time.perf_counter()
    frames = sum(1 for _ in FrameStream(source, Timebase(Fraction(fps)), 0, None))
    return (frames / fps) / (time.perf_counter() - started)


def object_store(frames: int, part_mb: float) -> dict[str, float]:
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        table = feature_rows([FrameFeatures(i, *([0.5] * 12)) for i in range(1000)])
        table = np.tile(table, (frames // 1000 + 1, 1))[:frames]
        started = time.perf_counter()
        ref = ray.put(table)
        put_s = time.perf_counter() - started
        rows = ray.remote(lambda t: len(t))
        ray.get(rows.remote(ref))  # a worker up and warm
        started = time.perf_counter()
        ray.get(rows.remote(ref))
        worker_get_s = time.perf_counter() - started
        part = ray.remote(lambda n: np.random.default_rng(0).bytes(n))
        size = int(part_mb * 1e6)
        ref = part.remote(size)
        ray.wait([ref])
        started = time.perf_counter()
        ray.get(ref)
        result_s = time.perf_counter() - started
        return {"table_mb": table.nbytes / 1e6, "put_s": put_s, "worker_get_s": worker_get_s,
                "result_mb_s": part_mb / result_s}
    finally:
        ray.shutdown()


def join_rates(folder: Path) -> dict[str, float]:
    """A 10 s 720p30 part of noise at a high bitrate, joined 8 times over; 60 s of sound encoded."""
    part = folder / "part.mp4"
    rng = np.random.default_rng(1)
    with av.open(str(part), "w") as out:
        stream = out.add_stream("libx264", rate=30, options={"preset": "ultrafast", "crf": "18"})
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        for n in range(300):
            picture = rng.integers(0, 255, (720, 1280, 3), np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = n
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    copies = 8
    started = time.perf_counter()
    join_parts([part] * copies, folder / "joined.mp4", [])
    copy_s = time.perf_counter() - started
    sound = [np.random.default_rng(2).standard_normal((48000, 2)).astype(np.float32) * 0.1] * 60
    started = time.perf_counter()
    join_parts([part], folder / "sound.mp4", sound)
    sound_s = time.perf_counter() - started - copy_s / copies
    return {"copy_mb_s": copies * part.stat().st_size / 1e6 / copy_s, "sound_x": 60 / sound_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--fps", type=int, default=60)
    parser.add_argument("--part-mb", type=float, default=40.0)
    args = parser.parse_args()
    frames = round(args.hours * 3600 * args.fps)
    rate = analysis_rate(args.fps)
    print(f"analysis        {rate:8.1f} s of audio a second at {args.fps} fps: {args.hours * 3600 / rate:7.1f} s "
          f"for {args.hours:g} h")
    store = object_store(frames, args.part_mb)
    print(f"object store    feature table of {frames} frames ({store['table_mb']:.0f} MB): put {store['put_s']:.2f} s, "
          f"a worker's get {store['worker_get_s']:.2f} s; a part's video back at {store['result_mb_s']:.0f} MB/s")
    with tempfile.TemporaryDirectory(prefix="vj-join-") as folder:
        join = join_rates(Path(folder))
    print(f"join            packets copied at {join['copy_mb_s']:.0f} MB/s; sound encoded at "
          f"{join['sound_x']:.0f}x real time: {args.hours * 3600 / join['sound_x']:.0f} s for {args.hours:g} h")


if __name__ == "__main__":
    main()
