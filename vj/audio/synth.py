"""Synthesized audio: click tracks for testing the beat tracker, and the shipped demo track.

vj ships no third-party music, so ``assets/demo.ogg`` is rendered here from numpy alone: a 124 BPM
house track in A minor whose arrangement (intro, build, drop, breakdown, second drop) moves every
feature the visuals read (bass, mid, treble, onsets, beat). Everything is seeded, so the file is
reproducible; regenerate it with::

    python -m vj.audio.synth assets/demo.ogg

The instruments and the mix bus live in ``vj.audio.instruments`` (shared with the beat-tracking
evaluation set, ``vj.audio.beatset``); the whole track renders in a few seconds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import av
import numpy as np

from vj.audio import instruments as ins
from vj.errors import VJError
from vj.timebase import ANALYSIS_RATE

SAMPLE_RATE = ANALYSIS_RATE
DEMO_BARS = 24
"""At 124 BPM: 4 intro, 4 build, 8 drop, 4 breakdown, 4 drop bars, a final hit and its tail: 48 s."""
PEAK = 10 ** (-1 / 20)
"""-1 dBFS: headroom for the overshoot of lossy codecs."""
TAIL_S = 1.6

_CHORDS = ((45, 57, 60, 64), (41, 57, 60, 65), (48, 55, 60, 64), (43, 55, 59, 62))  # Am F C G (MIDI)
_BASS_ROOTS = (33, 29, 36, 31)  # A1 F1 C2 G1
_BASSLINE = ((2, 0, 1.6), (3, 12, 0.8), (6, 0, 1.6), (7, 12, 0.8), (10, 0, 1.6), (13, 12, 0.8), (14, 7, 1.6))
"""(16th step, semitones above the root, length in 16ths): a rolling line that stays off the kick."""
_STAB_STEPS = (3, 6, 11, 14)
_CODECS = {".wav": ("pcm_s16le", None), ".flac": ("flac", None), ".ogg": ("libopus", 160_000),
           ".opus": ("libopus", 160_000), ".mp3": ("libmp3lame", 192_000), ".m4a": ("aac", 192_000)}


def click_times(duration_s: float, bpm: float, offset_s: float = 0.0) -> np.ndarray:
    """Onset times (s) of the clicks in ``click_track``: one per beat from ``offset_s``."""
    period = 60.0 / bpm
    times = offset_s + period * np.arange(max(0, int(np.ceil((duration_s - offset_s) / period))))
    return times[(times >= 0) & (times < duration_s)]


def click_track(duration_s: float, bpm: float, *, sample_rate: int = SAMPLE_RATE, noise_db: float = -60.0,
                offset_s: float = 0.0) -> np.ndarray:
    """Mono clicks on every beat over a noise floor at ``noise_db`` dBFS RMS.

    The floor is there because onset detectors divide by signal level and misbehave in digital silence.
    Each click starts at full amplitude on its exact sample, so its onset time is unambiguous.
    """
    n = int(round(duration_s * sample_rate))
    out = np.random.default_rng(0).standard_normal(n) * 10 ** (noise_db / 20)
    t = np.arange(int(0.005 * sample_rate)) / sample_rate
    click = 0.8 * np.cos(2 * np.pi * 2000 * t) * np.exp(-t / 0.001)
    for onset in click_times(duration_s, bpm, offset_s):
        i = int(round(onset * sample_rate))
        m = min(len(click), n - i)
        out[i:i + m] += click[:m]
    return out.astype(np.float32)


def _sections(bars: int) -> list[tuple[str, int, int]]:
    """(name, first bar, bar count) in the ratio 1:1:2:1:1, so any length keeps the same shape."""
    if bars < 6:
        raise ValueError(f"the demo arrangement needs at least 6 bars, got {bars}")
    u = bars // 6
    lengths = (("intro", u), ("build", u), ("drop", 2 * u), ("breakdown", u), ("drop2", bars - 5 * u))
    starts = np.cumsum([0] + [n for _, n in lengths])
    return [(name, int(s), n) for (name, n), s in zip(lengths, starts)]


def demo_sections(*, bpm: float = 124.0, bars: int = DEMO_BARS) -> list[tuple[str, float, float]]:
    """The arrangement of ``demo_track`` as (name, start_s, end_s), to check the visuals per section."""
    bar_s = 240.0 / bpm
    return [(name, first * bar_s, (first + n) * bar_s) for name, first, n in _sections(bars)]


def demo_beat_times(*, bpm: float = 124.0, bars: int = DEMO_BARS) -> np.ndarray:
    """Every quarter-note time (s) of ``demo_track``, including the final hit one beat after the last bar."""
    return np.arange(4 * bars + 1) * (60.0 / bpm)


def demo_track(*, seed: int = 7, bpm: float = 124.0, bars: int = DEMO_BARS,
               sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The demo song as (n, 2) float32 at ``sample_rate``, peak-normalised to -1 dBFS; see ``demo_sections``."""
    rng, sr = np.random.default_rng(seed), sample_rate
    step, bar_s = 15.0 / bpm, 240.0 / bpm
    n = int((bars * bar_s + TAIL_S) * sr)
    drums, music, send = np.zeros((n, 2)), np.zeros((n, 2)), np.zeros((n, 2))
    kick, clap = ins.kick(sr, rng), ins.clap(sr, rng)
    closed = [ins.noise(int(0.1 * sr), sr, rng, 0.018, 7000) for _ in range(4)]
    open_hat, crash = ins.noise(int(0.4 * sr), sr, rng, 0.09, 6000), ins.noise(int(2.5 * sr), sr, rng, 0.7, 4000)
    kicks: list[float] = []
    pads = {"intro": (500, 800, 0.35), "build": (800, 5000, 0.6), "breakdown": (900, 2500, 0.8)}
    for name, first, length in _sections(bars):
        drop, build = name.startswith("drop"), name == "build"
        if drop:
            ins.place(drums, crash, first * bar_s, sr, 0.35)
        if name in ("build", "breakdown"):
            rise = min(2, length)  # bars
            ins.place(send, ins.riser(int(rise * bar_s * sr), sr, rng), (first + length - rise) * bar_s, sr, 0.25)
        for i in range(length):
            bar, t0 = first + i, (first + i) * bar_s
            chord = _CHORDS[bar % 4]
            lo, hi, gain = pads.get(name, (2500, 2500, 0.6))  # the build opens the pad's filter
            progress = (i + np.arange(int((bar_s + 0.3) * sr)) / sr / bar_s) / length
            pad = ins.pad(chord, len(progress), sr, lo * (hi / lo) ** progress, rng.uniform(0, 1, (4, 3)))
            ins.place(music, pad, t0, sr, gain)
            ins.place(send, pad, t0, sr, 0.5 * gain)
            roll = (8, 4, 2, 1)[min(3, 4 * i // length)]  # the build's snare roll doubles up
            for s in range(16):
                t, vel = t0 + s * step, rng.uniform(0.85, 1.0)
                if s % 4 == 0 and (drop or (build and i < length - 1)):
                    ins.place(drums, kick, t, sr, 0.9)
                    kicks.append(t)
                if (drop and s in (4, 12)) or (build and (s - 4) % roll == 0):
                    g = 0.8 if drop else 0.2 + 0.6 * (i * 16 + s) / (length * 16)
                    ins.place(drums, clap, t, sr, g * vel)
                    ins.place(send, clap, t, sr, 0.4 * g)
                if drop or build or (s % 4 == 2 and (name == "intro" or 2 * i >= length)):
                    accent = 0.35 + 0.15 * (s % 2)
                    hat, g = (open_hat, 0.5) if drop and s % 4 == 2 else (closed[rng.integers(4)], accent)
                    ins.place(drums, hat, t, sr, g * vel * (0.6 if build and 2 * i < length else 1.0))
                if name in ("breakdown", "drop2"):
                    arp = ins.pluck(chord[1:][(0, 1, 2, 1)[s % 4]] + 12 * (s // 8 % 2 + 1), 1500 + 1000 * i, sr)
                    ins.place(music, arp, t, sr, 0.12 * vel, position=0.4 if s % 2 else -0.4)
                    ins.place(send, arp, t, sr, 0.1)
            for s, semis, steps in _BASSLINE if drop else ():
                note = ins.bass(_BASS_ROOTS[bar % 4] + semis, int(steps * step * sr), sr)
                ins.place(music, note, t0 + s * step, sr, 0.4)
            for s in _STAB_STEPS if drop else ():
                ins.place(music, ins.stab(chord, sr), t0 + s * step, sr, 1.6)
                ins.place(send, ins.stab(chord, sr), t0 + s * step, sr, 0.3)
    end = bars * bar_s  # the final hit: one more downbeat, then the tails ring out
    ins.place(drums, kick, end, sr, 0.9)
    ins.place(drums, crash, end, sr, 0.35)
    ins.place(music, ins.bass(_BASS_ROOTS[0], int(TAIL_S * 0.8 * sr), sr), end, sr, 0.4)
    duck = ins.sidechain(n, kicks, sr, depth=0.7, release_s=0.09, length_s=0.4)
    return ins.master(drums, music, send, duck, sr, rng, fade_out_s=0.05, peak=PEAK)


def write_audio(path: str | Path, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Encode mono (n,) / (n, 1) or stereo (n, 2) float samples in [-1, 1]; the extension picks the codec."""
    path = Path(path)
    if path.suffix.lower() not in _CODECS:
        raise VJError(f"cannot write {path.name}: use one of {', '.join(_CODECS)}")
    codec, bit_rate = _CODECS[path.suffix.lower()]
    if codec == "libopus" and sample_rate not in (8000, 12000, 16000, 24000, 48000):
        raise VJError(f"Opus cannot store {sample_rate} Hz audio; resample to 48000 Hz or write .flac")
    x = np.asarray(samples, dtype=np.float32)
    x = x[:, None] if x.ndim == 1 else x
    if x.ndim != 2 or x.shape[1] not in (1, 2):
        raise VJError(f"audio must be mono or stereo (n,) or (n, 2), got shape {np.shape(samples)}")
    layout = "mono" if x.shape[1] == 1 else "stereo"
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=sample_rate, layout=layout)
        if bit_rate:
            stream.bit_rate = bit_rate
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(np.clip(x, -1, 1).T), format="fltp", layout=layout)
        frame.sample_rate = sample_rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "assets/demo.ogg")
    write_audio(target, demo_track())
    print(f"wrote {target} ({target.stat().st_size / 1e6:.2f} MB)")
