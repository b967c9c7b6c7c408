"""Instruments and mixing tools for synthesizing music from numpy alone: the demo track and the beat set.

vj ships no third-party audio, so everything it plays to itself is built here. The rules that keep it
fast and clean: oscillators are band-limited wavetables (nothing aliases), filters work in the FFT domain
(no per-sample Python loop), and one-shots that repeat are cached, so a 30 s song renders in a second or two.
Every function takes the sample rate ``sr`` explicitly, and anything random takes a seeded generator.
"""

from __future__ import annotations

import functools

import numpy as np

_LEVELS = np.geomspace(60.0, 20_000.0, 28)  # the low-pass cutoffs each wavetable is stored at
_TABLE = 4096


def hz(midi: float) -> float:
    """Equal-tempered frequency of a MIDI note (A4 = 69 = 440 Hz): songs are written in notes, not hertz."""
    return 440.0 * 2.0 ** ((midi - 69) / 12)


def response(size: int, sr: int, lo: float | None, hi: float | None, order: int) -> np.ndarray:
    """Butterworth-shaped band-pass magnitude on the rfft bins of a ``size``-point FFT."""
    f = np.fft.rfftfreq(size, 1 / sr)
    h = np.ones_like(f)
    if lo:
        h /= np.sqrt(1 + (lo / np.maximum(f, 1e-3)) ** (2 * order))
    if hi:
        h /= np.sqrt(1 + (f / hi) ** (2 * order))
    return h


def bandpass(x: np.ndarray, sr: int, lo: float | None = None, hi: float | None = None, order: int = 2) -> np.ndarray:
    """Zero-phase band-pass along axis 0, applied in the FFT domain (no IIR loop)."""
    size = 1 << (len(x) - 1).bit_length()  # a power of two: pocketfft is slow on large prime factors
    h = response(size, sr, lo, hi, order).reshape(-1, *[1] * (x.ndim - 1))
    return np.fft.irfft(np.fft.rfft(x, size, axis=0) * h, size, axis=0)[: len(x)]


def decay(t: np.ndarray, tau: float, start: float = 0.0) -> np.ndarray:
    """An exponential decay starting at ``start`` s (zero before): the envelope of anything struck."""
    return np.exp(-np.maximum(t - start, 0) / tau) * (t >= start)


def fade(n: int, sr: int, attack_s: float = 0.0005, release_s: float = 0.005) -> np.ndarray:
    """Short ramps at both ends, so cut-off one-shots never click."""
    env = np.ones(n)
    a, r = min(n, max(1, int(attack_s * sr))), min(n, max(1, int(release_s * sr)))
    env[:a] *= np.linspace(0, 1, a)
    env[n - r:] *= np.linspace(1, 0, r)
    return env


def pan(x: np.ndarray, position: float) -> np.ndarray:
    """Mono to stereo, equal power, unity gain per channel at the centre; ``position`` runs -1 (left) to 1."""
    angle = (position + 1) * np.pi / 4
    return np.stack([x * np.cos(angle), x * np.sin(angle)], axis=1) * np.sqrt(2)


@functools.lru_cache(maxsize=None)
def tables(midi: int, shape: str, sr: int) -> np.ndarray:
    """One period of a saw, square or triangle at each cutoff in _LEVELS, harmonics below Nyquist only."""
    k = np.arange(1, int(sr / 2 / hz(midi)) + 1)
    if shape == "triangle":  # odd harmonics falling as 1/k^2 with alternating signs, scaled to a peak of 1
        amp = (k % 2 == 1) * (-1.0) ** (k // 2) * (4 / np.pi) / k**2
    else:
        amp = (1.0 / k) * ((k % 2 == 1) if shape == "square" else 1)
    gains = amp / np.sqrt(1 + (k * hz(midi) / _LEVELS[:, None]) ** 4)  # 2-pole low-pass
    x = np.arange(_TABLE + 1) / _TABLE
    return gains @ np.sin(2 * np.pi * np.outer(k, x)) * (2 / np.pi)


def osc(midi: int, n: int, sr: int, cutoff: float | np.ndarray, *, shape: str = "saw", detune: float = 1.0,
        phase: float = 0.0) -> np.ndarray:
    """A low-passed oscillator; a per-sample ``cutoff`` morphs between wavetables (a cheap filter sweep)."""
    tab = tables(midi, shape, sr)
    pos = (phase + hz(midi) * detune * np.arange(n) / sr) % 1.0 * _TABLE
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


def kick(sr: int, rng: np.random.Generator, *, low: float = 45.0, high: float = 150.0, sweep_s: float = 0.035,
         decay_s: float = 0.13, snap: float = 0.3, drive: float = 2.0, length_s: float = 0.4) -> np.ndarray:
    """Sine swept ``high`` -> ``low`` Hz plus a noise click, saturated for punch.

    The defaults are a house kick; a long low decay makes an 808, a tight one an acoustic kick, a higher
    pitch a tom, a hard drive the square-ish thump of a game console.
    """
    t = np.arange(int(length_s * sr)) / sr
    body = np.sin(2 * np.pi * np.cumsum(low + (high - low) * np.exp(-t / sweep_s)) / sr) * np.exp(-t / decay_s)
    click = bandpass(rng.standard_normal(len(t)), sr, lo=1500) * decay(t, 0.002)
    return np.tanh(drive * (body + snap * click)) / np.tanh(drive) * fade(len(t), sr, 0, 0.03)


def snare(sr: int, rng: np.random.Generator, *, tone: float = 185.0, decay_s: float = 0.15, wires: float = 0.7,
          length_s: float = 0.4) -> np.ndarray:
    """A drum-kit snare: two membrane modes whose pitch drops as the head relaxes, and the rattle of the wires
    (band-passed noise, ``decay_s`` long: short for a tight funk snare, long for a rock backbeat)."""
    t = np.arange(int(length_s * sr)) / sr
    phase = 2 * np.pi * np.cumsum(tone * (1 + 0.25 * np.exp(-t / 0.008))) / sr
    body = (np.sin(phase) + 0.5 * np.sin(1.47 * phase)) * decay(t, 0.05)
    rattle = bandpass(rng.standard_normal(len(t)), sr, lo=1800, hi=9000)
    rattle *= decay(t, decay_s) / np.abs(rattle).max()
    return np.tanh(1.5 * (0.5 * body + wires * rattle)) / np.tanh(1.5) * fade(len(t), sr)


def clap(sr: int, rng: np.random.Generator) -> np.ndarray:
    """Three quick band-passed noise bursts and a tail (the clap) over a short 190 Hz body (the snare)."""
    t = np.arange(int(0.35 * sr)) / sr
    burst = bandpass(rng.standard_normal(len(t)), sr, lo=900, hi=4000)
    env = sum(decay(t, 0.004, d) for d in (0, 0.009, 0.018)) + 0.7 * decay(t, 0.08, 0.027)
    body = np.sin(2 * np.pi * 190 * t) * decay(t, 0.04)
    return (0.5 * burst / np.abs(burst).max() * env + 0.4 * body) * fade(len(t), sr)


def noise(n: int, sr: int, rng: np.random.Generator, tau: float, lo: float) -> np.ndarray:
    """Stereo high-passed noise with an exponential decay: hats (short tau) and crash (long)."""
    t = np.arange(n) / sr
    a, b = rng.standard_normal((2, n))
    x = bandpass(np.stack([a + 0.5 * b, a - 0.5 * b], axis=1), sr, lo=lo, order=3)
    return x / np.abs(x).max() * (decay(t, tau) * fade(n, sr))[:, None]


def chip_noise(n: int, sr: int, rng: np.random.Generator, rate: float, tau: float) -> np.ndarray:
    """The noise channel of a game console: random +-1 held for ticks of a ``rate`` Hz clock (lower sounds
    grittier) under an exponential decay: the snares, hats and cymbals of chiptune."""
    held = rng.choice((-1.0, 1.0), int(n * rate / sr) + 1)[(np.arange(n) * rate / sr).astype(int)]
    return held * decay(np.arange(n) / sr, tau) * fade(n, sr)


@functools.lru_cache(maxsize=64)
def timpani(midi: int, sr: int) -> np.ndarray:
    """A kettle drum tuned to ``midi``: the inharmonic modes of a real timpani (1, 1.5, 1.98, 2.44, 2.9 times
    the principal), high ones dying first, a pitch that settles after the strike, and a felt-mallet thump."""
    t = np.arange(int(2.5 * sr)) / sr
    phase = 2 * np.pi * np.cumsum(hz(midi) * (1 + 0.02 * np.exp(-t / 0.06))) / sr
    modes = ((1.0, 1.0, 1.2), (1.5, 0.6, 0.8), (1.98, 0.35, 0.5), (2.44, 0.2, 0.35), (2.9, 0.1, 0.25))
    x = sum(a * np.sin(r * phase) * decay(t, tau) for r, a, tau in modes)
    thump = np.sin(2 * np.pi * 0.6 * hz(midi) * t) * decay(t, 0.025)
    return (x + 0.8 * thump) / 2 * fade(len(t), sr, 0.002, 0.05)


def riser(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Noise whose low-pass opens from 300 Hz to 14 kHz while it swells: the classic build-up whoosh."""
    cutoffs = np.geomspace(300, 14_000, 10)
    white = rng.standard_normal((n, 2))
    stack = np.stack([bandpass(white, sr, lo=150, hi=c) for c in cutoffs])
    pos = np.linspace(0, len(cutoffs) - 1, n)
    lo = np.minimum(pos.astype(int), len(cutoffs) - 2)
    frac = (pos - lo)[:, None]
    x = stack[lo, np.arange(n)] * (1 - frac) + stack[lo + 1, np.arange(n)] * frac
    return x * (np.linspace(0, 1, n) ** 2 * fade(n, sr))[:, None]


@functools.lru_cache(maxsize=None)
def bass(midi: int, n: int, sr: int) -> np.ndarray:
    """Saw with a plucked low-pass plus a sine sub: the filter envelope makes each note speak."""
    t = np.arange(n) / sr
    x = 0.6 * osc(midi, n, sr, 250 + 2500 * np.exp(-t / 0.05)) + 0.35 * np.sin(2 * np.pi * hz(midi) * t)
    return x * decay(t, 0.25) * fade(n, sr, 0.002, 0.01)


@functools.lru_cache(maxsize=None)
def pluck(midi: int, brightness: float, sr: int) -> np.ndarray:
    """A short square-wave blip for the arpeggio; ``brightness`` sets how far its filter opens (Hz)."""
    t = np.arange(int(0.15 * sr)) / sr
    return osc(midi, len(t), sr, 500 + brightness * np.exp(-t / 0.04), shape="square") * decay(t, 0.05)


@functools.lru_cache(maxsize=None)
def stab(chord: tuple[int, ...], sr: int) -> np.ndarray:
    """A short detuned-saw chord with a snappy filter, spread in stereo; ``chord[0]`` (the bass's note) is left
    out."""
    n = int(0.3 * sr)
    t = np.arange(n) / sr
    cutoff = 600 + 5000 * np.exp(-t / 0.06)
    x = sum(pan(osc(m, n, sr, cutoff, detune=d, phase=0.3 * j), p)
            for j, m in enumerate(chord[1:]) for d, p in ((0.995, -0.5), (1.005, 0.5)))
    return x * (decay(t, 0.1) * fade(n, sr, 0.002, 0.02))[:, None] / 6


@functools.lru_cache(maxsize=512)
def struck(midi: int, n: int, sr: int, decay_s: float = 1.2, brightness: float = 0.6) -> np.ndarray:
    """A struck or plucked string (piano, electric piano, pizzicato), additive: slightly stretched partials
    (a stiff string), the high ones and high notes dying first, each doubled by a second string a hair sharp
    for a real piano's slow beating. ``brightness`` is how fast the partials fall off (0 to 1)."""
    f0 = hz(midi)
    k = np.arange(1, 13)
    f = k * f0 * np.sqrt(1 + 0.0003 * k**2)
    k, f = k[f < min(sr / 2, 12_000)], f[f < min(sr / 2, 12_000)]
    amp = brightness ** (k - 1) / k
    tau = decay_s * (262 / f0) ** 0.4 / (1 + 0.5 * (k - 1))
    t = np.arange(n) / sr
    phase = 2 * np.pi * np.outer(f, t)
    x = (amp[:, None] * np.exp(-t / tau[:, None]) * (np.sin(phase) + 0.5 * np.sin(1.0008 * phase))).sum(axis=0)
    return x / (1.5 * amp.sum()) * fade(n, sr, 0.001, 0.03)


@functools.lru_cache(maxsize=256)
def power_chord(root: int, n: int, sr: int, muted: bool = True) -> np.ndarray:
    """A distorted guitar power chord (root, fifth, octave), double-tracked: two takes detuned differently,
    each driven into tanh and shaped by a speaker cabinet's band-pass, panned hard left and right.
    ``muted`` damps it fast, the palm-muted chug of driving 8ths."""
    t = np.arange(n) / sr
    env = decay(t, 0.07 if muted else 0.8)
    takes = [np.tanh(5 * env * sum(osc(root + s, n, sr, 2500, detune=d, phase=p + 0.2 * j)
                                   for j, s in enumerate((0, 7, 12)))) for d, p in ((0.997, 0.1), (1.003, 0.6))]
    x = bandpass(np.stack(takes, axis=1), sr, lo=110, hi=4500)
    return 0.5 * x * (decay(t, 0.12 if muted else 1.5) * fade(n, sr, 0.002, 0.02))[:, None]


@functools.lru_cache(maxsize=256)
def reese(midi: int, n: int, sr: int) -> np.ndarray:
    """The drum-and-bass 'reese': two saws detuned apart so they phase against each other (the growl), low-
    passed, over a sine sub that carries the pitch."""
    t = np.arange(n) / sr
    saws = osc(midi + 12, n, sr, 900, detune=0.993) + osc(midi + 12, n, sr, 900, detune=1.007, phase=0.5)
    return (0.3 * saws + 0.6 * np.sin(2 * np.pi * hz(midi) * t)) * fade(n, sr, 0.01, 0.03)


@functools.lru_cache(maxsize=256)
def sub(midi: int, n: int, sr: int) -> np.ndarray:
    """An 808 bass: a sine that starts sharp and slides into pitch, saturated so small speakers still hear its
    harmonics, with a long decay."""
    t = np.arange(n) / sr
    x = np.sin(2 * np.pi * np.cumsum(hz(midi) * (1 + 0.15 * np.exp(-t / 0.03))) / sr)
    return np.tanh(1.8 * x) / np.tanh(1.8) * decay(t, 0.9) * fade(n, sr, 0.001, 0.02)


@functools.lru_cache(maxsize=256)
def chip(midi: int, n: int, sr: int, shape: str = "square") -> np.ndarray:
    """A game console's tone: a bare square (the pulse channels) or triangle (the bass channel), no filter
    movement, only the small volume decay sound drivers applied."""
    t = np.arange(n) / sr
    return osc(midi, n, sr, 14_000, shape=shape) * (0.6 + 0.4 * decay(t, 0.15)) * fade(n, sr, 0.001, 0.004)


@functools.lru_cache(maxsize=256)
def brass(midi: int, n: int, sr: int) -> np.ndarray:
    """A horn: two saws whose low-pass opens with the breath; the brightness following the loudness is what
    makes brass sound like brass."""
    t = np.arange(n) / sr
    blow = 1 - np.exp(-t / 0.06)
    cutoff = 200 + 1600 * blow**2
    x = osc(midi, n, sr, cutoff, detune=0.998) + osc(midi, n, sr, cutoff, detune=1.002, phase=0.4)
    return 0.5 * x * blow * fade(n, sr, 0.002, 0.06)


@functools.lru_cache(maxsize=256)
def bowed(midi: int, n: int, sr: int) -> np.ndarray:
    """A short bowed note of a string section (spiccato): three detuned saws, bright at the bow's bite."""
    t = np.arange(n) / sr
    cutoff = 1500 + 3000 * np.exp(-t / 0.03)
    x = sum(osc(midi, n, sr, cutoff, detune=d, phase=p) for d, p in ((0.996, 0.0), (1.0, 0.3), (1.004, 0.7)))
    return x / 3 * decay(t, 0.15) * fade(n, sr, 0.004, 0.02)


def pad(chord: tuple[int, ...], n: int, sr: int, cutoff: np.ndarray, phases: np.ndarray) -> np.ndarray:
    """Three detuned saws per note, panned apart: the wide, slow bed under everything."""
    voices = ((0.993, -0.7), (1.0, 0.0), (1.007, 0.7))
    x = sum(pan(osc(m, n, sr, cutoff, detune=d, phase=phases[j, v]), p)
            for j, m in enumerate(chord) for v, (d, p) in enumerate(voices))
    return x * fade(n, sr, 0.15, 0.3)[:, None] / 8


def sidechain(n: int, kicks, sr: int, depth: float, release_s: float, length_s: float) -> np.ndarray:
    """(n,) gain that dips by ``depth`` at every kick and recovers over ``release_s``: the music bus
    breathes around the kick, as dance music's sidechain compressors make it."""
    duck = np.ones(n)
    shape = 1 - depth * np.exp(-np.arange(int(length_s * sr)) / sr / release_s)
    for t in kicks:
        i = int(round(t * sr))
        np.minimum(duck[i:i + len(shape)], shape[: n - i], out=duck[i:i + len(shape)])
    return duck


def master(drums: np.ndarray, music: np.ndarray, send: np.ndarray, duck: np.ndarray, sr: int,
           rng: np.random.Generator, fade_out_s: float, peak: float) -> np.ndarray:
    """The mix bus: the ducked music and its reverb send with the drums, faded at both ends, about 6 dB
    of limiting on the loudest hits, and the peak at ``peak``; float32."""
    mix = space(drums + music * duck[:, None], send * duck[:, None], sr, rng)
    mix *= fade(len(mix), sr, 0.001, fade_out_s)[:, None]
    mix = limit(mix * (2.0 / np.abs(mix).max()), sr, peak)
    return (mix * peak / np.abs(mix).max()).astype(np.float32)


def place(buf: np.ndarray, x: np.ndarray, t: float, sr: int, gain: float = 1.0, position: float = 0.0) -> None:
    """Mix a one-shot into the stereo ``buf`` at ``t`` seconds; mono sources are panned to ``position``."""
    i = int(round(t * sr))
    x = pan(x, position) if x.ndim == 1 else x
    m = min(len(x), len(buf) - i)
    buf[i:i + m] += gain * x[:m]


def space(dry: np.ndarray, send: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Dry bus plus the send bus convolved with a 2.5 s decorrelated noise tail (space and stereo width),
    high-passed at 25 Hz (decaying notes leave DC behind), all in one FFT pass over the whole track."""
    t = np.arange(int(2.5 * sr)) / sr
    ir = bandpass(rng.standard_normal((len(t), 2)), sr, lo=250, hi=6000) * np.exp(-t / 0.35)[:, None]
    ir[: int(0.02 * sr)] = 0  # predelay
    ir *= 0.35 / np.sqrt((ir ** 2).sum(axis=0))
    size = 1 << (len(dry) + len(ir)).bit_length()
    spectrum = np.fft.rfft(dry, size, axis=0) + np.fft.rfft(send, size, axis=0) * np.fft.rfft(ir, size, axis=0)
    return np.fft.irfft(spectrum * response(size, sr, 25, None, 2)[:, None], size, axis=0)[: len(dry)]


def limit(x: np.ndarray, sr: int, ceiling: float, release_s: float = 0.08) -> np.ndarray:
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
