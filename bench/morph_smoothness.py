"""How smooth a preset switch is: the largest change between consecutive frames against the whole change,
for each way of getting from one preset to the next, on the real pipeline (EGL look included).

    .venv/bin/python bench/morph_smoothness.py [--net 24x4] [--beats 4]

Rows: a frame-by-frame straight line through weight space (the naive morph), the keyframed morph vj
uses, and a crossfade of the two pictures. 8-bit levels at 30 fps, 120 BPM, default -> nebula.
"""

from __future__ import annotations

import argparse

import numpy as np

import vj.render.pipeline as pipeline_module
from vj.audio.features import FrameFeatures
from vj.control.standard import show_params
from vj.look.headless import OffscreenTarget, headless_context
from vj.presets import resolve_preset
from vj.render.pipeline import FramePipeline


def run(net: str, beats: int, crossfade: bool, keyframe_s: float, ctx) -> tuple[float, float, float]:
    """(largest step, whole change, largest step of the mean brightness) over the switch."""
    pipeline_module.KEYFRAME_S = keyframe_s
    preset = resolve_preset("default", net=net)
    pipeline = FramePipeline(preset, "cpu", ctx, net=net)
    params = show_params(preset)
    target = OffscreenTarget(ctx, 160, 90)
    pictures = []
    seconds = beats * 0.5 + 0.3
    for n in range(int(seconds * 30) + 2):
        t = 10.0 + n / 30
        if n == 1:
            pipeline.switch("nebula", beats, crossfade)
            pipeline.wait_for_loads()
        features = FrameFeatures(index=n, bass=0.3, mid=0.2, treble=0.2, centroid=0.5, rolloff=0.5, flux=0.1,
                                 time=t, beat=0.0, rms=0.3, tempo_bpm=120.0, beat_phase=0.0, onset=0.0)
        params.advance(t)
        pipeline.draw(features, (80, 45), target.framebuffer, params)
        pictures.append(target.read().astype(np.float32))
    target.release()
    pipeline.release()
    steps = [np.abs(a - b).mean() for a, b in zip(pictures, pictures[1:])]
    means = [p.mean() for p in pictures]
    return max(steps), float(np.abs(pictures[0] - pictures[-1]).mean()), max(np.abs(np.diff(means)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", default="24x4")
    parser.add_argument("--beats", type=int, default=4)
    args = parser.parse_args()
    ctx = headless_context()
    print(f"{'path':<28} {'largest step':>12} {'whole change':>12} {'step/whole':>10} {'brightness step':>15}")
    for name, crossfade, keyframe_s in (("straight weight line (naive)", False, 1e-6),
                                        ("keyframed morph (vj)", False, pipeline_module.KEYFRAME_S),
                                        ("crossfade", True, pipeline_module.KEYFRAME_S)):
        step, whole, bright = run(args.net, args.beats, crossfade, keyframe_s, ctx)
        print(f"{name:<28} {step:>12.1f} {whole:>12.1f} {step / whole:>10.2f} {bright:>15.1f}")


if __name__ == "__main__":
    main()
