"""Which torch device and precision the engine runs on: CUDA in FP16, the CPU in fp32."""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from vj.errors import VJError

DEVICES = ("auto", "cuda", "cpu")


def select_device(name: str = "auto") -> tuple[torch.device, torch.dtype]:
    """Resolve --device: 'auto' takes CUDA when torch sees it; asking for CUDA without one is an error."""
    if name not in DEVICES:
        raise VJError(f"--device {name!r}: choose auto, cuda or cpu")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}"
            raise VJError(
                f"--device cuda: torch {torch.__version__} ({build}) sees no CUDA GPU; "
                "install the CUDA build of torch (see README) or use --device cpu"
            )
        return torch.device("cuda"), torch.float16
    tune_threads()
    return torch.device("cpu"), torch.float32


def load_triton_first() -> None:
    """Import Triton, where it is installed, before any GL context exists. Triton carries its own LLVM,
    and importing it into a process where Mesa's llvmpipe (also LLVM) is already loaded crashes it
    (triton 3.9 with Mesa 22's llvmpipe: a segfault on import); the other order works. torch.compile
    imports Triton, and so does the fused kernel."""
    if "triton" in sys.modules or importlib.util.find_spec("triton") is None:
        return
    try:
        import triton  # noqa: F401
    except Exception:  # noqa: BLE001 - a broken Triton only costs the paths that need it
        pass


@functools.cache
def physical_cores() -> int:
    """Cores this process may run on, counting a core's hyper-threads once (they share its vector units,
    which a matrix product keeps busy: a second thread on a core only contends). Read once: every canvas
    asks (`vj evolve` makes nine a pick)."""
    allowed = os.sched_getaffinity(0)
    cores, cpu, physical = set(), None, "0"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "processor":
                    cpu = int(value)
                elif key == "physical id":
                    physical = value
                elif key == "core id" and cpu in allowed:
                    cores.add((physical, value))
    except (OSError, ValueError):
        return len(allowed)
    return len(cores) or len(allowed)


def engine_workers() -> int:
    """How many chunks the CPU engine runs at once: OMP_NUM_THREADS where set, else one per physical core."""
    try:
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    except (KeyError, ValueError):
        return max(1, physical_cores())


def tune_threads() -> None:
    """torch runs each CPU op on one thread; the engine runs chunks side by side instead (`Canvas`).

    Why: torch splits every op evenly over its threads, and all of them wait for the last. In a render
    the look and the encoder take a core now and then, and every op waited for the thread they displaced
    (a 720p30 render ran at 61% of the net's own speed). Whole chunks on their own threads do not wait
    for each other: the thread on the free core goes on with the next chunk."""
    torch.set_num_threads(1)


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """torch's own threads for the ops inside: for work that is not the engine's chunks (the naive
    reference path, the roofline's products), which should use the machine as a plain torch program does."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
