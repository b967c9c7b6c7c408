"""`vj live`: the real-time loop around the offline engine.

Each display frame: read whatever audio arrived (never waiting for it), run the same streaming analyzer
the offline render runs, render the CPPN at the adaptive internal size, grade it with the look into an
offscreen picture, scale that to the window, draw the HUD, wait for the frame's deadline, present.

Time: the analyzer runs on the audio clock at the target rate, exactly as offline. The picture's time is
that clock carried forward to the moment the frame will be *seen*: the newest analysed sample's time,
plus how long ago it arrived, plus the measured render-to-present delay, the device's input latency and
``--av-offset``. Beat-locked effects read the predicted beat at that moment, so a flash lands on the beat
instead of a hop (or a frame, or a buffer) after it.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time
from collections import deque
from dataclasses import asdict, dataclass, replace
from fractions import Fraction

import moderngl
import numpy as np

from vj.audio.analyzer import Analyzer
from vj.audio.features import FrameFeatures
from vj.control.controls import Controls
from vj.control.keys import KEY_HELP
from vj.control.mapping import find_map, load_map, user_map_path
from vj.control.standard import show_params
from vj.live.hud import Hud, HudState
from vj.live.input import LiveInput
from vj.live.pacer import FramePacer
from vj.live.present import Presenter
from vj.live.recording import LiveRecording
from vj.live.resolution import ResolutionController
from vj.live.preview import Preview
from vj.live.settings import EVOLUTION_STEPS, LiveParams, LiveSettings, step_along
from vj.live.stats import FrameTrace, LiveStats
from vj.live.window import Window, check_display
from vj.look.look import picture_buffer, release_picture
from vj.presets import preset_choices, preset_names, resolve_preset
from vj.output.fanout import Outputs
from vj.output.rig import OutputFormat
from vj.record.lossless import quantize
from vj.record.recorder import RecordSettings
from vj.record.showlog import FrameRecord, logged_preset
from vj.render.saver import PresetSaver
from vj.timebase import ANALYSIS_RATE, Timebase

CPU_NET = "24x4"
"""The live net on a CPU: at 256x144 it renders in ~5 ms on two cores, and small nets make the smooth,
large shapes that upscale well. With CUDA the preset's own net (128x6 by default) runs at window size."""
CPU_START_HEIGHT = 144
QUIT_CONFIRM_S = 3.0
HISTORY_S = 2.0
"""Analysed frames kept, so a negative --av-offset can show the picture of a moment ago."""
KEYS = "keys"


@dataclass
class _Timing:
    """Smoothed delays the beat prediction needs, in seconds."""

    render_to_present: float = 1 / 60
    input_device: float = 0.0


class LiveSession:
    """One run of `vj live`; see the module doc. ``run`` returns the exit code."""

    def __init__(self, settings: LiveSettings):
        settings.check()
        self.settings = settings
        self.preset = resolve_preset(settings.preset, settings.seed, settings.evolution, settings.net)
        self.presets = preset_choices(settings.preset)
        self.params = show_params(self.preset, len(self.presets), self.presets.index(settings.preset),
                                  settings.params)
        map_path = find_map(settings.midi_map)
        self.controls = Controls(self.params, load_map(map_path, self.params, missing_ok=map_path == user_map_path()),
                                 settings.controls, preset_names(self.presets))
        check_display()
        self.trace: FrameTrace | None = None
        self.pipeline = None
        self.recording: LiveRecording | None = None
        self.outputs: Outputs | None = None
        self.preview: Preview | None = None
        self._quit = False

    def run(self) -> int:
        settings = self.settings
        window = Window("vj live", settings.size, settings.fullscreen, settings.vsync)
        audio = None
        previous = {number: signal.signal(number, self._on_terminate) for number in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.setup(window)
            audio = self.audio = LiveInput(settings.input, settings.channels)
            device = audio.open()
            self.timing.input_device = device["latency_ms"] / 1000.0
            self.hud_state.device = f"{device['name']} ({device['hostapi']})"
            self.controls.open()
            self._loop(window)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            ended = time.monotonic()
            if self.recording is not None:
                self.recording.close()  # first: the take is finished while the rest closes
            if self.outputs is not None:
                self.outputs.close()
            self.controls.close()
            if self.preview is not None:
                self.preview.close()
            if self.pipeline is not None:
                self.saver.wait()
                self.pipeline.release()
            if audio is not None:
                audio.close()
            if self.trace is not None:
                self.trace.close()
            window.close()
        if settings.stats is not None and audio is not None:
            self.stats.write(settings.stats, self._summary(ended))
        return 0

    def _on_terminate(self, _signum, _frame) -> None:
        """Ctrl-C and SIGTERM (a service manager, `kill`) end the show like q: after this frame (or after
        the warm-up, wherever it lands), stats written. A second one while stopping forces the way out."""
        if self._quit:
            raise KeyboardInterrupt
        self._quit = True

    # --- setup ---

    def setup(self, window: Window) -> None:
        """Build the engine, look, HUD and controllers for ``window`` (everything but the audio input)."""
        from vj.engine.device import select_device  # torch loads here, once the display is known to work
        from vj.render.pipeline import FramePipeline

        settings = self.settings
        ctx = window.ctx
        self.window = window
        if settings.outputs:  # first: an output that cannot open is one line before anything slow starts
            self.outputs = Outputs(ctx, list(settings.outputs), OutputFormat(
                settings.output_size or window.size, Fraction(settings.target_fps).limit_denominator(1001),
                ANALYSIS_RATE, min(len(settings.channels) or 2, 8)))
        on_gpu = select_device(settings.device)[0].type == "cuda"
        # Half the cores for the net on a CPU: the rest go to GL (a software rasterizer without a GPU), the
        # display server and audio. On two cores, a second engine thread made every frame slower, not faster.
        workers = max(1, (os.cpu_count() or 2) // 2)
        self._net = settings.net if on_gpu or settings.net is not None else CPU_NET
        if self._net != settings.net:
            self.preset = resolve_preset(settings.preset, settings.seed, settings.evolution, self._net)
        preset = self.preset
        self.pipeline = FramePipeline(preset, settings.device, ctx, net=self._net, watch_shaders=True,
                                      strobe_limit=settings.strobe_limit, workers=workers)
        engine = preset.engine
        self.live = LiveParams(seed=engine.seed, hud=settings.hud, av_offset_ms=settings.av_offset_ms,
                               fullscreen=window.fullscreen, net=str(engine.net),
                               preset_name=preset.name)
        self.saver = PresetSaver()
        self.timebase = Timebase(Fraction(settings.target_fps).limit_denominator(1001))
        self.analyzer = Analyzer(self.timebase)
        period = 1.0 / settings.target_fps
        start_height = window.size[1] if on_gpu else CPU_START_HEIGHT
        self.resolution = ResolutionController(period, window.size, start_height)
        self.pacer = FramePacer(settings.target_fps)
        self.analyzer.clock = self.controls.beats  # tap, OSC tempo or MIDI clock stand in for the tracker
        self.timing = _Timing(render_to_present=period)
        self.history: deque[FrameFeatures] = deque(maxlen=int(HISTORY_S * settings.target_fps) + 1)
        self.hud = Hud(ctx, scale=max(1.0, window.size[1] / 1080))
        self.hud_state = HudState()
        self.presenter = Presenter(ctx)
        self.picture: moderngl.Framebuffer | None = None
        self.trace = FrameTrace(settings.trace) if settings.trace else None
        self.started = time.monotonic()
        self.stats = LiveStats(period, self.started)
        self.current: FrameFeatures | None = None
        self.level = 0.0
        self._quit_armed_until = 0.0
        self._errors_seen: set[str] = set()
        self._show_keys = False
        self._control_arrivals: list[float] = []
        self._samples_read = 0
        self._now_sample = 0
        self._seen = 0
        if settings.record is not None:
            self.recording = self._start_recording(window)
        if settings.preview:
            self.preview = Preview(window, self.pipeline)
            window.hide_cursor()

    def _start_recording(self, window: Window) -> LiveRecording:
        """The recorder, and the performance log's header: everything the show starts from."""
        settings, params = self.settings, self.params
        record = RecordSettings(settings.record, settings.record_size or window.size, settings.record_fps,
                                min(len(settings.channels) or 2, 8), ANALYSIS_RATE)
        header = {
            "fps": str(self.timebase.fps), "window": list(window.size), "net": self._net or "",
            "device": self.pipeline.device, "preset": logged_preset(settings.preset, record.log_path.parent),
            "presets": [logged_preset(name, record.log_path.parent) for name in self.presets],
            "seed": settings.seed, "evolution": settings.evolution, "strobe_limit": settings.strobe_limit,
            "clock": settings.controls.clock, "params": dict(params.targets),
            "smoothing": {name: spec.smoothing_s for name, spec in params.specs.items()},
        }
        return LiveRecording(record, header, params, self.controls, settings.target_fps)

    # --- the loop ---

    def _loop(self, window: Window) -> None:
        self._resized()
        self._warm_up()
        deadline = None if self.settings.duration_s is None else self.started + self.settings.duration_s
        while not self._quit and not window.should_close:
            frame_start = time.monotonic()
            if deadline is not None and frame_start >= deadline:
                break
            window.poll()
            self._now_sample = self._sample(self._audio_time(frame_start))
            if self.recording is not None:
                self.recording.stamp(self._now_sample)  # what the keys and controls do is logged at it
            self._keys(window, frame_start)
            if window.size != self.resolution.window and min(window.size) > 0:
                self.resolution.resize(window.size)
                self._resized()
            arrived = self._frame(frame_start)
            window.ctx.finish()  # GL runs asynchronously: count its work in this frame's cost
            if self.preview is not None:
                self._draw_preview(frame_start)
            work = time.monotonic() - frame_start
            self.pacer.wait()
            window.swap()
            presented = time.monotonic()
            self.timing.render_to_present += 0.1 * (presented - frame_start - self.timing.render_to_present)
            latency = None if arrived is None else presented - arrived
            self.stats.frame(presented, work, latency)
            self.stats.controls(presented, self._control_arrivals)
            if self.trace is not None and self.current is not None:
                self._trace_row(presented, work, latency)
            if self.resolution.observe(work, presented):
                self._resized()

    def _warm_up(self) -> None:
        """One silent frame before the clock starts: the first torch call and shader use are slow, and a
        show should not open with dropped frames."""
        silent = FrameFeatures(0, *([0.0] * 12))
        self.pipeline.draw(silent, self.resolution.internal, self.picture, self.params)
        self.window.ctx.finish()

    def _frame(self, now: float) -> float | None:
        """Make and draw one frame; returns when its newest sample reached vj (None for silence or an error)."""
        try:
            return self._make_frame(now)
        except Exception as error:  # noqa: BLE001 - a bad frame must not end the show
            self.stats.frame_errors += 1
            message = f"{type(error).__name__}: {error}"
            if message not in self._errors_seen:
                self._errors_seen.add(message)
                print(f"vj: frame error (the show goes on): {message}", file=sys.stderr)
            return None

    def _make_frame(self, now: float) -> float | None:
        """One frame as a function of sample positions (see `vj.record.showlog`): the audio clock at the
        controls poll, the samples analysed, the analysed frame shown, its picture time and the moment it
        is seen. Each is a whole sample, so the performance log can make the frame again exactly."""
        self._control_arrivals = self.controls.poll(now, self._audio_time)
        self._follow_triggers()
        samples = quantize(self.audio.read(now))  # the analyzer hears exactly what the log's FLAC keeps
        self._samples_read += len(samples)
        mono = samples.mean(axis=1) if len(samples) else samples.reshape(-1)
        self._meter(mono)
        frames = self.analyzer.process(mono)
        self.history.extend(frames)
        record = FrameRecord(self.stats.frames, self._samples_read, 0, 0, 0, self._now_sample,
                             size=self.resolution.internal, look=self.resolution.look)
        if not self.history:  # not one frame of audio yet
            record.idle = True
            self._record(record, samples)
            return None
        current = self._pick_frame()
        arrived = self.audio.capture_time(self.timebase.frame_end(current.index))
        since_arrival = now - arrived if arrived is not None else 0.0
        picture = self._sample(self.timebase.seconds(self.timebase.frame_end(current.index)) + since_arrival)
        seen = self._sample(picture / ANALYSIS_RATE + self.timing.render_to_present + self.timing.input_device
                            + self.live.av_offset_ms / 1000.0)
        record.index, record.picture, record.seen = current.index, picture, seen
        self._seen = seen
        pulse, phase = self.analyzer.beat_at(seen / ANALYSIS_RATE)
        features = replace(current, beat=pulse, beat_phase=phase)
        self.current = features
        if not self.params["freeze"]:
            self.params.advance(picture / ANALYSIS_RATE)
            self.pipeline.draw(features, self.resolution.internal, self.picture, self.params)
            record.took = self.pipeline.took
        self._record(record, samples)
        if self.outputs is not None:
            self.outputs.send(self.picture, samples, seen)
        self._present(now)
        return arrived

    @staticmethod
    def _sample(seconds: float) -> int:
        return max(0, round(seconds * ANALYSIS_RATE))

    def _record(self, record: FrameRecord, samples: np.ndarray) -> None:
        if self.recording is not None:
            self.recording.frame(record, samples, None if record.idle else self.picture)

    def _audio_time(self, when: float) -> float:
        """The audio time of a sound heard at monotonic time ``when`` (a tap, a clock tick, an OSC beat):
        its samples reach vj one input latency later. On a whole sample, as the performance log keeps it."""
        return self._sample(self.audio.audio_time(when) + self.timing.input_device) / ANALYSIS_RATE

    def _follow_triggers(self) -> None:
        """Reseeds, preset switches and the cued preset, whichever control asked for them (once a frame,
        before it is drawn, as a replay does)."""
        self.pipeline.follow(self.params, self.presets)
        self.live.seed, self.live.preset_name = self.pipeline.seed, self.pipeline.preset.name

    def _pick_frame(self) -> FrameFeatures:
        """The newest analysed frame, or one from ``-av_offset`` ago when the picture is to lag the sound."""
        history = self.history
        lag = max(0, round(-self.live.av_offset_ms / 1000.0 * float(self.timebase.fps)))
        return history[max(0, len(history) - 1 - lag)]

    def _meter(self, mono: np.ndarray) -> None:
        """Input level for the HUD: peak in dBFS over -60..0, falling back slowly like a PPM."""
        peak = float(np.max(np.abs(mono))) if len(mono) else 0.0
        level = (20.0 * math.log10(peak) + 60.0) / 60.0 if peak > 1e-6 else 0.0
        self.level = max(min(max(level, 0.0), 1.0), self.level - 0.02)

    def _present(self, now: float) -> None:
        self.presenter.show(self.picture, self.window.size)
        if self.live.hud and self.preview is None:  # with a preview, the HUD is the performer's only
            self._update_hud(now)
            self.hud.draw(self.hud_state, now, self.window.size)

    def _draw_preview(self, now: float) -> None:
        if self.live.hud:
            self._update_hud(now)
            self.hud_state.lines = (*self.hud_state.lines, f"next: {self.preview.next.name}")
        self.preview.draw(self.picture, self.hud_state if self.live.hud else None, now, self.current, self.params,
                          self.presets)

    def _resized(self) -> None:
        """A new internal or window size: a picture framebuffer at the new look size."""
        look = self.resolution.look
        if self.picture is None or self.picture.size != look:
            if self.picture is not None:
                release_picture(self.picture)
            self.picture = picture_buffer(self.window.ctx, look)
        self.stats.resolution(time.monotonic(), self.resolution.internal, look)

    # --- HUD, keys, trace, stats ---

    def _update_hud(self, now: float) -> None:
        state, audio, stats = self.hud_state, self.audio, self.stats
        state.fps = stats.fps()
        state.frame_ms = stats.work_ms[-1] if stats.work_ms else 0.0
        state.budget_ms = 1000.0 * self.pacer.period
        state.internal, state.window = self.resolution.internal, self.resolution.window
        state.bpm = self.analyzer.tempo_bpm
        state.beat_source = self.controls.beats.source
        state.level = self.level
        state.beat = self.current.beat if self.current else 0.0
        warnings = []
        if audio.state != "streaming":
            warnings.append(f"INPUT LOST - idle, waiting for {audio.request.device or 'the input'}")
        drops = stats.recent_drops(300)
        if drops:
            warnings.append(f"{drops} frames dropped in the last 5 s")
        if audio.overflows:
            warnings.append(f"{audio.overflows} input overflows")
        lines, control_warnings = self.controls.status(now)
        warnings += control_warnings
        if self.params["freeze"]:
            warnings.append("FROZEN (space)")
        if self.pipeline.problem:
            warnings.append(f"preset not loaded: {self.pipeline.problem}")
        for name, error in self.pipeline.look.shader_errors.items():
            warnings.append(f"shader {name} (last good one runs): {error}")
        if self.recording is not None:
            recording_lines, recording_warnings = self.recording.hud()
            lines, warnings = [*recording_lines, *lines], warnings + recording_warnings
        if self.outputs is not None:
            output_lines, output_warnings = self.outputs.hud()
            lines, warnings = [*lines, *output_lines], warnings + output_warnings
        if self.saver.message:
            lines = (*lines, self.saver.message)
        if now < self._quit_armed_until:
            warnings.append("press q again to quit")
        state.warnings = tuple(warnings)
        state.lines = tuple(KEY_HELP if self._show_keys else lines)
        transition = self.pipeline.transition
        going = f" -> {transition.to.preset.name}" if transition is not None else ""
        state.status = f"{self.live.preset_name}{going}   evolution {self.params['evolution']:.2g}   seed {self.live.seed}"

    def _keys(self, window: Window, now: float) -> None:
        keys = window.keys if self.preview is None else window.keys + self.preview.keys  # typed in either
        for key in keys:
            self.handle_key(key, now)
        window.keys.clear()
        if self.preview is not None:
            self.preview.keys.clear()
        window.clicks.clear()  # the show has no use for the mouse

    def handle_key(self, key: str, now: float) -> None:
        """One key press; `KEY_HELP` (and `vj live --help`) has the map. Keys that change the picture
        write the parameter registry, like MIDI and OSC do."""
        params, live, learn = self.params, self.live, self.controls.router.learn
        if learn.param is not None and key in ("up", "down", "l", "escape"):
            if key == "l" or key == "escape":
                learn.cancel()
            else:
                names = list(params.specs)
                learn.arm(names[(names.index(learn.param) + (1 if key == "down" else -1)) % len(names)])
        elif key in ("q", "escape"):
            if not self.window.fullscreen or now < self._quit_armed_until:
                self._quit = True
            else:
                self._quit_armed_until = now + QUIT_CONFIRM_S
        elif key == "f":
            self.window.toggle_fullscreen()
            live.fullscreen = self.window.fullscreen
        elif key == "h":
            live.hud = not live.hud
        elif key == "?":
            self._show_keys = not self._show_keys
        elif key == " ":
            params.toggle("freeze", KEYS)
        elif key == "r":
            params.fire("reseed", KEYS)
        elif key in ("[", "]"):
            params.set("evolution", step_along(params.targets["evolution"], EVOLUTION_STEPS, -1 if key == "[" else 1), KEYS)
        elif key in ("p", "P"):
            params.set("preset", (params.targets["preset"] + (1 if key == "p" else -1)) % len(self.presets), KEYS)
        elif key == "l":
            learn.arm(params.last_change[0] if params.last_change else "zoom")
        elif key == "t":
            self.controls.tap.tap(self._audio_time(time.monotonic()))
            live.tap_bpm = round(self.controls.tap.bpm, 2)
        elif key == "T":
            self.controls.tap.clear()
            live.tap_bpm = 0.0
        elif key == "s":
            self.saver.save(self.pipeline, self.params)
        elif key == "R":
            if self.recording is not None:
                self.recording.toggle()
            else:
                self.saver.message = "not recording: start vj live with --record FILE.mp4"

    def _trace_row(self, presented: float, work: float, latency: float | None) -> None:
        pixels = np.frombuffer(self.picture.read(components=3), dtype=np.uint8)
        stats, features = self.stats, self.current
        self.trace.row(
            frame=stats.frames - 1, t=presented, input=self.audio.state, audio_s=features.time,
            frame_ms=stats.frame_ms[-1] if stats.frame_ms else None, work_ms=1000.0 * work,
            width=self.resolution.internal[0], height=self.resolution.internal[1], level=self.level,
            onset=features.onset, bass=features.bass, beat=features.beat, luma=float(pixels.mean()) / 255.0,
            latency_ms=None if latency is None else 1000.0 * latency, preset=self.pipeline.preset.name,
            hud=" | ".join(self.hud_state.warnings) if self.live.hud else "", seen=self._seen,
        )

    def _summary(self, ended: float) -> dict:
        return self.stats.summary(ended, self.audio, {**asdict(self.live), **self.params.snapshot()}, {
            "controls": self.controls.summary(),
            "recording": None if self.recording is None else self.recording.summary(),
            "outputs": None if self.outputs is None else self.outputs.summary(),
            "started_monotonic": self.started,
            "target_fps": self.settings.target_fps,
            "window": list(self.resolution.window),
            "engine_device": self.pipeline.device,
            "input_latency_ms": round(1000.0 * self.timing.input_device, 3),
            "render_to_present_ms": round(1000.0 * self.timing.render_to_present, 3),
        })


def run_live(settings: LiveSettings) -> int:
    return LiveSession(settings).run()
