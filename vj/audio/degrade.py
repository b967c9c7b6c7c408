"""How the beat evaluation set's songs are heard on a bad night: through a room microphone, a phone, a
badly set input gain, and under a loud crowd. Each condition is seeded, so the set is the same every time."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vj.audio import instruments as ins
from vj.audio.synth import PEAK, SAMPLE_RATE


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x))) + 1e-12)


def _pink(shape: tuple[int, ...], sr: int, rng: np.random.Generator) -> np.ndarray:
    """Pink noise (power falling 3 dB per octave, flat below 20 Hz) at unit RMS: crowds, air handling, rooms."""
    white = np.fft.rfft(rng.standard_normal(shape), axis=0)
    f = np.fft.rfftfreq(shape[0], 1 / sr).reshape(-1, *[1] * (len(shape) - 1))
    x = np.fft.irfft(white / np.sqrt(np.maximum(f, 20.0)), shape[0], axis=0)
    return x / _rms(x)


def _convolve(x: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """``x`` (n,) through the impulse response ``ir``, by FFT, cut to the length of ``x``."""
    size = 1 << (len(x) + len(ir)).bit_length()
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(ir, size), size)[: len(x)]


def _room_ir(sr: int, rng: np.random.Generator, rt60: float = 0.9) -> np.ndarray:
    """A room heard from a few metres: the direct sound, a dozen early reflections off walls and floor, then a
    diffuse noise tail that dies away 60 dB in ``rt60`` s below 1 kHz and faster above (air and soft surfaces
    absorb the highs); about 0.65 s broadband, with three times the direct sound's energy in the reverb."""
    t = np.arange(int(1.2 * rt60 * sr)) / sr
    white = rng.standard_normal(len(t))
    bands = ((None, 1000, rt60), (1000, 4000, 0.75 * rt60), (4000, None, 0.45 * rt60))
    tail = sum(ins.bandpass(white, sr, lo, hi) * np.exp(-6.91 * t / rt) for lo, hi, rt in bands)
    tail *= np.clip((t - 0.015) / 0.03, 0, 1)  # the diffuse field builds up after the first reflections
    early = np.zeros(len(t))
    for delay in rng.uniform(0.003, 0.04, 12):
        early[int(delay * sr)] += rng.choice((-1, 1)) * 0.7 * np.exp(-delay / 0.02)
    early = ins.bandpass(early, sr, hi=6000)
    ir = 1.0 * (t == 0) + early
    return ir + tail * np.sqrt(2 * np.sum(ir**2) / np.sum(tail**2))


def _room(x: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A room microphone: the room's response, a low-cut at 90 Hz against rumble, a crowd and air conditioning
    30 dB under the music."""
    wet = ins.bandpass(_convolve(x, _room_ir(sr, rng)), sr, lo=90)
    return wet + _pink(wet.shape, sr, rng) * _rms(wet) * 10 ** (-30 / 20)


def _phone(x: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A phone call: a compressor levelling the voice path (4:1 above -20 dB re the peak RMS), mild
    saturation, a little noise, and the telephone band (300-3400 Hz, steep) applied last, as the codec does."""
    window = int(0.02 * sr)
    energy = np.concatenate([[0.0], np.cumsum(x**2)])
    level = np.sqrt(np.maximum(energy[window:] - energy[:-window], 0) / window)
    level = np.concatenate([np.full(window - 1, level[0]), level])  # the level of the 20 ms ending at each sample
    threshold = 0.1 * level.max()
    y = x * np.minimum(1.0, (np.maximum(level, 1e-9) / threshold) ** (1 / 4 - 1))
    y = np.tanh(2.0 * y / np.abs(y).max()) + rng.standard_normal(len(y)) * _rms(y) * 10 ** (-40 / 20)
    return ins.bandpass(y, sr, lo=300, hi=3400, order=8)


def _quiet(x: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """The input gain set 30 dB too low: the music 30 dB down over the interface's -80 dBFS noise floor."""
    return x * 10 ** (-30 / 20) + rng.standard_normal(x.shape) * 10 ** (-80 / 20)


def _noisy(x: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A loud crowd: pink noise (different on each side) 10 dB under the music's RMS."""
    return x + _pink(x.shape, sr, rng) * _rms(x) * 10 ** (-10 / 20)


_DEGRADE: dict[str, tuple[Callable[[np.ndarray, int, np.random.Generator], np.ndarray], bool, bool]] = {
    # condition: (process, on the mono sum, peak-normalise after)
    "room": (_room, True, True),
    "phone": (_phone, True, True),
    "quiet": (_quiet, False, False),
    "noisy": (_noisy, False, True),
}
CONDITIONS = ("clean", *_DEGRADE)


def degrade(samples: np.ndarray, condition: str, sample_rate: int = SAMPLE_RATE, seed: int = 0) -> np.ndarray:
    """``samples`` (n, 2) or (n,) as heard under ``condition`` (one of ``CONDITIONS``), same shape, float32.

    Mono conditions (room, phone) hear the sum of both channels and give it to both. All but 'quiet' (whose
    point is its level) are peak-normalised to -1 dBFS, as a recording with its gain set right would be.
    """
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}: use one of {', '.join(CONDITIONS)}")
    x = np.asarray(samples, dtype=np.float64)
    if condition == "clean":
        return x.astype(np.float32)
    process, mono, normalise = _DEGRADE[condition]
    rng = np.random.default_rng(seed)
    if mono and x.ndim == 2:
        y = np.repeat(process(x.mean(axis=1), sample_rate, rng)[:, None], x.shape[1], axis=1)
    else:
        y = process(x, sample_rate, rng)
    if normalise:
        y *= PEAK / np.abs(y).max()
    return np.clip(y, -1, 1).astype(np.float32)
