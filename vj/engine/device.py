"""Which torch device and precision the engine runs on: CUDA in FP16, the CPU in fp32."""

from __future__ import annotations

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
    return torch.device("cpu"), torch.float32
