"""Causal beat tracking: a forward-filtered hidden Markov model over tempo and beat phase.

State: (interval, position): the beat interval in hops and the hops since the last beat. Each hop the
position advances by one; at the end of an interval a beat happens and the next interval may differ a
little (a tempo change costs exp(-TRANSITION_LAMBDA * relative change), so the tempo holds through a
break and still follows a change within a few beats). The beat activation is the observation: on the
first positions of an interval its log-odds raise a state, elsewhere they do nothing. This is the bar-
pointer model of Whiteley, Cemgil and Godsill as madmom's DBN beat tracker states it, run as a *filter*
(forward pass only), so it is causal and costs one sparse step per hop.

Tempo and phase are estimated jointly, so a tempo hypothesis lives only as long as its beats keep landing
on beat-like onsets: half tempo loses every other beat's evidence, double tempo puts half its beats on
weak ones. Beats are committed ``lead_hops`` before the filter expects them, so the picture can fire *on*
the beat, and the tempo is read from the committed beats (finer than the hop-sized intervals).

It consumes one activation per hop and knows nothing of frames, features or torch.
"""

from __future__ import annotations

import math

import numpy as np

MIN_BPM, MAX_BPM = 60.0, 200.0
TRANSITION_LAMBDA = 100.0
"""How strongly the tempo sticks from one beat to the next (madmom's default)."""
BEAT_FRACTION = 1 / 16
"""The first part of each interval that counts as "on the beat" for the observation."""
OBSERVATION_WEIGHT = 0.5
"""The activation's log-odds are scaled by this (it is overconfident: neighbouring hops are not independent)."""
MAX_LOG_ODDS = 6.0
PRIOR_BPM, PRIOR_OCTAVES = 120.0, 1.0
"""A broad log-normal prior on the tempo, paid at every beat: a tempo far from 120 must earn its place with
evidence beat by beat, so where half and double tempo fit alike (8th hats over a 100 BPM groove), nearer
120 wins."""
TEMPO_BEATS = 8
"""The tempo is the mean interval of up to this many recent committed beats at one tempo."""
SILENCE_S = 4.0
"""After this long without an onset the beat is forgotten ..."""
QUIET_S = 0.5
"""... and after this long no more beats are committed into the quiet."""
RESTART = 1e-5
"""Each hop this share of belief is spread over every state again, so after a breakdown heard on the off-beat
the drop's kick can win the phase back within a bar or two instead of never (the demo track's last drop)."""
CONFIDENCE = 0.3
"""A beat is committed only when this much of the belief agrees with the most likely state on when it is due
(within ``AGREE_HOPS``) and on the tempo (within ``AGREE_TEMPO``): no beats are guessed into silence or noise."""
AGREE_HOPS, AGREE_TEMPO = 3, 0.1


class BeatTracker:
    """Streams beat activations at ``hop_rate`` Hz; returns the beats it commits, as hop indices.

    Args:
        hop_rate: activations per second.
        lead_hops: a beat is committed this many hops before it is due (the caller's onset function lags
            the sound by about this much).
        delay_hops: the activation at hop ``h`` speaks of a beat at ``h - delay_hops``.
    """

    def __init__(self, hop_rate: float, lead_hops: int = 3, delay_hops: int = 0):
        self.hop_rate = hop_rate
        self.lead_hops = lead_hops
        self.delay_hops = delay_hops
        self.intervals = np.arange(int(60.0 * hop_rate / MAX_BPM), int(math.ceil(60.0 * hop_rate / MIN_BPM)) + 1)
        self._first = np.concatenate([[0], np.cumsum(self.intervals)[:-1]])
        self._last = self._first + self.intervals - 1
        self._interval_of = np.repeat(np.arange(len(self.intervals)), self.intervals)
        position = np.arange(int(self.intervals.sum())) - self._first[self._interval_of]  # hops since the beat
        self._state_interval = self.intervals[self._interval_of]
        self._remaining = self._state_interval - position  # hops until each state's next beat
        beat_positions = np.maximum(1, np.round(self.intervals * BEAT_FRACTION))
        self._on_beat = np.flatnonzero(position < beat_positions[self._interval_of])
        self._beat_centre = (beat_positions - 1) / 2  # the beat sits mid-way through its on-beat positions
        self._prior = np.exp(-0.5 * (np.log2(self.intervals * PRIOR_BPM / (60.0 * hop_rate)) / PRIOR_OCTAVES) ** 2)
        ratio = self.intervals[None, :] / self.intervals[:, None]
        transition = np.exp(-TRANSITION_LAMBDA * np.abs(ratio - 1.0))
        transition /= transition.sum(axis=1, keepdims=True)  # row: from, column: to
        self._transition = transition * self._prior[None, :]  # not renormalised: the prior is a cost per beat
        uniform = (self._prior / self.intervals)[self._interval_of]
        self._uniform = uniform / uniform.sum()
        self.reset()

    def reset(self) -> None:
        self.hop = -1
        self._quiet_hops = 0
        self._start()

    def _start(self) -> None:
        """No beat yet: every tempo (weighted by the prior) and every phase equally likely."""
        self._alpha = self._uniform.copy()
        self.beats: list[float] = []
        """Committed beats (hop indices), the newest last; cleared by a silence."""
        self._tempo = 0.0

    @property
    def tempo_bpm(self) -> float:
        """The tempo of the recent committed beats (0 before the first)."""
        return self._tempo

    def _beat_tempo(self, interval: int) -> float:
        """The mean interval of the recent beats since the tempo last moved by more than 15% from ``interval``
        (the filter's interval alone at the first beat)."""
        recent = np.diff(self.beats[-TEMPO_BEATS - 1:])
        steady = 0
        while steady < len(recent) and abs(recent[-steady - 1] / interval - 1.0) < 0.15:
            steady += 1
        return 60.0 * self.hop_rate / (float(recent[-steady:].mean()) if steady else float(interval))

    def push(self, log_odds: float, audible: bool = True) -> float | None:
        """Advance one hop; returns the hop index of a newly committed beat, if any.

        Args:
            log_odds: the beat activation of this hop.
            audible: False for a silent hop; after ``SILENCE_S`` of them the beat is forgotten.
        """
        self.hop += 1
        self._quiet_hops = 0 if audible else self._quiet_hops + 1
        if self._quiet_hops > SILENCE_S * self.hop_rate:
            if self.beats:
                self._start()
            return None
        self._step(log_odds)
        return self._commit() if self._quiet_hops < QUIET_S * self.hop_rate else None

    def _step(self, log_odds: float) -> None:
        alpha = self._alpha
        moved = np.empty_like(alpha)
        moved[1:] = alpha[:-1]  # one hop on within each interval ...
        moved[self._first] = alpha[self._last] @ self._transition  # ... and a beat after the last position
        evidence = OBSERVATION_WEIGHT * min(max(log_odds, -MAX_LOG_ODDS), MAX_LOG_ODDS)
        moved[self._on_beat] *= math.exp(evidence)
        moved /= moved.sum()
        moved += RESTART * self._uniform
        moved /= 1.0 + RESTART
        self._alpha = moved

    def _agreement(self, state: int, interval: int) -> float:
        """The belief that the next beat is due when ``state`` (of ``interval``) says, at about its tempo."""
        remaining = self._remaining - self._remaining[state]
        close = (np.abs(remaining) <= AGREE_HOPS) & (np.abs(self._state_interval / interval - 1.0) <= AGREE_TEMPO)
        return float(self._alpha[close].sum())

    def _commit(self) -> float | None:
        """Commit the next beat once the most likely state expects it in ``lead_hops`` (or one fewer)."""
        state = int(np.argmax(self._alpha))
        tempo = self._interval_of[state]
        interval = self.intervals[tempo]
        due = self.hop + self._remaining[state] - self.delay_hops + self._beat_centre[tempo]
        if not self.lead_hops - 1 <= due - self.hop <= self.lead_hops:
            return None  # not due yet, or (the belief jumped) so soon it would reach the picture late
        if self.beats and due < self.beats[-1] + 0.5 * interval:
            return None
        if self._agreement(state, interval) < CONFIDENCE:
            return None
        self.beats.append(float(due))
        del self.beats[:-TEMPO_BEATS - 2]
        self._tempo = self._beat_tempo(interval)
        return float(due)
