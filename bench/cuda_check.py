"""On a machine with an NVIDIA GPU: the CUDA paths against the CPU's fp32 reference, before timing them.

    python bench/cuda_check.py

Prints, per net: the PSNR of the torch FP16 path, the fused Triton kernel and its CUDA graph against
fp32 on the CPU, and the largest difference between the fused kernel and the torch FP16 path. Exits 1
when a CUDA path is further from fp32 than the engine's tolerance (`vj.engine.forward.TOLERANCE_DB`).
"""

from __future__ import annotations

import sys

import numpy as np
import torch

from vj.engine.cppn import CPPN, Canvas
from vj.engine.forward import TOLERANCE_DB, psnr
from vj.engine.net import NetSpec

NETS = [NetSpec(), NetSpec(32, 4), NetSpec(24, 4), NetSpec(64, 8, ("sin", "gaussian"))]
SIZE = (384, 216)


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA GPU here")
        return 2
    print(f"{torch.cuda.get_device_name()}  torch {torch.__version__}")
    cuda = torch.device("cuda")
    failed = False
    rng = np.random.default_rng(3)
    for spec in NETS:
        reference = CPPN(spec, seed=7, coord_scale=0.35, evolution=1.0, mixed=False)
        net = CPPN(spec, seed=7, device=cuda, dtype=torch.float16, coord_scale=0.35, evolution=1.0)
        other = CPPN(NetSpec(spec.width, spec.depth, ("cos", "tanh")), seed=8, device=cuda, dtype=torch.float16)
        other_ref = CPPN(NetSpec(spec.width, spec.depth, ("cos", "tanh")), seed=8, mixed=False)
        canvases = {"torch": Canvas(cuda, torch.float16, fused=False), "fused": Canvas(cuda, torch.float16, fused=True),
                    "graphed": Canvas(cuda, torch.float16, fused=True, graphed=True)}
        for t in (0.0, 9.0):
            inputs = rng.uniform(0, 0.4, 9).astype(np.float32)
            for label, state, ref_state in (("", net.state(t), reference.state(t)),
                                            (" blend", net.state(t).blend(other.state(0.0), 0.3),
                                             reference.state(t).blend(other_ref.state(0.0), 0.3))):
                fp32 = Canvas().render(ref_state, inputs, *SIZE)
                pictures = {name: c.render(state, inputs, *SIZE).astype(np.float32) for name, c in canvases.items()}
                scores = {name: psnr(p, fp32) for name, p in pictures.items()}
                gap = float(np.abs(pictures["fused"] - pictures["torch"]).max())
                print(f"{str(spec):<6} t={t:<4}{label:<6} PSNR vs fp32: "
                      + "  ".join(f"{name} {score:5.1f} dB" for name, score in scores.items())
                      + f"   max |fused - torch| {gap:.4f}")
                failed |= min(scores.values()) < TOLERANCE_DB - 3.0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
