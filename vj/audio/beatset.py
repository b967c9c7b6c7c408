"""The beat tracker's evaluation set: synthesized songs whose every beat time is known exactly.

Fifteen half-minute songs over the styles the tracker is specified for (pop, rock, electronic, hip-hop,
funk, reggaeton, game, orchestral, folk; 80 to 180 BPM). Each is a groove (drum patterns as 16th-step
strings, a bass line, a comping rhythm, a lead) played over a chord progression, humanized, and mixed
through a reverb and a limiter like real music, so a tracker cannot pass by finding clicks. Their truth
is the notated quarter-note grid from the first downbeat to the final hit, through quiet intros and drum
breaks, integrated from the tempo map where the tempo moves; played notes wander a few ms around it, as
musicians do around a human annotation. Every song also comes degraded (``CONDITIONS``): through a room
microphone, a phone, a badly set input gain, and under a loud crowd (`vj.audio.degrade`).

Write the set with ``vj eval-beats DIR --make-set``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vj.audio import instruments as ins
from vj.audio.degrade import CONDITIONS, degrade
from vj.audio.synth import PEAK, SAMPLE_RATE, write_audio

TAIL_S = 1.5
"""After the final hit: long enough for it to ring out, short enough not to reward beats guessed in silence."""


@dataclass(frozen=True)
class Song:
    """One song of the set: a groove over a chord progression on a tempo map, all of it fixed by ``seed``."""

    name: str
    style: str
    bpm: float
    """The starting tempo."""
    groove: str
    """Key into ``GROOVES``: the drum patterns, bass line, comping and lead the band plays."""
    chords: tuple[str, ...]
    """One chord per bar, cycled: 'C', 'Am', 'G7', 'Bbmaj7', 'F#m7'."""
    bars: int
    seed: int
    tempo: tuple[tuple[float, float], ...] = ()
    """(bar, bpm) points after the start: the tempo moves linearly (per beat) between points, jumps where two
    share a bar, and holds after the last."""
    offset_s: float = 0.0
    """Silence before the first downbeat, so the beat phase is not always at t = 0."""
    swing: float = 0.5
    """Where the off-beat 16th falls within its 8th: 0.5 straight, 0.6 the lazy swing of hip-hop."""
    intro: int = 0
    """Bars of chords alone (no drums, bass or lead) before the band comes in."""
    intro_gain: float = 1.0
    breaks: tuple[int, ...] = ()
    """Bars where the drums drop out and the harmony carries on."""

    def _points(self) -> list[tuple[float, float]]:
        """The tempo map as (beat, bpm) points, closed by a point at infinity holding the last tempo."""
        points = [(0.0, float(self.bpm)), *((4.0 * bar, float(bpm)) for bar, bpm in self.tempo)]
        return [*points, (np.inf, points[-1][1])]

    def seconds(self, beats: np.ndarray | Sequence[float]) -> np.ndarray:
        """Time (s) of beat positions (quarter notes since the first downbeat, fractions allowed): the time
        spent in each tempo segment summed in closed form, so notes and truth agree exactly."""
        beats = np.asarray(beats, dtype=float)
        total = np.full(beats.shape, float(self.offset_s))
        points = self._points()
        for (b0, v0), (b1, v1) in zip(points, points[1:]):
            if b1 <= b0:  # a tempo jump takes no time
                continue
            d = np.clip(beats, b0, b1) - b0
            slope = (v1 - v0) / (b1 - b0)  # bpm per beat
            total += 60 * d / v0 if slope == 0 else 60 / slope * np.log1p(slope * d / v0)
        return total

    def tempo_at(self, beats: np.ndarray | Sequence[float]) -> np.ndarray:
        """The tempo (BPM) at beat positions."""
        beats = np.asarray(beats, dtype=float)
        out = np.full(beats.shape, float(self.bpm))
        points = self._points()
        for (b0, v0), (b1, v1) in zip(points, points[1:]):
            if b1 > b0:  # a jump has no inside
                inside = (beats >= b0) & (beats < b1)
                out[inside] = v0 + (v1 - v0) * (beats[inside] - b0) / (b1 - b0)
        return out

    def beat_times(self) -> np.ndarray:
        """The truth: every quarter note from the first downbeat to the final hit (one beat past the last bar)."""
        return self.seconds(np.arange(4 * self.bars + 1))

    def steps(self) -> np.ndarray:
        """Time (s) of every 16th step, swung, and of the final hit: 16 * bars + 1 entries."""
        g = np.arange(16 * self.bars + 1)
        return self.seconds(g // 4 + (g % 4 // 2) * 0.5 + (g % 2) * self.swing * 0.5)

    def drums_on(self) -> np.ndarray:
        """Per bar: whether the drums play (not in the intro, not in a break)."""
        bars = np.arange(self.bars)
        return (bars >= self.intro) & ~np.isin(bars, self.breaks)


@dataclass(frozen=True)
class Groove:
    """How a band plays a style. Patterns are strings over 16th steps (16 per bar, or 32 for two bars).

    Drums: 'X' accent, 'x' hit, 'o' ghost, '-' rest. Melodic lines: a symbol starts a note, '=' holds it,
    '-' rests; bass symbols are r(oot), t(hird), f(ifth), s(eventh), o(ctave), upper case accented; lead
    symbols are chord-tone indices from the root upwards (0-9), or '?' for a melody note near the last one.
    """

    kit: str
    drums: dict[str, str]
    bass: tuple[str, str] | None = None  # (voice, line)
    comp: tuple[str, str] | None = None  # (voice, rhythm): chords
    lead: tuple[str, str] | None = None  # (voice, line)
    pad: tuple[float, float] | None = None  # (gain, low-pass Hz): a held chord per bar
    levels: tuple[float, float, float, float] = (1.0, 0.5, 0.5, 0.3)  # drums, bass, comp, lead
    register: tuple[int, int, int] = (28, 62, 72)  # lowest bass note, centre of the chords, lowest lead note
    fill: dict[str, str] = field(default_factory=dict)  # drum patterns for the last bar of a phrase
    crash_every: int = 4  # bars; 0 for none
    feel_s: float = 0.004  # timing jitter (s, standard deviation)
    late: dict[str, float] = field(default_factory=dict)  # a laid-back voice's delay (s)
    duck: bool = False  # sidechain the music to the kick
    swell: bool = False  # the pad is a string section swelling through each bar


def _hats(sr: int, rng: np.random.Generator, tau: float, length_s: float = 0.12, lo: float = 7000) -> np.ndarray:
    """Hats, rides and crashes: high-passed noise decaying with ``tau`` (s)."""
    return ins.noise(int(length_s * sr), sr, rng, tau, lo)


_Maker = Callable[[int, np.random.Generator], np.ndarray]
_KITS: dict[str, dict[str, tuple[_Maker | None, float, float]]] = {
    # voice: (sample maker, gain, reverb send)
    "acoustic": {
        "kick": (lambda sr, rng: ins.kick(sr, rng, low=55, high=120, sweep_s=0.025, decay_s=0.16, snap=0.5,
                                          drive=1.6, length_s=0.5), 0.9, 0.02),
        "snare": (lambda sr, rng: ins.snare(sr, rng, tone=190, decay_s=0.16), 0.6, 0.25),
        "hat": (lambda sr, rng: _hats(sr, rng, 0.025, lo=6500), 0.22, 0.05),
        "open": (lambda sr, rng: _hats(sr, rng, 0.15, 0.5, 6000), 0.2, 0.05),
        "ride": (lambda sr, rng: _hats(sr, rng, 0.35, 1.0, 4500), 0.16, 0.05),
        "tom": (lambda sr, rng: ins.kick(sr, rng, low=95, high=150, sweep_s=0.05, decay_s=0.2, snap=0.2,
                                         drive=1.2, length_s=0.6), 0.6, 0.2),
        "crash": (lambda sr, rng: _hats(sr, rng, 0.8, 2.5, 3500), 0.28, 0.1),
    },
    "breaks": {
        "kick": (lambda sr, rng: ins.kick(sr, rng, low=50, high=140, sweep_s=0.02, decay_s=0.14, snap=0.6,
                                          drive=2.0, length_s=0.4), 0.9, 0.0),
        "snare": (lambda sr, rng: ins.snare(sr, rng, tone=230, decay_s=0.11, wires=0.9), 0.7, 0.2),
        "hat": (lambda sr, rng: _hats(sr, rng, 0.02), 0.22, 0.05),
        "crash": (lambda sr, rng: _hats(sr, rng, 0.8, 2.5, 3500), 0.25, 0.1),
    },
    "electronic": {
        "kick": (lambda sr, rng: ins.kick(sr, rng), 0.9, 0.0),
        "snare": (lambda sr, rng: ins.clap(sr, rng), 0.7, 0.35),
        "hat": (lambda sr, rng: _hats(sr, rng, 0.018, 0.1), 0.3, 0.0),
        "open": (lambda sr, rng: _hats(sr, rng, 0.09, 0.4, 6000), 0.3, 0.0),
        "crash": (lambda sr, rng: _hats(sr, rng, 0.7, 2.5, 4000), 0.3, 0.0),
    },
    "808": {
        "kick": (lambda sr, rng: ins.kick(sr, rng, low=48, high=120, sweep_s=0.03, decay_s=0.25, snap=0.4,
                                          drive=1.4, length_s=0.9), 0.9, 0.0),
        "snare": (lambda sr, rng: ins.snare(sr, rng, tone=175, decay_s=0.2, wires=0.8), 0.65, 0.3),
        "hat": (lambda sr, rng: _hats(sr, rng, 0.014, 0.08, 8000), 0.25, 0.0),
        "open": (lambda sr, rng: _hats(sr, rng, 0.1, 0.4, 7000), 0.2, 0.0),
        "crash": (lambda sr, rng: _hats(sr, rng, 0.7, 2.5, 4000), 0.22, 0.1),
    },
    "chip": {
        "kick": (lambda sr, rng: ins.kick(sr, rng, low=55, high=220, sweep_s=0.02, decay_s=0.08, snap=0.0,
                                          drive=4.0, length_s=0.2), 0.7, 0.0),
        "snare": (lambda sr, rng: ins.chip_noise(int(0.2 * sr), sr, rng, 6000, 0.06), 0.4, 0.0),
        "hat": (lambda sr, rng: ins.chip_noise(int(0.06 * sr), sr, rng, 22_000, 0.012), 0.15, 0.0),
        "crash": (lambda sr, rng: ins.chip_noise(int(0.8 * sr), sr, rng, 12_000, 0.25), 0.18, 0.0),
    },
    "orchestra": {"timpani": (None, 0.9, 0.5)},  # no fixed sample: tuned to each bar's root when played
}

_NOTE_VOICES: dict[str, Callable[[int, int, int], np.ndarray]] = {
    # (midi, samples, rate) -> one note, mono or stereo
    "bass": ins.bass,
    "sub": ins.sub,
    "reese": ins.reese,
    "finger": lambda m, n, sr: ins.struck(m, n, sr, 0.9, 0.75),
    "piano": lambda m, n, sr: ins.struck(m, n, sr, 1.2, 0.6),
    "ep": lambda m, n, sr: ins.struck(m, n, sr, 1.6, 0.3),
    "pizz": lambda m, n, sr: ins.struck(m, n, sr, 0.3, 0.45),
    "clav": lambda m, n, sr: ins.pluck(m, 3000.0, sr),
    "pluck": lambda m, n, sr: ins.pluck(m, 2000.0, sr),
    "square": ins.chip,
    "triangle": lambda m, n, sr: ins.chip(m, n, sr, "triangle"),
    "brass": ins.brass,
    "bowed": ins.bowed,
}

_ON, _OFF, _TWO = "X---" * 4, "--x-" * 4, "----X-------X---"  # kick on every beat, off-beat hats, backbeat
GROOVES: dict[str, Groove] = {
    "pop": Groove("acoustic", {"kick": "X---------x-----", "snare": _TWO, "hat": "X-x-x-x-X-x-x-x-"},
                  bass=("finger", "R=======r=r===o-"), comp=("piano", "X=====x=====x==="), pad=(0.25, 1500),
                  levels=(1.0, 0.6, 0.6, 0.3), fill={"snare": "----X-------XxXx"}),
    "rock": Groove("acoustic", {"kick": "X-------X-x-----", "snare": _TWO, "hat": "x-x-x-x-x-x-x-x-"},
                   bass=("finger", "R=r=r=r=R=r=r=r="), comp=("power", "X=x=x=x=X=x=x=x="),
                   levels=(0.8, 0.6, 1.2, 0.3), fill={"snare": "----X---xxxx----", "tom": "------------XxXx"},
                   crash_every=1),
    "punk": Groove("acoustic", {"kick": "X-------X-------", "snare": _TWO, "ride": "X---x---X---x---"},
                   bass=("finger", "R=r=R=r=R=r=R=r="), comp=("power", "X=x=X=x=X=x=X=x="),
                   levels=(0.8, 0.6, 1.2, 0.3), fill={"snare": "----X-------xxxx"}),
    "house": Groove("electronic", {"kick": _ON, "snare": _TWO, "open": _OFF, "hat": "o-oo-oo-o-oo-oo-"},
                    bass=("bass", "--R=--r=--R=--o="), comp=("stab", "---X--x----X--x-"), pad=(0.3, 1200),
                    levels=(0.8, 0.8, 1.4, 0.3), feel_s=0.0005, duck=True),
    "techno": Groove("electronic", {"kick": _ON, "hat": "oxXxoxXxoxXxoxXx", "snare": "----o-------o---"},
                     bass=("bass", "-rrr-rrr-rrr-rrr"), comp=("stab", "------x---x-----"), pad=(0.25, 700),
                     levels=(0.7, 0.6, 2.0, 0.3), register=(24, 62, 72), feel_s=0.0005, duck=True),
    "synthpop": Groove("electronic", {"kick": "X-----x-X-------", "snare": _TWO, "hat": "x-x-x-x-x-x-x-x-"},
                       bass=("bass", "R=o=r=o=R=o=r=o="), lead=("pluck", "0123210301232103"), pad=(0.3, 2000),
                       levels=(0.9, 0.6, 0.5, 0.6), feel_s=0.001),
    "dnb": Groove("breaks", {"kick": "X---------X-----X-x-------X-----", "snare": _TWO * 2,
                             "hat": "x-x-x-xox-x-x-xox-x-x-xox-xox-xo"},
                  bass=("reese", "R===========r=--"), comp=("ep", "X=======x======="), pad=(0.3, 2500),
                  levels=(0.9, 0.5, 0.4, 0.3), feel_s=0.002),
    "boombap": Groove("808", {"kick": "X------x-x------", "snare": _TWO, "hat": "x-xxx-x-x-xxx-x-"},
                      bass=("sub", "R======r=r======"), comp=("ep", "X=======--x====="), levels=(1.0, 0.5, 0.5, 0.3),
                      register=(33, 62, 72), feel_s=0.006, late={"snare": 0.014, "hat": 0.006}),
    "funk": Groove("breaks", {"kick": "X--x------x--x--", "snare": "----X--o-o--X--o", "hat": "XoxoXoxoXoxoXoxo"},
                   bass=("bass", "R=-o---r=-R=-o-f"), comp=("clav", "--x--x-x--x--x-x"), levels=(1.0, 0.8, 1.5, 0.3),
                   register=(28, 64, 72), fill={"snare": "----X--o-o--XxXx"}),
    "dembow": Groove("808", {"kick": _ON, "snare": "---X--x----X--x-", "hat": "x-o-x-o-x-o-x-o-"},
                     bass=("sub", "R=======r===r==="), comp=("piano", "x==x==x=x==x==x="), pad=(0.2, 1500),
                     levels=(0.75, 0.4, 0.6, 0.3), register=(35, 64, 72), feel_s=0.002),
    "chip": Groove("chip", {"kick": "X-------X-------", "snare": _TWO, "hat": "x-x-x-x-x-x-x-x-"},
                   bass=("triangle", "R=o=R=o=R=o=R=o="), lead=("square", "0123012301230123"),
                   levels=(1.0, 0.4, 0.4, 0.3), register=(40, 62, 64), feel_s=0.0, crash_every=8),
    "orchestral": Groove("orchestra", {"timpani": "X-------o-------"}, bass=("pizz", "R===r===f===r==="),
                         comp=("pizz", "x===x===x===x==="), lead=("brass", "?=======?===?==="), pad=(0.5, 3500),
                         levels=(1.0, 0.6, 0.7, 0.45), register=(36, 62, 55), crash_every=0, feel_s=0.01,
                         swell=True),
    "ballad": Groove("acoustic", {"kick": "X---------x-----", "snare": _TWO, "hat": "xoxoxoxoxoxoxoxo"},
                     bass=("finger", "R=======r===f==="), comp=("piano", "X=======x======="), pad=(0.3, 1200),
                     levels=(1.0, 0.6, 0.7, 0.3), register=(31, 62, 72), fill={"snare": "----X-------Xxxx"}),
    "folk": Groove("acoustic", {"kick": "X-------X-------", "snare": "----x-------x---", "hat": "x-x-x-x-x-x-x-x-"},
                   bass=("finger", "R=======f======="), comp=("piano", "x===x===x===x==="),
                   levels=(1.0, 0.6, 0.6, 0.3), feel_s=0.006),
    "boss": Groove("acoustic", {"kick": "X-----x-X-----x-", "snare": _TWO, "tom": "--------------xx",
                                "ride": "x-x-x-x-x-x-x-x-"},
                   bass=("bowed", "R=R=R=R=R=R=R=R="), comp=("brass", "X=======--x=x==="),
                   lead=("bowed", "0020302000203020"), levels=(0.7, 1.5, 0.45, 0.8), register=(36, 62, 60)),
}

SONGS: tuple[Song, ...] = (
    Song("pop-100", "pop", 100, "pop", ("C", "G", "Am", "F"), 12, seed=1, offset_s=0.25, intro=2, intro_gain=0.6,
         breaks=(8,)),
    Song("rock-136", "rock", 136, "rock", ("E", "C", "G", "D"), 16, seed=2, intro=1, breaks=(12,)),
    Song("house-124", "electronic", 124, "house", ("Dm7", "Gm7", "Bbmaj7", "A7"), 16, seed=3, offset_s=0.4, intro=2,
         intro_gain=0.5, breaks=(10, 11)),
    Song("techno-132", "electronic", 132, "techno", ("Fm", "Fm", "Db", "Eb"), 16, seed=4, offset_s=0.1),
    Song("dnb-174", "electronic", 174, "dnb", ("Fm7", "Dbmaj7", "Ab", "Eb"), 20, seed=5, intro=2, intro_gain=0.5,
         breaks=(12, 13)),
    Song("hiphop-88", "hiphop", 88, "boombap", ("Dm7", "G7", "Cmaj7", "A7"), 12, seed=6, offset_s=0.6, swing=0.6,
         intro=1, breaks=(8,)),
    Song("funk-104", "funk", 104, "funk", ("Em7", "Em7", "A7", "A7"), 12, seed=7, breaks=(6,)),
    Song("reggaeton-96", "reggaeton", 96, "dembow", ("Bm", "G", "D", "A"), 12, seed=8, offset_s=0.5, intro=1,
         intro_gain=0.6),
    Song("chiptune-160", "game", 160, "chip", ("Am", "F", "G", "E"), 20, seed=9, offset_s=0.1, breaks=(12,)),
    Song("orchestral-92", "orchestral", 92, "orchestral", ("Dm", "Bb", "Gm", "A"), 12, seed=10, offset_s=0.15,
         intro=1, intro_gain=0.5),
    Song("ballad-80", "pop", 80, "ballad", ("Ebmaj7", "Cm7", "Abmaj7", "Bb"), 10, seed=11, intro=1, intro_gain=0.5),
    Song("punk-180", "rock", 180, "punk", ("D", "A", "Bm", "G"), 24, seed=12, offset_s=0.3, breaks=(16,)),
    Song("synthpop-120-132", "electronic", 120, "synthpop", ("Am", "F", "C", "G"), 16, seed=13,
         tempo=((8, 120), (8, 132)), intro=1),
    Song("folk-100-116", "folk", 100, "folk", ("G", "C", "G", "D"), 16, seed=14,
         tempo=((1, 100), (9, 116), (14, 116), (16, 100)), offset_s=0.2),
    Song("boss-150", "game", 150, "boss", ("Cm", "Ab", "Bb", "G"), 20, seed=15, intro=1, breaks=(8,)),
)
"""The set. The abrupt (synthpop) and gradual (folk: accelerando, then a final ritardando) tempo changes follow
their tempo maps; ballad-80 has 16th hats (an octave trap towards 160), punk-180 a beat-by-beat kick and
snare (towards 90); orchestral-92 has no drum kit at all."""

_NOTES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_QUALITIES = {"": (0, 4, 7), "m": (0, 3, 7), "7": (0, 4, 7, 10), "m7": (0, 3, 7, 10), "maj7": (0, 4, 7, 11)}
_VELOCITY = {"X": 1.0, "x": 0.75, "o": 0.3}


def _chord(name: str) -> tuple[int, tuple[int, ...]]:
    """'Bbmaj7' -> (10, (0, 4, 7, 11)): the root's pitch class and the intervals above it."""
    accidental = {"#": 1, "b": -1}.get(name[1:2], 0)
    return (_NOTES[name[0]] + accidental) % 12, _QUALITIES[name[1 + abs(accidental):]]


def _above(pitch_class: int, low: int) -> int:
    """The lowest MIDI note of ``pitch_class`` at or above ``low``."""
    return low + (pitch_class - low) % 12


def _voicing(root: int, intervals: tuple[int, ...], centre: int) -> tuple[int, ...]:
    """The chord in close position around ``centre`` (whatever inversion lands there): chords that stay in one
    register, the way a pianist voice-leads, instead of jumping with the root."""
    return tuple(sorted(_above(root + i, centre - 5) for i in intervals))


def _notes(pattern: str) -> list[tuple[int, int, str]]:
    """(step, length in steps, symbol) of each note of a step pattern."""
    notes: list[tuple[int, int, str]] = []
    for step, symbol in enumerate(pattern):
        if symbol == "=":
            start, length, held = notes[-1]
            notes[-1] = (start, length + 1, held)
        elif symbol != "-":
            notes.append((step, 1, symbol))
    return notes


def _in_bar(pattern: str, bar: int) -> list[tuple[int, int, str]]:
    """The notes of ``pattern`` that fall in ``bar`` (patterns of several bars repeat), steps within the bar."""
    first = 16 * (bar % (len(pattern) // 16))
    return [(s - first, n, c) for s, n, c in _notes(pattern) if first <= s < first + 16]


@functools.lru_cache(maxsize=64)
def _chord_hit(voice: str, chord: tuple[int, ...], n: int, sr: int) -> np.ndarray:
    """One comping chord (its bass note, then the voicing) as stereo: a guitar power chord on the bass note (let
    ring when held), a synth stab, or each note of the voicing played by ``voice``, low notes a little left
    and high ones right like a piano."""
    if voice == "power":
        return ins.power_chord(chord[0], n, sr, muted=n < 0.3 * sr)
    if voice == "stab":
        return ins.stab(chord, sr)
    notes, centre = chord[1:], np.mean(chord[1:])
    return sum(ins.pan(_NOTE_VOICES[voice](m, n, sr), (m - centre) / 24) for m in notes) / np.sqrt(len(notes))


@functools.lru_cache(maxsize=16)
def _pad(chord: tuple[int, ...], n: int, sr: int, cutoff: float, swell: bool) -> np.ndarray:
    """A bar's held chord: the synth pad, or (``swell``) a string section swelling up and back within the bar."""
    x = ins.pad(chord, n, sr, cutoff, np.random.default_rng(sum(chord)).uniform(0, 1, (len(chord), 3)))
    if swell:
        x *= (0.35 + 0.65 * np.sin(np.pi * np.arange(n) / n) ** 2)[:, None]
    return x


class _Band:
    """Plays one song into three stereo buses (drums, music, reverb send), part by part."""

    def __init__(self, song: Song, sr: int) -> None:
        self.song, self.sr, self.groove = song, sr, GROOVES[song.groove]
        self.rng = np.random.default_rng(song.seed)
        self.grid = song.steps()
        self.n = int((self.grid[-1] + TAIL_S) * sr)
        self.drums, self.music, self.send = (np.zeros((self.n, 2)) for _ in range(3))
        self.chords = [_chord(song.chords[bar % len(song.chords)]) for bar in range(song.bars + 1)]
        self.kicks: list[float] = []
        self.last_lead = self.groove.register[2] + 7

    def when(self, bar: int, step: int, voice: str = "") -> float:
        """The played time of a step: on the grid, plus the player's jitter and any laid-back lag."""
        spread = self.groove.feel_s
        jitter = np.clip(self.rng.normal(0, spread), -2.5 * spread, 2.5 * spread)
        return max(0.0, self.grid[16 * bar + step] + jitter + self.groove.late.get(voice, 0.0))

    def length(self, bar: int, step: int, steps: int) -> int:
        """Samples from a step to ``steps`` later, rounded to 10 ms so notes repeat exactly and hit the caches."""
        end = min(16 * bar + step + steps, len(self.grid) - 1)
        return max(1, int(round((self.grid[end] - self.grid[16 * bar + step]) * 100))) * self.sr // 100

    def velocity(self, level: float) -> float:
        """``level`` as played: a human never hits twice alike."""
        return level * self.rng.uniform(0.88, 1.0)

    def play_drums(self) -> None:
        """Every drum voice's pattern in the bars the drums play, crashes, a fill ending each 4-bar phrase."""
        song, groove, sr = self.song, self.groove, self.sr
        kit = {voice: [ins.pan(x, 0.0) if x.ndim == 1 else x for x in (make(sr, self.rng) for _ in range(3))]
               for voice, (make, _, _) in _KITS[groove.kit].items() if make}  # three of each, played in turn
        on = song.drums_on()
        since = np.zeros(song.bars, int)  # bars since the drums came back in
        for bar in range(1, song.bars):
            since[bar] = since[bar - 1] + 1 if on[bar - 1] else 0
        crash = on & (since % groove.crash_every == 0) if groove.crash_every else np.zeros(song.bars, bool)
        fill = on & np.append((since[1:] % 4 == 0) | ~on[1:], True)  # into a phrase, a break or the final hit
        for bar in np.flatnonzero(on):
            patterns = {**groove.drums, **(groove.fill if fill[bar] else {})}
            if crash[bar] and "crash" in kit:
                self.hit(kit, "crash", bar, 0, 1.0)
            for voice, pattern in patterns.items():
                for step, _, symbol in _in_bar(pattern, bar):
                    self.hit(kit, voice, bar, step, self.velocity(_VELOCITY[symbol]))
        for voice in ("kick", "timpani", "crash"):  # the final hit
            if voice in _KITS[groove.kit]:
                self.hit(kit, voice, song.bars, 0, 1.0)

    def hit(self, kit: dict[str, list[np.ndarray]], voice: str, bar: int, step: int, velocity: float) -> None:
        """One drum hit (one of the voice's takes at random), remembering where the kicks fell for the sidechain."""
        _, gain, send = _KITS[self.groove.kit][voice]
        velocity *= self.groove.levels[0]
        if voice == "timpani":  # tuned to the bar's root, in the drum's range
            sample = ins.pan(ins.timpani(_above(self.chords[bar][0], 38), self.sr), 0.0)
        else:
            sample = kit[voice][self.rng.integers(len(kit[voice]))]
        t = self.when(bar, step, voice)
        ins.place(self.drums, sample, t, self.sr, gain * velocity)
        ins.place(self.send, sample, t, self.sr, send * velocity)
        if voice == "kick":
            self.kicks.append(t)

    def play_line(self, part: tuple[str, str] | None, gain: float, pitch: Callable[[str, int], int],
                  ending: str = "") -> None:
        """A melodic part (bass or lead) from the first bar after the intro; ``pitch(symbol, bar)`` -> MIDI.
        An ``ending`` symbol is held through the final hit."""
        if part is None:
            return
        voice, line = part
        notes = [(bar, step, steps, symbol) for bar in range(self.song.intro, self.song.bars)
                 for step, steps, symbol in _in_bar(line, bar)]
        for bar, step, steps, symbol in notes + ([(self.song.bars, 0, 0, ending)] if ending else []):
            n = self.length(bar, step, steps) if steps else int(TAIL_S * self.sr)
            note = _NOTE_VOICES[voice](pitch(symbol, bar), n, self.sr)
            t, g = self.when(bar, step), gain * self.velocity(1.0 if symbol.isupper() else 0.8)
            ins.place(self.music, note, t, self.sr, g)
            ins.place(self.send, note, t, self.sr, 0.25 * g)

    def bass_pitch(self, symbol: str, bar: int) -> int:
        """The note of a bass symbol over the bar's chord, in the groove's bass register."""
        root, intervals = self.chords[bar]
        seventh = intervals[3] if len(intervals) > 3 else 10
        step = {"r": 0, "t": intervals[1], "f": 7, "s": seventh, "o": 12}[symbol.lower()]
        return _above(root, self.groove.register[0]) + step

    def lead_pitch(self, symbol: str, bar: int) -> int:
        """A chord tone: the ``symbol``-th from the root up, or for '?' one near the last melody note."""
        root, intervals = self.chords[bar]
        base = _above(root, self.groove.register[2])
        tones = [base + intervals[i % len(intervals)] + 12 * (i // len(intervals)) for i in range(10)]
        if symbol != "?":
            return tones[int(symbol)]
        near = np.array([m for m in tones if abs(m - self.last_lead) <= 7] or tones[:3])
        weights = np.exp(-np.abs(near - self.last_lead) / 3.0) * (near != self.last_lead) + 0.05
        self.last_lead = int(self.rng.choice(near, p=weights / weights.sum()))
        return self.last_lead

    def play_chords(self) -> None:
        """Comping and pad in every bar (softer in the intro), and the final hit's chord ringing out."""
        groove, song, sr = self.groove, self.song, self.sr
        for bar in range(song.bars + 1):
            root, intervals = self.chords[bar]
            chord = (_above(root, 40), *_voicing(root, intervals, groove.register[1]))  # bass note, voicing
            gain = song.intro_gain if bar < song.intro else 1.0
            final = bar == song.bars
            if groove.pad:
                n = int(TAIL_S * sr) if final else self.length(bar, 0, 16) + int(0.3 * sr)
                pad = _pad(chord[1:], n, sr, groove.pad[1], groove.swell)
                ins.place(self.music, pad, self.grid[16 * bar], sr, groove.pad[0] * gain)
                ins.place(self.send, pad, self.grid[16 * bar], sr, 0.5 * groove.pad[0] * gain)
            if groove.comp:
                voice, rhythm = groove.comp
                hits = [(0, 16, "X")] if final else _in_bar(rhythm, bar)
                for step, steps, symbol in hits:
                    n = int(TAIL_S * sr) if final else self.length(bar, step, steps)
                    x, t = _chord_hit(voice, chord, n, sr), self.when(bar, step)
                    ins.place(self.music, x, t, sr, groove.levels[2] * gain * self.velocity(_VELOCITY[symbol]))
                    ins.place(self.send, x, t, sr, 0.3 * groove.levels[2] * gain)

    def mix(self) -> np.ndarray:
        """Sidechain (for the styles that pump), reverb, fades, about 6 dB of limiting, -1 dBFS peak."""
        duck = ins.sidechain(self.n, self.kicks if self.groove.duck else (), self.sr, depth=0.6, release_s=0.08,
                             length_s=0.3)
        return ins.master(self.drums, self.music, self.send, duck, self.sr, self.rng, fade_out_s=0.5, peak=PEAK)


def render_song(song: Song, sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, np.ndarray]:
    """(samples (n, 2) float32 peak-normalised to -1 dBFS, beat times in seconds) for ``song``."""
    band = _Band(song, sample_rate)
    band.play_drums()
    band.play_chords()
    band.play_line(band.groove.bass, band.groove.levels[1], band.bass_pitch, ending="R")
    band.play_line(band.groove.lead, band.groove.levels[3], band.lead_pitch)
    return band.mix(), song.beat_times()


def write_set(directory: str | Path, songs: Sequence[Song] = SONGS, conditions: Sequence[str] = CONDITIONS,
              progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """Write NAME.CONDITION.flac (stereo, 48 kHz) and NAME.CONDITION.beats (the truth, one time in seconds per
    line, the same for every condition) for each song into ``directory``; returns the audio paths.
    ``progress(done, total)`` is called after each file pair."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths, total = [], len(songs) * len(conditions)
    for song in songs:
        samples, beats = render_song(song)
        truth = "".join(f"{t:.6f}\n" for t in beats)
        for condition in conditions:
            path = directory / f"{song.name}.{condition}.flac"
            write_audio(path, degrade(samples, condition, seed=song.seed))
            path.with_suffix(".beats").write_text(truth)
            paths.append(path)
            if progress:
                progress(len(paths), total)
    return paths
