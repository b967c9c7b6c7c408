"""What a cluster render costs its driver beside the workers' drawing, measured at the size of a long set.

- analysis: decoding and analysing the demo track once at --fps (the driver does it alone), as seconds
  per second of audio;
- object store: putting the feature table of a set of --hours at --fps, a worker getting it, and the
  driver getting back a part's video (--part-mb, about a 10 s 4K60 part);
- join: encoding the sound once (seconds of audio a second; while the workers draw) and copying the
  parts' H.264 packets into the joined file (MB/s).

`docs/SCALING.md` projects long renders from these and from `bench/workers_per_machine.py`.

    python bench/cluster_overheads.py [--hours 2] [--fps 60] [--part-mb 40]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from vj.audio.decode import open_audio
from vj.audio.features import FrameFeatures, feature_rows
from vj.audio.framestream import FrameStream
from vj.output.join import encode_sound, join_parts
from vj.output.video import VideoWriter
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
        ray.get(rows.remote(ray.put(table[:10])))  # a worker up and warm
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
    """60 s of sound encoded (the driver does it while the workers draw); 8 parts of 2 s of 720p30 noise
    (a bitrate far above a render's), as workers write them, joined with it."""
    rng = np.random.default_rng(1)
    parts = []
    for number in range(8):
        parts.append(folder / f"part-{number}.mp4")
        with VideoWriter(parts[-1], 1280, 720, Fraction(30), audio_channels=0, preset="ultrafast") as writer:
            for frame in range(number * 60, (number + 1) * 60):
                writer.write_frame(rng.integers(0, 255, (720, 1280, 3), np.uint8), frame)
    sound = [np.random.default_rng(2).standard_normal((48000, 2)).astype(np.float32) * 0.1] * 60
    started = time.perf_counter()
    encode_sound(sound, folder / "sound.m4a")
    sound_s = time.perf_counter() - started
    started = time.perf_counter()
    join_parts(parts, folder / "joined.mp4", folder / "sound.m4a")
    copy_s = time.perf_counter() - started
    return {"copy_mb_s": sum(part.stat().st_size for part in parts) / 1e6 / copy_s, "sound_x": 60 / sound_s}


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
          f"a worker's get {store['worker_get_s'] * 1000:.1f} ms; a part's video back at {store['result_mb_s']:.0f} MB/s")
    with tempfile.TemporaryDirectory(prefix="vj-join-") as folder:
        join = join_rates(Path(folder))
    print(f"sound           encoded at {join['sound_x']:.0f}x real time: {args.hours * 3600 / join['sound_x']:.0f} s "
          f"for {args.hours:g} h (while the workers draw)")
    print(f"join            packets copied at {join['copy_mb_s']:.0f} MB/s")


if __name__ == "__main__":
    main()
