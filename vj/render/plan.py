"""What a render of some settings draws, resolved once: the device, the quality, the preset with the
command line laid over it, and the frame range.

One process rendering a file resolves it for itself; a cluster's driver resolves it once and sends it to
every worker, so a worker on another machine (with its own presets folder, or a GPU the driver lacks)
draws what the driver asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from vj.control.params import Params
from vj.control.standard import show_params
from vj.engine.net import Layers
from vj.engine.weights import load_weights
from vj.presets import Preset, resolve_preset
from vj.render.quality import Quality, quality_for
from vj.render.settings import RenderSettings
from vj.timebase import Timebase


@dataclass(frozen=True)
class RenderPlan:
    settings: RenderSettings
    """With ``device`` resolved to 'cpu' or 'cuda'."""
    quality: Quality
    preset: Preset
    weights: Layers | None
    """The preset's pinned weights, read here (a worker elsewhere has no copy of the file)."""
    first: int
    """The first frame (--start), counted from the start of the audio; the video's time 0."""
    last: int | None
    """One past the last frame (--duration); None: to the end of the audio."""

    @property
    def timebase(self) -> Timebase:
        return Timebase(self.settings.fps)

    def params(self) -> Params:
        """The live parameters at the render's first frame, before it advances them."""
        return show_params(self.preset, overrides=self.settings.params)

    def frames_in(self, duration_s: float | None) -> int | None:
        """Frames the render makes from audio of ``duration_s`` (None when neither is known)."""
        in_file = None if not duration_s else max(0, round(duration_s * float(self.settings.fps)) - self.first)
        if self.last is None:
            return in_file
        return self.last - self.first if in_file is None else min(in_file, self.last - self.first)


def plan_render(settings: RenderSettings, device_type: str | None = None) -> RenderPlan:
    """Resolve ``settings`` on ``device_type`` ('cpu' or 'cuda'; None: the device ``settings`` names, as
    this machine resolves it)."""
    if device_type is None:
        from vj.engine.device import select_device  # torch: only where the plan is drawn

        device_type = select_device(settings.device)[0].type
    settings = replace(settings, device=device_type)
    quality = quality_for(settings.quality, device_type, settings.scale, settings.net)
    preset = resolve_preset(settings.preset, settings.seed, settings.evolution, quality.net)
    weights = None if preset.engine.weights is None else load_weights(preset.engine.weights, preset.engine.net)
    timebase = Timebase(settings.fps)
    first = timebase.frame_at(round(settings.start_s * timebase.sample_rate))
    last = None if settings.duration_s is None else first + max(1, round(settings.duration_s * float(settings.fps)))
    return RenderPlan(settings, quality, preset, weights, first, last)
