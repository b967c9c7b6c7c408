"""Device children (audio capture, MIDI input, device listing): how the parent starts and stops them,
and what every child does the same way: ignore Ctrl-C, never start a JACK server of its own, and leave
when its parent is gone."""

from __future__ import annotations

import multiprocessing
import os
import signal
from multiprocessing.connection import Connection

RESPAWN_INTERVAL_S = 0.5
"""A supervisor starts a dead child again after this long, never in a tight loop."""


def start_child(target, *args, name: str) -> tuple[multiprocessing.Process, Connection]:
    """``target(*args, conn)`` in a fresh daemon process (spawned, not forked: nothing of the parent's
    threads, GL or audio state comes along). Returns it and the reading end of the one-way pipe ``conn``."""
    mp = multiprocessing.get_context("spawn")
    receiver, sender = mp.Pipe(duplex=False)
    process = mp.Process(target=target, args=(*args, sender), daemon=True, name=name)
    process.start()
    sender.close()
    return process, receiver


def stop_child(process: multiprocessing.Process | None) -> None:
    """Kill the child if it still runs (it may be stuck in a dead driver) and reap it."""
    if process is None:
        return
    if process.is_alive():
        process.kill()
    process.join(timeout=1.0)


def detach_from_terminal() -> None:
    """Ctrl-C is for the parent, which ends the child itself; and never start a JACK server of our own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("JACK_NO_START_SERVER", "1")


IO_NICE = -10
"""The priority a device child asks for (a lower nice value is a higher priority)."""


def ask_for_priority() -> None:
    """Run this child ahead of the render where the system allows it (root, CAP_SYS_NICE, or the audio
    group's raised nice limit that pro-audio setups configure); elsewhere keep the default, silently.

    Why: without real-time scheduling, a JACK client late for its cycle loses that cycle's MIDI and
    audio, and the render keeps every core busy. Threads inherit it, so ask before the JACK client exists."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, IO_NICE)
    except (AttributeError, OSError):
        pass


def exit_if_orphaned(parent: int) -> None:
    if os.getppid() != parent:
        os._exit(0)
