"""`make fuzz`: each harness in its own process for a bounded time; every crash, hang (over 2 s for one
input) or allocation over 1 GiB lands in its corpus folder (tests/fuzz/corpus/NAME/crash-*, timeout-*, oom-*), where
tests/fuzz/test_corpus.py replays it in `make test` from then on.

The engine is atheris (libFuzzer over Python's coverage) where it installs; elsewhere hypothesis
generates and mutates inputs from the same seeds, with the same limits. Inputs that only found new
coverage go to out/fuzz/NAME (a working corpus kept between runs, not committed).

    python -m tests.fuzz.run [--seconds S] [NAME ...]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fuzz.harnesses import HARNESSES

CORPUS = Path(__file__).parent / "corpus"
WORK = Path("out/fuzz")
HANG_S = 2
ALLOCATION_MB = 1024
MAX_INPUT = 65536


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"harnesses to run (default all: {', '.join(HARNESSES)})")
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("FUZZ_S", 60)),
                        help="time for each harness (default $FUZZ_S or 60)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    unknown = set(args.names) - set(HARNESSES)
    if unknown:
        parser.error(f"no harness {sorted(unknown)}; there are {', '.join(HARNESSES)}")
    if args.child:
        return _fuzz(args.names[0], args.seconds)
    findings = 0
    for name in args.names or HARNESSES:
        before = set(_crashes(name))
        started = time.monotonic()
        child = subprocess.run([sys.executable, "-m", "tests.fuzz.run", "--child", "--seconds", str(args.seconds), name],
                               capture_output=True, text=True)
        found = sorted(set(_crashes(name)) - before)
        findings += len(found)
        engine = next((line for line in child.stdout.splitlines() if line in ("atheris", "hypothesis")), "?")
        print(f"{name:<12} {time.monotonic() - started:6.1f} s  {engine}  "
              + (f"FOUND {len(found)}: {', '.join(str(p) for p in found)}" if found else "nothing found"))
        if child.returncode not in (0, 1) or (child.returncode and not found):
            print(child.stderr[-3000:], file=sys.stderr)
    return 1 if findings else 0


FINDINGS = ("crash-", "timeout-", "oom-", "leak-", "slow-unit-")
"""The names libFuzzer (and the fallback) give what they find."""


def _crashes(name: str) -> list[Path]:
    return sorted(p for p in (CORPUS / name).iterdir() if p.name.startswith(FINDINGS))


def _limit_memory() -> int:
    """Cap the address space at what the process has now plus ALLOCATION_MB, so an oversized allocation is
    a MemoryError (a finding) instead of a machine swapping; returns the resident size in MB now."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    size_kb, rss_kb = int(status["VmSize"].split()[0]), int(status["VmRSS"].split()[0])
    limit = (size_kb + ALLOCATION_MB * 1024) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return rss_kb // 1024


def _fuzz(name: str, seconds: float) -> int:
    harness = HARNESSES[name]
    for seed in sorted((CORPUS / name).iterdir()):  # warm every lazy import before limits and instrumentation
        try:
            harness(seed.read_bytes())
        except Exception:
            pass
    rss_mb = _limit_memory()
    work = WORK / name
    work.mkdir(parents=True, exist_ok=True)
    try:
        import atheris
    except ImportError:
        return _hypothesis(name, harness, seconds)
    atheris.instrument_all()
    print("atheris", flush=True)
    atheris.Setup([sys.argv[0], str(work), str(CORPUS / name), f"-max_total_time={int(seconds)}",
                   f"-timeout={HANG_S}", f"-rss_limit_mb={rss_mb + ALLOCATION_MB}", f"-max_len={MAX_INPUT}",
                   f"-artifact_prefix={CORPUS / name}/", "-print_final_stats=1"], harness)
    atheris.Fuzz()
    return 0


def _hypothesis(name: str, harness, seconds: float) -> int:
    """The fallback engine: random and mutated seeds under the same hang and memory limits."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    seeds = [p.read_bytes() for p in sorted((CORPUS / name).iterdir())] or [b""]
    last: list[bytes] = [b""]

    def alarm(*_):
        raise TimeoutError(f"one input ran over {HANG_S} s")

    signal.signal(signal.SIGALRM, alarm)

    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(st.binary(max_size=4096), st.builds(_mutate, st.sampled_from(seeds), st.randoms())))
    def one(data: bytes) -> None:
        last[0] = data
        signal.alarm(HANG_S)
        try:
            harness(data)
        finally:
            signal.alarm(0)

    print("hypothesis", flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            one()
        except BaseException as error:  # the last input run is hypothesis's shrunk example
            path = CORPUS / name / f"crash-{hashlib.sha1(last[0]).hexdigest()}"
            path.write_bytes(last[0])
            print(f"{type(error).__name__}: {error}", file=sys.stderr)
            return 1
    return 0


def _mutate(seed: bytes, rng: random.Random) -> bytes:
    """A seed with a few bytes flipped, cut, repeated or spliced, as libFuzzer's mutators do."""
    data = bytearray(seed)
    for _ in range(rng.randint(1, 8)):
        where = rng.randint(0, len(data))
        choice = rng.random()
        if choice < 0.4 and data:
            data[min(where, len(data) - 1)] = rng.randrange(256)
        elif choice < 0.6:
            del data[where:where + rng.randint(1, 64)]
        elif choice < 0.8:
            data[where:where] = data[max(0, where - 16):where] * rng.randint(1, 64)
        else:
            data[where:where] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(data[:MAX_INPUT])


if __name__ == "__main__":
    sys.exit(main())
