"""Train the beat activation (`vj.audio.activation`) and write assets/beat_activation.json.

    .venv/bin/python bench/train_beat_activation.py [--out PATH] [--workers N]

Renders `vj.audio.beatset.training_songs()` (45 songs, disjoint seeds and chords from the evaluation set)
under every condition, runs vj's own analyzer over them to collect the band onsets each hop, and fits a
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

from vj.audio.analyzer import HOP, ONSET_LAG, Analyzer
from vj.audio.beatset import CONDITIONS, SONGS, Song, degrade, render_song, training_songs
from vj.audio.decode import to_mono
from vj.resources import resource_dir
from vj.timebase import ANALYSIS_RATE, Timebase

CONTEXT, DELAY, UNITS = 8, 4, 16
WIDTH = 1
"""Hops either side of a beat that count as on it."""
EPOCHS, BATCH, RATE, WEIGHT_DECAY = 6, 2048, 3e-3, 1e-4


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
        padded = np.vstack([np.zeros((CONTEXT - 1, rises.shape[1]), np.float32), rises])
        inputs = np.hstack([padded[CONTEXT - 1 - lag:CONTEXT - 1 - lag + n] for lag in range(CONTEXT)])
        labels = np.zeros(n, np.float32)
        hops = np.round((beats * ANALYSIS_RATE + ONSET_LAG) / HOP).astype(int) - 1 + DELAY
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
