"""Starting or joining the Ray cluster of a `vj render --cluster`, and how its workers share it.

Ray is imported here only, and only when a cluster is asked for: a plain render never loads it.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from dataclasses import dataclass
from types import ModuleType

from vj.errors import VJError

INSTALL_HINT = "pip install 'vj[cluster]' (Ray)"
CONNECT_TIMEOUT_S = 5.0
"""How long a cluster given by address may take to answer before the render gives up on it."""
MAX_WORKERS_PER_GPU = 8
CORES_PER_GPU_WORKER = 2
"""A GPU worker's look, read-back and x264 keep about two cores busy."""


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


def import_ray() -> ModuleType:
    os.environ.setdefault("RAY_CLIENT_INITIAL_CONNECTION_TIMEOUT_S", str(int(CONNECT_TIMEOUT_S)))
    try:
        import ray
    except ImportError:
        raise VJError(f"--cluster needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


def connect(ray: ModuleType, spec: ClusterSpec) -> int:
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


def device_for(asked: str, gpus: float, cluster: str) -> str:
    """The device the workers render on: the cluster's GPUs when it has any and ``asked`` allows."""
    if asked not in ("auto", "cuda", "cpu"):
        raise VJError(f"--device {asked!r}: choose auto, cuda or cpu")
    if asked == "cuda" and gpus <= 0:
        raise VJError(f"--device cuda: the cluster ({cluster}) has no GPU; use --device cpu")
    return "cuda" if asked == "cuda" or (asked == "auto" and gpus > 0) else "cpu"


def workers_for(local: int, device: str, resources: dict[str, float]) -> tuple[int, dict[str, float]]:
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
