"""Synthesized audio: click tracks for testing the beat tracker, and the shipped demo track.

vj ships no third-party music, so ``assets/demo.ogg`` is rendered here from numpy alone: a 124 BPM
house track in A minor whose arrangement (intro, build, drop, breakdown, second drop) moves every
feature the visuals read (bass, mid, treble, onsets, beat). Everything is seeded, so the file is
reproducible; regenerate it with::

    python -m vj.audio.synth assets/demo.ogg

Oscillators are band-limited wavetables and filters work in the FFT domain, so nothing aliases and
no per-sample Python loop runs: the whole track renders in a few seconds.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import av
import numpy as np

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
_LEVELS = np.geomspace(60.0, 20_000.0, 28)  # the low-pass cutoffs each wavetable is stored at
_TABLE = 4096
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


def _hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69) / 12)


def _response(size: int, sr: int, lo: float | None, hi: float | None, order: int) -> np.ndarray:
    """Butterworth-shaped band-pass magnitude on the rfft bins of a ``size``-point FFT."""
    f = np.fft.rfftfreq(size, 1 / sr)
    h = np.ones_like(f)
    if lo:
        h /= np.sqrt(1 + (lo / np.maximum(f, 1e-3)) ** (2 * order))
    if hi:
        h /= np.sqrt(1 + (f / hi) ** (2 * order))
    return h


def _filter(x: np.ndarray, sr: int, lo: float | None = None, hi: float | None = None, order: int = 2) -> np.ndarray:
    """Zero-phase band-pass along axis 0, applied in the FFT domain (no IIR loop)."""
    size = 1 << (len(x) - 1).bit_length()  # a power of two: pocketfft is slow on large prime factors
    h = _response(size, sr, lo, hi, order).reshape(-1, *[1] * (x.ndim - 1))
    return np.fft.irfft(np.fft.rfft(x, size, axis=0) * h, size, axis=0)[: len(x)]


def _decay(t: np.ndarray, tau: float, start: float = 0.0) -> np.ndarray:
    return np.exp(-np.maximum(t - start, 0) / tau) * (t >= start)


def _fade(n: int, sr: int, attack_s: float = 0.0005, release_s: float = 0.005) -> np.ndarray:
    """Short ramps at both ends, so cut-off one-shots never click."""
    env = np.ones(n)
    a, r = min(n, max(1, int(attack_s * sr))), min(n, max(1, int(release_s * sr)))
    env[:a] *= np.linspace(0, 1, a)
    env[n - r:] *= np.linspace(1, 0, r)
    return env


def _pan(x: np.ndarray, pan: float) -> np.ndarray:
    """Mono to stereo, equal power, unity gain per channel at the centre."""
    angle = (pan + 1) * np.pi / 4
    return np.stack([x * np.cos(angle), x * np.sin(angle)], axis=1) * np.sqrt(2)


@functools.lru_cache(maxsize=None)
def _tables(midi: int, shape: str, sr: int) -> np.ndarray:
    """One period of a saw or square at each cutoff in _LEVELS, harmonics below Nyquist only."""
    k = np.arange(1, int(sr / 2 / _hz(midi)) + 1)
    amp = (1.0 / k) * ((k % 2 == 1) if shape == "square" else 1)
    gains = amp / np.sqrt(1 + (k * _hz(midi) / _LEVELS[:, None]) ** 4)  # 2-pole low-pass
    x = np.arange(_TABLE + 1) / _TABLE
    return gains @ np.sin(2 * np.pi * np.outer(k, x)) * (2 / np.pi)


def _osc(midi: int, n: int, sr: int, cutoff: float | np.ndarray, *, shape: str = "saw", detune: float = 1.0,
         phase: float = 0.0) -> np.ndarray:
    """A low-passed oscillator; a per-sample ``cutoff`` morphs between wavetables (a cheap filter sweep)."""
    tab = _tables(midi, shape, sr)
    pos = (phase + _hz(midi) * detune * np.arange(n) / sr) % 1.0 * _TABLE
    i = pos.astype(int)
    frac = pos - i
    level = np.interp(np.log(cutoff), np.log(_LEVELS), np.arange(len(_LEVELS), dtype=float))
    lo = np.minimum(np.asarray(level).astype(int), len(_LEVELS) - 2)
    mix = level - lo
    if np.ndim(cutoff) == 0:  # a fixed filter: blend the two tables once, then read one
        row = tab[lo] + (tab[lo + 1] - tab[lo]) * mix
        return row[i] + (row[i + 1] - row[i]) * frac
    a = tab[lo, i] + (tab[lo, i + 1] - tab[lo, i]) * frac
    b = tab[lo + 1, i] + (tab[lo + 1, i + 1] - tab[lo + 1, i]) * frac
    return a + (b - a) * mix


def _kick(sr: int, rng: np.random.Generator) -> np.ndarray:
    """Sine swept 150 -> 45 Hz plus a noise click, saturated for punch."""
    t = np.arange(int(0.4 * sr)) / sr
    body = np.sin(2 * np.pi * np.cumsum(45 + 105 * np.exp(-t / 0.035)) / sr) * np.exp(-t / 0.13)
    click = _filter(rng.standard_normal(len(t)), sr, lo=1500) * _decay(t, 0.002)
    return np.tanh(2 * (body + 0.3 * click)) / np.tanh(2) * _fade(len(t), sr, 0, 0.03)


def _clap(sr: int, rng: np.random.Generator) -> np.ndarray:
    """Three quick band-passed noise bursts and a tail (the clap) over a short 190 Hz body (the snare)."""
    t = np.arange(int(0.35 * sr)) / sr
    noise = _filter(rng.standard_normal(len(t)), sr, lo=900, hi=4000)
    env = sum(_decay(t, 0.004, d) for d in (0, 0.009, 0.018)) + 0.7 * _decay(t, 0.08, 0.027)
    body = np.sin(2 * np.pi * 190 * t) * _decay(t, 0.04)
    return (0.5 * noise / np.abs(noise).max() * env + 0.4 * body) * _fade(len(t), sr)


def _noise(n: int, sr: int, rng: np.random.Generator, tau: float, lo: float) -> np.ndarray:
    """Stereo high-passed noise with an exponential decay: hats (short tau) and crash (long)."""
    t = np.arange(n) / sr
    a, b = rng.standard_normal((2, n))
    x = _filter(np.stack([a + 0.5 * b, a - 0.5 * b], axis=1), sr, lo=lo, order=3)
    return x / np.abs(x).max() * (_decay(t, tau) * _fade(n, sr))[:, None]


def _riser(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Noise whose low-pass opens from 300 Hz to 14 kHz while it swells: the classic build-up whoosh."""
    cutoffs = np.geomspace(300, 14_000, 10)
    noise = rng.standard_normal((n, 2))
    stack = np.stack([_filter(noise, sr, lo=150, hi=c) for c in cutoffs])
    pos = np.linspace(0, len(cutoffs) - 1, n)
    lo = np.minimum(pos.astype(int), len(cutoffs) - 2)
    frac = (pos - lo)[:, None]
    x = stack[lo, np.arange(n)] * (1 - frac) + stack[lo + 1, np.arange(n)] * frac
    return x * (np.linspace(0, 1, n) ** 2 * _fade(n, sr))[:, None]


@functools.lru_cache(maxsize=None)
def _bass(midi: int, n: int, sr: int) -> np.ndarray:
    """Saw with a plucked low-pass plus a sine sub: the filter envelope makes each note speak."""
    t = np.arange(n) / sr
    x = 0.6 * _osc(midi, n, sr, 250 + 2500 * np.exp(-t / 0.05)) + 0.35 * np.sin(2 * np.pi * _hz(midi) * t)
    return x * _decay(t, 0.25) * _fade(n, sr, 0.002, 0.01)


@functools.lru_cache(maxsize=None)
def _pluck(midi: int, brightness: float, sr: int) -> np.ndarray:
    """A short square-wave blip for the arpeggio; ``brightness`` sets how far its filter opens (Hz)."""
    t = np.arange(int(0.15 * sr)) / sr
    return _osc(midi, len(t), sr, 500 + brightness * np.exp(-t / 0.04), shape="square") * _decay(t, 0.05)


@functools.lru_cache(maxsize=None)
def _stab(chord: tuple[int, ...], sr: int) -> np.ndarray:
    """A short detuned-saw chord with a snappy filter, spread in stereo."""
    n = int(0.3 * sr)
    t = np.arange(n) / sr
    cutoff = 600 + 5000 * np.exp(-t / 0.06)
    x = sum(_pan(_osc(m, n, sr, cutoff, detune=d, phase=0.3 * j), p)
            for j, m in enumerate(chord[1:]) for d, p in ((0.995, -0.5), (1.005, 0.5)))
    return x * (_decay(t, 0.1) * _fade(n, sr, 0.002, 0.02))[:, None] / 6


def _pad(chord: tuple[int, ...], n: int, sr: int, cutoff: np.ndarray, phases: np.ndarray) -> np.ndarray:
    """Three detuned saws per note, panned apart: the wide, slow bed under everything."""
    voices = ((0.993, -0.7), (1.0, 0.0), (1.007, 0.7))
    x = sum(_pan(_osc(m, n, sr, cutoff, detune=d, phase=phases[j, v]), p)
            for j, m in enumerate(chord) for v, (d, p) in enumerate(voices))
    return x * _fade(n, sr, 0.15, 0.3)[:, None] / 8


def _place(buf: np.ndarray, x: np.ndarray, t: float, sr: int, gain: float = 1.0, pan: float = 0.0) -> None:
    """Mix a one-shot into the stereo ``buf`` at ``t`` seconds; mono sources are panned."""
    i = int(round(t * sr))
    x = _pan(x, pan) if x.ndim == 1 else x
    m = min(len(x), len(buf) - i)
    buf[i:i + m] += gain * x[:m]


def _space(dry: np.ndarray, send: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Dry bus plus the send bus convolved with a 2.5 s decorrelated noise tail (space and stereo width),
    high-passed at 25 Hz (decaying notes leave DC behind), all in one FFT pass over the whole track."""
    t = np.arange(int(2.5 * sr)) / sr
    ir = _filter(rng.standard_normal((len(t), 2)), sr, lo=250, hi=6000) * np.exp(-t / 0.35)[:, None]
    ir[: int(0.02 * sr)] = 0  # predelay
    ir *= 0.35 / np.sqrt((ir ** 2).sum(axis=0))
    size = 1 << (len(dry) + len(ir)).bit_length()
    spectrum = np.fft.rfft(dry, size, axis=0) + np.fft.rfft(send, size, axis=0) * np.fft.rfft(ir, size, axis=0)
    return np.fft.irfft(spectrum * _response(size, sr, 25, None, 2)[:, None], size, axis=0)[: len(dry)]


def _limit(x: np.ndarray, sr: int, ceiling: float, release_s: float = 0.08) -> np.ndarray:
    """Look-ahead peak limiter on 5 ms blocks: loud without clipping, the gain recovering smoothly after hits."""
    block = int(0.005 * sr)
    nb = -(-len(x) // block)
    peaks = np.pad(np.abs(x).max(axis=1), (0, nb * block - len(x))).reshape(nb, block).max(axis=1)
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-9))
    gain, alpha = need.copy(), block / (release_s * sr)
    for k in range(1, nb):  # per block, not per sample: cheap in Python
        gain[k] = min(need[k], gain[k - 1] + (1 - gain[k - 1]) * alpha)
    gain = np.minimum(gain, np.minimum(np.roll(gain, 1), np.roll(gain, -1)))  # interpolation stays under need
    return x * np.interp(np.arange(len(x)), (np.arange(nb) + 0.5) * block, gain)[:, None]


def demo_track(*, seed: int = 7, bpm: float = 124.0, bars: int = DEMO_BARS,
               sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The demo song as (n, 2) float32 at ``sample_rate``, peak-normalised to -1 dBFS; see ``demo_sections``."""
    rng, sr = np.random.default_rng(seed), sample_rate
    step, bar_s = 15.0 / bpm, 240.0 / bpm
    n = int((bars * bar_s + TAIL_S) * sr)
    drums, music, send = np.zeros((n, 2)), np.zeros((n, 2)), np.zeros((n, 2))
    kick, clap = _kick(sr, rng), _clap(sr, rng)
    closed = [_noise(int(0.1 * sr), sr, rng, 0.018, 7000) for _ in range(4)]
    open_hat, crash = _noise(int(0.4 * sr), sr, rng, 0.09, 6000), _noise(int(2.5 * sr), sr, rng, 0.7, 4000)
    kicks: list[float] = []
    pads = {"intro": (500, 800, 0.35), "build": (800, 5000, 0.6), "breakdown": (900, 2500, 0.8)}
    for name, first, length in _sections(bars):
        drop, build = name.startswith("drop"), name == "build"
        if drop:
            _place(drums, crash, first * bar_s, sr, 0.35)
        if name in ("build", "breakdown"):
            rise = min(2, length)  # bars
            _place(send, _riser(int(rise * bar_s * sr), sr, rng), (first + length - rise) * bar_s, sr, 0.25)
        for i in range(length):
            bar, t0 = first + i, (first + i) * bar_s
            chord = _CHORDS[bar % 4]
            lo, hi, gain = pads.get(name, (2500, 2500, 0.6))  # the build opens the pad's filter
            progress = (i + np.arange(int((bar_s + 0.3) * sr)) / sr / bar_s) / length
            pad = _pad(chord, len(progress), sr, lo * (hi / lo) ** progress, rng.uniform(0, 1, (4, 3)))
            _place(music, pad, t0, sr, gain)
            _place(send, pad, t0, sr, 0.5 * gain)
            roll = (8, 4, 2, 1)[min(3, 4 * i // length)]  # the build's snare roll doubles up
            for s in range(16):
                t, vel = t0 + s * step, rng.uniform(0.85, 1.0)
                if s % 4 == 0 and (drop or (build and i < length - 1)):
                    _place(drums, kick, t, sr, 0.9)
                    kicks.append(t)
                if (drop and s in (4, 12)) or (build and (s - 4) % roll == 0):
                    g = 0.8 if drop else 0.2 + 0.6 * (i * 16 + s) / (length * 16)
                    _place(drums, clap, t, sr, g * vel)
                    _place(send, clap, t, sr, 0.4 * g)
                if drop or build or (s % 4 == 2 and (name == "intro" or 2 * i >= length)):
                    accent = 0.35 + 0.15 * (s % 2)
                    hat, g = (open_hat, 0.5) if drop and s % 4 == 2 else (closed[rng.integers(4)], accent)
                    _place(drums, hat, t, sr, g * vel * (0.6 if build and 2 * i < length else 1.0))
                if name in ("breakdown", "drop2"):
                    arp = _pluck(chord[1:][(0, 1, 2, 1)[s % 4]] + 12 * (s // 8 % 2 + 1), 1500 + 1000 * i, sr)
                    _place(music, arp, t, sr, 0.12 * vel, pan=0.4 if s % 2 else -0.4)
                    _place(send, arp, t, sr, 0.1)
            for s, semis, steps in _BASSLINE if drop else ():
                _place(music, _bass(_BASS_ROOTS[bar % 4] + semis, int(steps * step * sr), sr), t0 + s * step, sr, 0.4)
            for s in _STAB_STEPS if drop else ():
                _place(music, _stab(chord, sr), t0 + s * step, sr, 1.6)
                _place(send, _stab(chord, sr), t0 + s * step, sr, 0.3)
    end = bars * bar_s  # the final hit: one more downbeat, then the tails ring out
    _place(drums, kick, end, sr, 0.9)
    _place(drums, crash, end, sr, 0.35)
    _place(music, _bass(_BASS_ROOTS[0], int(TAIL_S * 0.8 * sr), sr), end, sr, 0.4)
    duck = np.ones(n)
    shape = 1 - 0.7 * np.exp(-np.arange(int(0.4 * sr)) / sr / 0.09)
    for t in kicks:  # sidechain: the music bus breathes around every kick
        i = int(round(t * sr))
        np.minimum(duck[i:i + len(shape)], shape[: n - i], out=duck[i:i + len(shape)])
    mix = _space(drums + music * duck[:, None], send * duck[:, None], sr, rng) * _fade(n, sr, 0.001, 0.05)[:, None]
    mix = _limit(mix * (2.0 / np.abs(mix).max()), sr, PEAK)  # about 6 dB of limiting on the loudest hits
    return (mix * PEAK / np.abs(mix).max()).astype(np.float32)


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
