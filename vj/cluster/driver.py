"""`vj render --cluster`: a render (or a replay) cut into parts that Ray workers draw side by side,
joined into the video one process makes.

The driver (this process) decodes and analyses the audio once (it is causal and cheap), walks the live
parameters through every frame, and puts the feature table into Ray's object store once; each part is a
Ray task that draws its frames after a pre-roll and sends back an H.264 segment that starts on a
keyframe (`vj.render.segments`). Finished parts are kept beside the output as they come in
(`vj.render.partcache`). The driver encodes the sound once while they draw; when all parts are there,
it copies their packets and the sound's into one MP4 (`vj.output.join`).

Faults: a worker process that dies mid-part has its part run again by Ray (task retries); a part that
fails for good is reported in one line while the others finish; Ctrl-C stops the workers and keeps the
finished parts, so the same command resumes where it stopped.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vj.audio.decode import AudioSource, open_audio
from vj.audio.features import feature_rows
from vj.audio.framestream import FrameStream
from vj.cluster.connect import ClusterSpec, connect, device_for, import_ray, parse_cluster, workers_for
from vj.cluster.worker import BOARD_PREFIX, REPORT_S, ProgressBoard, draw_part
from vj.errors import VJError
from vj.output.frames import PngWriter
from vj.output.join import encode_sound, join_parts
from vj.output.video import take_channels
from vj.record.replay import ReplaySettings, analyse_show, load_show, output_fps
from vj.record.replay_parts import cut_replay
from vj.render.partcache import PartCache, file_digest
from vj.render.plan import RenderPlan, plan_render
from vj.render.segments import PART_S, cut_render, plan_parts
from vj.render.settings import RenderSettings

TASK_RETRIES = 3
"""Times Ray runs a part again after its worker process died (a bug in a part is not retried)."""
SOUND_FILE = "sound.m4a"
"""The render's sound, encoded beside its parts while they are drawn."""
AUDIO_BLOCK = 1 << 16
"""Samples of a replay's sound handed to the join at a time."""


@dataclass(frozen=True)
class ClusterResult:
    output: Path
    frames: int
    complete: bool
    """False when the user stopped the render: the finished parts are kept for the next run."""
    workers: int
    parts: int
    reused: int
    """Parts an earlier run had finished."""
    restarts: int
    """Parts Ray ran again because their worker died."""
    seconds: float
    """Wall-clock seconds from connecting to the finished file."""
    analysis_s: float
    transfer_s: float
    """Putting the feature table into the object store."""
    join_s: float
    """From the last part to the finished file: waiting for the sound (encoded meanwhile) and the join."""


def render_on_cluster(settings: RenderSettings, cluster: str, part_s: float | None = None,
                      progress: bool = True) -> ClusterResult:
    """Render ``settings`` on the Ray cluster ``cluster`` in parts of ``part_s`` seconds (None: `PART_S`)."""
    spec = parse_cluster(cluster)
    settings.check()
    part_s = _part_seconds(part_s)
    with _Session(spec, progress) as session:
        plan = plan_render(settings, session.device(settings.device))
        clock = time.perf_counter()
        source = open_audio(settings.audio)
        table = _analyse(source, plan, progress)
        analysis_s = time.perf_counter() - clock
        parts = plan_parts(plan.first, plan.first + len(table), settings.fps, plan.params()["feedback"], part_s)
        jobs = cut_render(plan, table, parts, pngs=settings.frames_dir is not None)
        timebase = plan.timebase
        audio = source.span(timebase.frame_start(plan.first), timebase.frame_start(plan.first + len(table)))
        return session.run(jobs, table, settings.output, settings.frames_dir, audio, 2, len(table), analysis_s)


def replay_on_cluster(settings: ReplaySettings, cluster: str, part_s: float | None = None,
                      progress: bool = True) -> ClusterResult:
    """Replay a recorded show (`vj render --replay`) on the Ray cluster ``cluster`` in parts."""
    spec = parse_cluster(cluster)
    part_s = _part_seconds(part_s)
    show, audio = load_show(settings)
    with _Session(spec, progress) as session:
        settings = replace(settings, device=session.device(settings.device or show.header["device"]))
        fps = output_fps(show, settings)
        clock = time.perf_counter()
        analysis = analyse_show(show, audio, fps)
        analysis_s = time.perf_counter() - clock
        jobs = cut_replay(show, analysis, settings, part_s, file_digest([settings.log, show.audio_path]))
        channels = min(show.header["channels"], 2)
        end = analysis.audio_end(fps, len(audio))
        sound = (take_channels(audio[i : min(i + AUDIO_BLOCK, end)], channels) for i in range(0, end, AUDIO_BLOCK))
        return session.run(jobs, (show, analysis), settings.output, settings.frames_dir, sound, channels,
                           sum(len(job.kept) for job in jobs), analysis_s)


def _part_seconds(part_s: float | None) -> float:
    if part_s is None:
        return PART_S
    if not 1.0 <= part_s <= 600.0:
        raise VJError(f"--chunk {part_s:g}: use 1 to 600 seconds")
    return part_s


class _Session:
    """A connection to the cluster for one render: which device and resources its workers get, and the
    parts run as Ray tasks, kept as they finish, and joined."""

    def __init__(self, spec: ClusterSpec, progress: bool):
        self.spec, self.progress = spec, progress
        self.ray = import_ray()
        self.started = time.perf_counter()
        self.local = connect(self.ray, spec)

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc) -> None:
        self.ray.shutdown()

    def device(self, asked: str) -> str:
        """The device the workers draw on (``asked``: auto, cuda or cpu)."""
        self.resources = self.ray.cluster_resources()
        device = device_for(asked, self.resources.get("GPU", 0.0), self.spec.text)
        self.workers, self.task_resources = workers_for(self.local, device, self.resources)
        return device

    def run(self, jobs: list, shared: object, output: Path, frames_dir: Path | None, audio: Iterable[np.ndarray],
            channels: int, frames: int, analysis_s: float) -> ClusterResult:
        """Draw the ``jobs`` not finished by an earlier run (each from ``shared``, put into the object store
        once), keep each as it finishes, then join them with ``audio`` into ``output``."""
        cache = PartCache(output)
        pngs = PngWriter(frames_dir) if frames_dir else None
        keys = [cache.key(*job.identity(shared)) for job in jobs]
        todo = [job for job in jobs
                if not cache.has(keys[job.number], [] if pngs is None else map(pngs.path, job.kept))]
        reused = len(jobs) - len(todo)
        if reused:
            print(f"vj: {reused} of {len(jobs)} parts were finished by an earlier run; rendering the other "
                  f"{len(todo)}", file=sys.stderr)
        clock = time.perf_counter()
        shared_ref = self.ray.put(shared) if todo else None  # nothing to send when every part is cached
        transfer_s = time.perf_counter() - clock
        sound, stop = cache.folder / SOUND_FILE, threading.Event()
        cache.folder.mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(1, thread_name_prefix="vj-sound") as pool:  # the sound encodes while workers draw
            encoding = pool.submit(encode_sound, audio, sound, channels, stop=stop)
            try:
                complete, restarts = self._render(todo, keys, shared_ref, cache, pngs) if todo else (True, 0)
            except BaseException:
                stop.set()
                raise
            if not complete:
                stop.set()
            clock = time.perf_counter()
            encoding.result()  # its error, if it had one; after a stop it leaves no file
        join_s = 0.0
        if complete:
            join_parts([cache.path(key) for key in keys], output, sound)
            cache.clear()
            join_s = time.perf_counter() - clock
        return ClusterResult(output, frames, complete, self.workers, len(jobs), reused, restarts,
                             time.perf_counter() - self.started, analysis_s, transfer_s, join_s)

    def _render(self, todo: list, keys: list[str], shared_ref, cache: PartCache,
                pngs: PngWriter | None) -> tuple[bool, int]:
        """Run the parts ``todo`` as Ray tasks and keep each as it finishes. Returns (False when the user
        stopped it, the parts Ray ran again); raises when a part failed for good (after the others
        finished)."""
        ray = self.ray
        name = f"{BOARD_PREFIX}{socket.gethostname()}-{os.getpid()}"
        board = ray.remote(num_cpus=0)(ProgressBoard).options(name=name).remote()
        task = ray.remote(draw_part).options(max_retries=TASK_RETRIES, retry_exceptions=False, **self.task_resources)
        running = {task.remote(job, shared_ref, board): job for job in todo}
        by_number = {job.number: job for job in todo}
        bar = tqdm(total=sum(len(job.kept) for job in todo), unit="frame", desc=f"render ({self.workers} workers)",
                   disable=not self.progress, file=sys.stderr, smoothing=0.1)
        kept, failed, starts_seen = 0, [], {}
        try:
            with bar:
                while running:
                    ready, _ = ray.wait(list(running), num_returns=len(running), timeout=REPORT_S)
                    for ref in ready:
                        job = running.pop(ref)
                        try:
                            result = ray.get(ref)
                        except ray.exceptions.RayError as error:
                            failed.append(job)
                            bar.write(f"vj: part {job.number + 1} ({job.label}) failed: {_reason(error)}")
                            continue
                        for index, png in result.pngs:  # its PNGs first: a cached part has all its files
                            pngs.put(index, png)
                        cache.store(keys[job.number], result.video)
                        kept += len(job.kept)
                    board_parts = ray.get(board.read.remote())
                    for number, part in board_parts.items():
                        if part.starts > starts_seen.get(number, 1):
                            bar.write(f"vj: part {number + 1} ({by_number[number].label}): its worker stopped; "
                                      f"Ray runs it again (try {part.starts})")
                        starts_seen[number] = part.starts
                    bar.n = kept + sum(board_parts[job.number].frames for job in running.values()
                                       if job.number in board_parts)
                    bar.refresh()
        except KeyboardInterrupt:
            for ref in running:
                ray.cancel(ref, force=True)
            return False, 0
        if failed:
            raise VJError(f"{len(failed)} of {len(keys)} parts failed (see above); the {cache.finished()} finished "
                          f"are kept in {cache.folder}: run the same command again to render only the rest")
        return True, sum(count - 1 for count in starts_seen.values())


def _analyse(source: AudioSource, plan: RenderPlan, progress: bool) -> np.ndarray:
    """The render's feature table: every frame's features, analysed once, here."""
    bar = tqdm(total=plan.frames_in(source.duration_s), unit="frame", desc="analyse", leave=False,
               disable=not progress, file=sys.stderr)
    with bar:
        frames = []
        for _, features, _ in FrameStream(source, plan.timebase, plan.first, plan.last):
            frames.append(features)
            bar.update()
    return feature_rows(frames)


def _reason(error: Exception) -> str:
    """One line for a part that failed: its own error where it raised one, else what Ray says."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, VJError):
        return str(cause)
    if cause is not None:
        return f"{type(cause).__name__}: {str(cause).strip().splitlines()[0] if str(cause).strip() else ''}"
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
