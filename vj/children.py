"""What every device child (audio capture, MIDI input) does the same way: ignore Ctrl-C, never start a
JACK server of its own, and leave when its parent is gone."""

from __future__ import annotations

import os
import signal


def detach_from_terminal() -> None:
    """Ctrl-C is for the parent, which ends the child itself; and never start a JACK server of our own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("JACK_NO_START_SERVER", "1")


def exit_if_orphaned(parent: int) -> None:
    if os.getppid() != parent:
        os._exit(0)
