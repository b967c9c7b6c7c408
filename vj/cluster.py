"""`vj render --cluster`: a render (or a replay) cut into parts that Ray workers draw side by side,
joined into the video one process makes.

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
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType

import numpy as np
from tqdm import tqdm

from vj.audio.decode import AudioSource, open_audio
from vj.audio.features import feature_rows
from vj.audio.framestream import FrameStream
from vj.errors import VJError
from vj.output.frames import PngWriter
from vj.output.join import encode_sound, join_parts
from vj.output.video import take_channels
from vj.record.replay import ReplaySettings, analyse_show, load_show, output_fps
from vj.record.replay_parts import cut_replay
from vj.render.partcache import PartCache, file_digest
from vj.render.plan import RenderPlan, plan_render
from vj.render.segments import PART_S, PartResult, cut_render, plan_parts
from vj.render.settings import RenderSettings

INSTALL_HINT = "pip install 'vj[cluster]' (Ray)"
CONNECT_TIMEOUT_S = 5.0
"""How long a cluster given by address may take to answer before the render gives up on it."""
TASK_RETRIES = 3
"""Times Ray runs a part again after its worker process died (a bug in a part is not retried)."""
MAX_WORKERS_PER_GPU = 8
CORES_PER_GPU_WORKER = 2
"""A GPU worker's look, read-back and x264 keep about two cores busy."""
SOUND_FILE = "sound.m4a"
"""The render's sound, encoded beside its parts while they are drawn."""
AUDIO_BLOCK = 1 << 16
"""Samples of a replay's sound handed to the join at a time."""
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


def draw_part(job, shared: object, board) -> PartResult:
    """A Ray task: one part (a render's `PartJob` or a replay's `ReplayPartJob`), drawn in a worker from
    what the object store holds for all of them."""
    from vj.engine.device import load_triton_first

    load_triton_first()  # before this worker's first GL context (see its docstring)
    board.started.remote(job.number, os.getpid())
    return job.draw(shared, _Reporter(board, job.number))


class _Session:
    """A connection to the cluster for one render: which device and resources its workers get, and the
    parts run as Ray tasks, kept as they finish, and joined."""

    def __init__(self, spec: ClusterSpec, progress: bool):
        self.spec, self.progress = spec, progress
        self.ray = import_ray()
        self.started = time.perf_counter()
        self.local = _connect(self.ray, spec)

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc) -> None:
        self.ray.shutdown()

    def device(self, asked: str) -> str:
        """The device the workers draw on (``asked``: auto, cuda or cpu)."""
        self.resources = self.ray.cluster_resources()
        device = _device_for(asked, self.resources.get("GPU", 0.0), self.spec.text)
        self.workers, self.task_resources = _workers(self.local, device, self.resources)
        return device

    def run(self, jobs: list, shared: object, output: Path, frames_dir: Path | None, audio: Iterable[np.ndarray],
            channels: int, frames: int, analysis_s: float) -> ClusterResult:
        """Draw the ``jobs`` not finished by an earlier run (each from ``shared``, put into the object store
        once), keep each as it finishes, then join them with ``audio`` into ``output``."""
        cache = PartCache(output)
        pngs = PngWriter(frames_dir) if frames_dir else None
        keys = [cache.key(*job.identity(shared)) for job in jobs]
        todo = [job for job in jobs if not cache.has(keys[job.number], [] if pngs is None else map(pngs.path, job.kept))]
        reused = len(jobs) - len(todo)
        if reused:
            print(f"vj: {reused} of {len(jobs)} parts were finished by an earlier run; rendering the other "
                  f"{len(todo)}", file=sys.stderr)
        clock = time.perf_counter()
        shared_ref = self.ray.put(shared)
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


def _device_for(asked: str, gpus: float, cluster: str) -> str:
    """The device the workers render on: the cluster's GPUs when it has any and ``asked`` allows."""
    if asked not in ("auto", "cuda", "cpu"):
        raise VJError(f"--device {asked!r}: choose auto, cuda or cpu")
    if asked == "cuda" and gpus <= 0:
        raise VJError(f"--device cuda: the cluster ({cluster}) has no GPU; use --device cpu")
    return "cuda" if asked == "cuda" or (asked == "auto" and gpus > 0) else "cpu"


def _workers(local: int, device: str, resources: dict[str, float]) -> tuple[int, dict[str, float]]:
    """(workers, each task's Ray resources). Local: ``local`` workers share the cores (and GPUs) evenly.
    A cluster without GPUs: one worker per CPU core. With GPUs: several workers share each GPU, two cores
    each, up to `MAX_WORKERS_PER_GPU`: the net takes a small share of a GPU worker's frame and the look's
    upload, the read-back and x264 the rest (an H200 with 16 cores gave 2.6x one worker's frames with 8
    sharing it, `bench/workers_per_machine.py`)."""
    cpus, gpus = resources.get("CPU", 1.0), resources.get("GPU", 0.0)
    if local:
        each = {"num_cpus": max(1, int(cpus) // local)}
        if device == "cuda":
            each["num_gpus"] = gpus / local
        return local, each
    if device == "cuda":
        per_gpu = max(1, min(MAX_WORKERS_PER_GPU, int(cpus / gpus) // CORES_PER_GPU_WORKER))
        return int(gpus) * per_gpu, {"num_cpus": max(1, int(cpus / gpus) // per_gpu), "num_gpus": 1 / per_gpu}
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
