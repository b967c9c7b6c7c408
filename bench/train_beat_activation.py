"""Train the beat activation (`vj.audio.activation`) and write assets/beat_activation.json.

    .venv/bin/python bench/train_beat_activation.py [--out PATH] [--workers N]

Renders the training songs (`training_songs`: 45 songs over the evaluation set's grooves, with seeds and
chord sequences that `vj.audio.beatset.SONGS` does not use) under every condition, runs vj's own analyzer over them to collect the band onsets each hop, and fits a
one-layer tanh network (torch, CPU, a few seconds) to say which hops fall on a beat, seeing ``DELAY`` hops
past it. It prints the ranking quality (AUC) on the training songs and on the held-out evaluation set.
About two minutes on two cores. Then score the tracker with ``vj eval-beats DIR --make-set``.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from vj.audio.activation import context_inputs
from vj.audio.analyzer import Analyzer, time_hop
from vj.audio.beatset import SONGS, Song, render_song
from vj.audio.decode import to_mono
from vj.audio.degrade import CONDITIONS, degrade
from vj.resources import resource_dir
from vj.timebase import ANALYSIS_RATE, Timebase

CONTEXT, DELAY, UNITS = 8, 4, 16
WIDTH = 1
"""Hops either side of a beat that count as on it."""
EPOCHS, BATCH, RATE, WEIGHT_DECAY = 6, 2048, 3e-3, 1e-4
TEMPI: dict[str, tuple[float, float]] = {
    "pop": (85, 130), "rock": (100, 160), "punk": (150, 200), "house": (118, 130), "techno": (125, 145),
    "synthpop": (100, 135), "dnb": (160, 180), "boombap": (80, 100), "funk": (90, 120), "dembow": (88, 105),
    "chip": (120, 180), "orchestral": (70, 130), "ballad": (65, 90), "folk": (90, 130), "boss": (130, 175),
}
"""Each groove's tempo range in the training songs."""
CHORDS = (("C", "G", "Am", "F"), ("Am", "F", "C", "G"), ("Dm7", "G7", "Cmaj7", "A7"),
          ("E", "A", "B", "E"), ("Fm", "Db", "Ab", "Eb"), ("Gm", "Eb", "Bb", "F"))


def training_songs(per_groove: int = 3, seed: int = 1234) -> list[Song]:
    """Songs for training the beat activation: every groove at random tempi, offsets, intros, breaks and
    tempo steps, with seeds (1000 and up) and chord sequences that the evaluation set (``SONGS``) does not use."""
    rng = np.random.default_rng(seed)
    songs: list[Song] = []
    for groove, (lo, hi) in TEMPI.items():
        for k in range(per_groove):
            bpm = float(np.round(rng.uniform(lo, hi), 1))
            step = float(np.round(bpm * rng.uniform(0.9, 1.1), 1)) if k == 2 and rng.random() < 0.5 else None
            songs.append(Song(
                f"{groove}{k}-{bpm:g}", groove, bpm, groove, CHORDS[rng.integers(len(CHORDS))],
                int(rng.integers(10, 14)), seed=1000 + len(songs), tempo=((6, bpm), (6, step)) if step else (),
                offset_s=float(np.round(rng.uniform(0, 0.7), 2)), intro=int(rng.integers(0, 2)),
                intro_gain=float(rng.uniform(0.4, 1)), breaks=(int(rng.integers(5, 9)),) if rng.random() < 0.5 else (),
                swing=0.6 if groove == "boombap" else 0.5))
    return songs


class _Recorder:
    """Stands in for the activation inside the analyzer and keeps the band onsets it is given."""

    delay = 0

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []

    def reset(self) -> None:
        self.rows.clear()

    def __call__(self, rises: np.ndarray) -> np.ndarray:
        self.rows.append(rises)
        return np.zeros(len(rises))


def _examples(song: Song) -> list[tuple[np.ndarray, np.ndarray]]:
    """(inputs, labels) of each condition of one song: CONTEXT hops of band onsets, newest first."""
    samples, beats = render_song(song)
    out = []
    for condition in CONDITIONS:
        mono = to_mono(degrade(samples, condition, seed=song.seed))
        recorder = _Recorder()
        analyzer = Analyzer(Timebase(Fraction(10)), activation=recorder)
        for start in range(0, len(mono), 4096):
            analyzer.process(mono[start:start + 4096])
        rises = np.vstack(recorder.rows)
        n = len(rises)
        inputs = context_inputs(np.vstack([np.zeros((CONTEXT - 1, rises.shape[1]), np.float32), rises]), CONTEXT)
        labels = np.zeros(n, np.float32)
        hops = time_hop(beats, ANALYSIS_RATE) + DELAY
        for d in range(-WIDTH, WIDTH + 1):
            labels[np.clip(hops + d, 0, n - 1)] = 1.0
        out.append((inputs, labels))
    return out


def _collect(songs: list[Song], workers: int) -> tuple[np.ndarray, np.ndarray]:
    with ProcessPoolExecutor(workers) as pool:
        pairs = [pair for song_pairs in pool.map(_examples, songs) for pair in song_pairs]
    return np.vstack([x for x, _ in pairs]), np.concatenate([y for _, y in pairs])


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """The chance that a beat hop scores above a non-beat hop."""
    ranks = np.empty(len(scores))
    ranks[np.argsort(scores)] = np.arange(len(scores))
    positives = labels == 1
    return float((ranks[positives].mean() - (positives.sum() - 1) / 2) / (~positives).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=resource_dir("assets") / "beat_activation.json")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(0)
    print("rendering and analysing the training songs ...", flush=True)
    x, y = _collect(training_songs(), args.workers)
    print("... and the evaluation set", flush=True)
    x_eval, y_eval = _collect(list(SONGS), args.workers)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    inputs, targets = torch.tensor((x - mean) / std), torch.tensor(y)
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], UNITS), torch.nn.Tanh(), torch.nn.Linear(UNITS, 1))
    optimiser = torch.optim.Adam(net.parameters(), RATE, weight_decay=WEIGHT_DECAY)
    loss = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(float((1 - y.mean()) / y.mean())))
    for epoch in range(EPOCHS):
        for batch in torch.randperm(len(inputs)).split(BATCH):
            optimiser.zero_grad()
            loss(net(inputs[batch]).squeeze(1), targets[batch]).backward()
            optimiser.step()
        with torch.no_grad():
            train = _auc(net(inputs[::5]).squeeze(1).numpy(), y[::5])
            held_out = _auc(net(torch.tensor((x_eval - mean) / std)).squeeze(1).numpy(), y_eval)
        print(f"epoch {epoch + 1}/{EPOCHS}: AUC training songs {train:.4f}, evaluation set {held_out:.4f}", flush=True)
    hidden, hidden_bias, output, output_bias = (p.detach().numpy().astype(np.float64) for p in net.parameters())
    hidden = hidden / std[None, :]  # fold the input scaling into the weights
    hidden_bias = hidden_bias - hidden @ mean
    model = {"context": CONTEXT, "delay": DELAY,
             "hidden_weights": np.round(hidden, 6).tolist(), "hidden_bias": np.round(hidden_bias, 6).tolist(),
             "output_weights": np.round(output[0], 6).tolist(), "output_bias": round(float(output_bias[0]), 6)}
    args.out.write_text(json.dumps(model))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
