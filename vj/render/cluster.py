"""`vj render --cluster`: a render cut into parts that Ray workers draw side by side, joined into the
video one process makes.

The driver (this process) decodes and analyses the audio once (it is causal and cheap), walks the live
parameters through every frame, and puts the feature table into Ray's object store once; each part is a
Ray task that draws its frames after a pre-roll and sends back an H.264 segment that starts on a
keyframe (`vj.render.segments`). Finished parts are kept beside the output as they come in
(`vj.render.partcache`); when all are there, the driver copies their packets into one MP4 and encodes
the sound once (`vj.output.join`).

Faults: a worker process that dies mid-part has its part run again by Ray (task retries); a part that
fails for good is reported in one line while the others finish; Ctrl-C stops the workers and keeps the
finished parts, so the same command resumes where it stopped.

Ray is imported here only, and only when a cluster is asked for: a plain render never loads it.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
from tqdm import tqdm

from vj.audio.decode import open_audio
from vj.audio.features import feature_rows
from vj.audio.framestream import FrameStream
from vj.errors import VJError
from vj.output.frames import PngWriter
from vj.output.join import join_parts
from vj.render.partcache import PartCache
from vj.render.plan import RenderPlan, plan_render
from vj.render.segments import PART_S, PartJob, PartResult, cut_render, plan_parts, render_job
from vj.render.settings import RenderSettings

INSTALL_HINT = "pip install 'vj[cluster]' (Ray)"
CONNECT_TIMEOUT_S = 5.0
"""How long a cluster given by address may take to answer before the render gives up on it."""
TASK_RETRIES = 3
"""Times Ray runs a part again after its worker process died (a bug in a part is not retried)."""
REPORT_S = 0.5
"""How often workers report their frames and the driver redraws the progress bar."""


@dataclass(frozen=True)
class ClusterSpec:
    """``--cluster``: a local Ray runtime of ``workers`` workers, a running cluster (auto), or an address."""

    text: str
    workers: int | None = None
    """local: workers to start (None: one per physical core)."""
    address: str | None = None
    """'auto', or ray://HOST:PORT."""


def parse_cluster(text: str) -> ClusterSpec:
    """'local', 'local:N', 'auto' or 'ray://HOST:PORT'."""
    if text == "local":
        return ClusterSpec(text)
    if match := re.fullmatch(r"local:(\d+)", text):
        if not 1 <= int(match[1]) <= 256:
            raise VJError(f"--cluster {text}: use 1 to 256 local workers")
        return ClusterSpec(text, workers=int(match[1]))
    if text == "auto" or re.fullmatch(r"ray://[^:/\s]+:\d+", text):
        return ClusterSpec(text, address=text)
    raise VJError(f"--cluster {text!r}: use local, local:N (N workers here), auto (the cluster in RAY_ADDRESS "
                  "or started here with `ray start --head`) or ray://HOST:PORT")


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


def render_on_cluster(settings: RenderSettings, cluster: str, part_s: float = PART_S,
                      progress: bool = True) -> ClusterResult:
    """Render ``settings`` on the Ray cluster ``cluster`` in parts of ``part_s`` seconds."""
    spec = parse_cluster(cluster)
    settings.check()
    if not 1.0 <= part_s <= 600.0:
        raise VJError(f"--chunk {part_s:g}: use 1 to 600 seconds")
    ray = import_ray()
    started = time.perf_counter()
    workers = _connect(ray, spec)
    try:
        return _Driver(ray, spec, settings, workers, progress).run(part_s, started)
    finally:
        ray.shutdown()


def import_ray() -> ModuleType:
    os.environ.setdefault("RAY_CLIENT_INITIAL_CONNECTION_TIMEOUT_S", str(int(CONNECT_TIMEOUT_S)))
    try:
        import ray
    except ImportError:
        raise VJError(f"--cluster needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


def _connect(ray: ModuleType, spec: ClusterSpec) -> int:
    """Start or join the cluster; returns how many local workers were asked for (0: the cluster's own)."""
    quiet = dict(logging_level=logging.ERROR, log_to_driver=False)
    if spec.address is None:
        from vj.engine.device import physical_cores

        workers = spec.workers or physical_cores()
        ray.init(num_cpus=max(workers, physical_cores()), **quiet)
        return workers
    address = spec.address
    if address == "auto":
        address = os.environ.get("RAY_ADDRESS", "auto")
    if address != "auto":
        _check_reachable(spec.text, address)
    try:
        ray.init(address=spec.address, **quiet)
    except Exception as error:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ValueError...
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if spec.address == "auto" and "RAY_ADDRESS" not in os.environ:
            reason = "no running Ray cluster found here and RAY_ADDRESS is not set"
        raise VJError(f"--cluster {spec.text}: cannot join the Ray cluster ({reason}); start one with "
                      "`ray start --head` (see README, Rendering on a cluster)") from None
    return 0


def _check_reachable(text: str, address: str) -> None:
    """Fail in seconds, not after Ray's minute of retries, when nothing listens at ``address``."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except (OSError, ValueError) as error:
        reason = "timed out" if isinstance(error, TimeoutError) else getattr(error, "strerror", None) or str(error)
        raise VJError(f"--cluster {text}: cannot reach {host}:{port} ({reason}); is the Ray head running "
                      "there (`ray start --head`) and its port open to this machine?") from None


BOARD_PREFIX = "vj-progress-"
"""Name of a render's progress board among the cluster's named actors (with the driver's host and pid)."""


@dataclass
class PartProgress:
    frames: int = 0
    """Frames the part's current attempt has kept."""
    starts: int = 0
    """Attempts so far: a second start means the first worker died and Ray runs the part again."""
    pid: int = 0
    """The process of the current attempt."""


class ProgressBoard:
    """A Ray actor the workers tell how far their parts are; the driver reads it for the progress bar."""

    def __init__(self) -> None:
        self.parts: dict[int, PartProgress] = {}

    def started(self, number: int, pid: int) -> None:
        before = self.parts.get(number, PartProgress())
        self.parts[number] = PartProgress(0, before.starts + 1, pid)

    def advance(self, number: int, frames: int) -> None:
        self.parts.setdefault(number, PartProgress()).frames = frames

    def read(self) -> dict[int, PartProgress]:
        return self.parts


class _Reporter:
    """Counts a part's frames in its worker and tells the board at most every `REPORT_S`."""

    def __init__(self, board, number: int):
        self.board, self.number, self.frames, self.told = board, number, 0, time.monotonic()

    def __call__(self, frames: int) -> None:
        self.frames += frames
        if time.monotonic() - self.told >= REPORT_S:
            self.board.advance.remote(self.number, self.frames)
            self.told = time.monotonic()


def draw_part(job: PartJob, table: np.ndarray, board) -> PartResult:
    """A Ray task: one part, drawn in a worker from the table in the object store."""
    board.started.remote(job.number, os.getpid())
    return render_job(job, table, _Reporter(board, job.number))


class _Driver:
    def __init__(self, ray: ModuleType, spec: ClusterSpec, settings: RenderSettings, workers: int, progress: bool):
        self.ray, self.spec, self.settings, self.progress = ray, spec, settings, progress
        resources = ray.cluster_resources()
        self.device = _device_for(settings.device, resources.get("GPU", 0.0), spec.text)
        self.workers, self.task_resources = _workers(workers, self.device, resources)
        self.cache = PartCache(settings.output)
        self.pngs = PngWriter(settings.frames_dir) if settings.frames_dir else None

    def run(self, part_s: float, started: float) -> ClusterResult:
        settings = self.settings
        plan = plan_render(settings, self.device)
        clock = time.perf_counter()
        table = self._analyse(plan)
        analysis_s = time.perf_counter() - clock
        parts = plan_parts(plan.first, plan.first + len(table), settings.fps, plan.params()["feedback"], part_s)
        jobs = cut_render(plan, table, parts, pngs=self.pngs is not None)
        keys = [self.cache.key(job, table) for job in jobs]
        todo = [job for job in jobs if not self.cache.has(keys[job.number], self._png_paths(job))]
        reused = len(jobs) - len(todo)
        if reused:
            print(f"vj: {reused} of {len(jobs)} parts were finished by an earlier run; rendering the other "
                  f"{len(todo)}", file=sys.stderr)
        clock = time.perf_counter()
        table_ref = self.ray.put(table)
        transfer_s = time.perf_counter() - clock
        complete, restarts = self._render(todo, keys, table_ref) if todo else (True, 0)
        join_s = 0.0
        if complete:
            clock = time.perf_counter()
            source = open_audio(settings.audio)
            timebase = plan.timebase
            audio = source.span(timebase.frame_start(plan.first), timebase.frame_start(plan.first + len(table)))
            join_parts([self.cache.path(key) for key in keys], settings.output, audio)
            self.cache.clear()
            join_s = time.perf_counter() - clock
        return ClusterResult(settings.output, len(table), complete, self.workers, len(jobs), reused, restarts,
                             time.perf_counter() - started, analysis_s, transfer_s, join_s)

    def _analyse(self, plan: RenderPlan) -> np.ndarray:
        """The render's feature table: every frame's features, analysed once, here."""
        source = open_audio(self.settings.audio)
        bar = tqdm(total=plan.frames_in(source.duration_s), unit="frame", desc="analyse", leave=False,
                   disable=not self.progress, file=sys.stderr)
        with bar:
            frames = []
            for _, features, _ in FrameStream(source, plan.timebase, plan.first, plan.last):
                frames.append(features)
                bar.update()
        return feature_rows(frames)

    def _png_paths(self, job: PartJob) -> list[Path]:
        return [] if self.pngs is None else [self.pngs.path(i) for i in range(job.part.start, job.part.end)]

    def _render(self, todo: list[PartJob], keys: list[str], table_ref) -> tuple[bool, int]:
        """Run the parts ``todo`` as Ray tasks and keep each as it finishes. Returns (False when the user
        stopped it, the parts Ray ran again); raises when a part failed for good (after the others
        finished)."""
        ray, fps = self.ray, self.settings.fps
        name = f"{BOARD_PREFIX}{socket.gethostname()}-{os.getpid()}"
        board = ray.remote(num_cpus=0)(ProgressBoard).options(name=name).remote()
        task = ray.remote(draw_part).options(max_retries=TASK_RETRIES, retry_exceptions=False, **self.task_resources)
        running = {task.remote(job, table_ref, board): job for job in todo}
        total = sum(job.part.end - job.part.start for job in todo)
        bar = tqdm(total=total, unit="frame", desc=f"render ({self.workers} workers)", disable=not self.progress,
                   file=sys.stderr, smoothing=0.1)
        kept, failed, starts_seen = 0, [], {}
        by_number = {job.number: job for job in todo}
        try:
            with bar:
                while running:
                    ready, _ = ray.wait(list(running), num_returns=len(running), timeout=REPORT_S)
                    for ref in ready:
                        job = running.pop(ref)
                        try:
                            self._keep(job, keys[job.number], ray.get(ref))
                            kept += job.part.end - job.part.start
                        except ray.exceptions.RayError as error:
                            failed.append(job)
                            bar.write(f"vj: part {job.number + 1} ({job.part.seconds(fps)}) failed: {_reason(error)}")
                    board_parts = ray.get(board.read.remote())
                    for number, part in board_parts.items():
                        if part.starts > starts_seen.get(number, 1):
                            bar.write(f"vj: part {number + 1} ({by_number[number].part.seconds(fps)}): "
                                      f"its worker stopped; Ray runs it again (try {part.starts})")
                        starts_seen[number] = part.starts
                    bar.n = kept + sum(board_parts[job.number].frames for job in running.values()
                                       if job.number in board_parts)
                    bar.refresh()
        except KeyboardInterrupt:
            for ref in running:
                ray.cancel(ref, force=True)
            return False, 0
        if failed:
            finished = self.cache.finished()
            raise VJError(f"{len(failed)} of {len(keys)} parts failed (see above); the {finished} finished are "
                          f"kept in {self.cache.folder}: run the same command again to render only the rest")
        return True, sum(count - 1 for count in starts_seen.values())

    def _keep(self, job: PartJob, key: str, result: PartResult) -> None:
        """A finished part into the cache, its PNGs (if any) first: a cached part has all its files."""
        for index, png in result.pngs:
            self.pngs.put(index, png)
        self.cache.store(key, result.video)


def _device_for(asked: str, gpus: float, cluster: str) -> str:
    """The device the workers render on: the cluster's GPUs when it has any and ``asked`` allows."""
    if asked not in ("auto", "cuda", "cpu"):
        raise VJError(f"--device {asked!r}: choose auto, cuda or cpu")
    if asked == "cuda" and gpus <= 0:
        raise VJError(f"--device cuda: the cluster ({cluster}) has no GPU; use --device cpu")
    return "cuda" if asked == "cuda" or (asked == "auto" and gpus > 0) else "cpu"


def _workers(local: int, device: str, resources: dict[str, float]) -> tuple[int, dict[str, float]]:
    """(workers, each task's Ray resources). Local: ``local`` workers share the cores (and GPUs) evenly.
    A cluster: one worker per GPU, or per CPU core on a cluster without GPUs (each draws one part)."""
    cpus, gpus = resources.get("CPU", 1.0), resources.get("GPU", 0.0)
    if local:
        each = {"num_cpus": max(1, int(cpus) // local)}
        if device == "cuda":
            each["num_gpus"] = gpus / local
        return local, each
    if device == "cuda":
        return int(gpus), {"num_cpus": 1, "num_gpus": 1}
    return max(1, int(cpus)), {"num_cpus": 1}


def _reason(error: Exception) -> str:
    """One line for a part that failed: its own error where it raised one, else what Ray says."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, VJError):
        return str(cause)
    if cause is not None:
        return f"{type(cause).__name__}: {str(cause).strip().splitlines()[0] if str(cause).strip() else ''}"
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
