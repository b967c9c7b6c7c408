"""Every input in tests/fuzz/corpus/ through its harness: the seeds, and each crash or hang `make fuzz`
found (crash-*, timeout-*, oom-*), so a fixed finding stays fixed."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.fuzz.harnesses import HARNESSES
from tests.fuzz.run import CORPUS

HANG_S = 10
"""Far above the 2 s a fuzzing run allows one input: this catches a hang, not a slow machine."""

CASES = [(name, path) for name in HARNESSES for path in sorted((CORPUS / name).iterdir())]


def test_every_harness_has_seeds_and_every_corpus_a_harness():
    assert {p.name for p in CORPUS.iterdir()} == set(HARNESSES)
    assert all(any((CORPUS / name).iterdir()) for name in HARNESSES)


@pytest.mark.parametrize(("name", "path"), CASES, ids=[f"{n}/{p.name[:24]}" for n, p in CASES])
def test_the_input_gets_one_clear_answer(name, path):
    def hang(*_):
        raise TimeoutError(f"{path.name} ran over {HANG_S} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(HANG_S)
    try:
        HARNESSES[name](path.read_bytes())
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
