"""Real parts for live tests: an Xvfb display and a JACK server on its dummy backend.

Each JACK server gets its own name (``jackd -n``) and clients find it through JACK_DEFAULT_SERVER, so
tests never touch a server the machine already runs. `make test` installs both (scripts/system-deps.sh).
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest


collect_ignore = [] if os.environ.get("VJ_DRILL") else ["test_drill.py"]
"""The fault drill runs from `make drill` only; `make test` asserts the same faults one by one."""


def pytest_sessionfinish(session):
    """After `make drill`: its rows become docs/RELIABILITY.md."""
    drill = next((module for name, module in list(sys.modules.items()) if name.endswith("test_drill")), None)
    if drill is not None and getattr(drill, "ROWS", None):
        drill.write_table(Path(__file__).resolve().parents[2] / "docs" / "RELIABILITY.md")


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed; run `sh scripts/system-deps.sh test` (as root) or `make test`")
    return path


@pytest.fixture(scope="session")
def display() -> str:
    """A virtual X display (one 1920x1080 monitor named 'screen'). Xvfb picks a free display number and
    writes it to ``-displayfd`` once it is ready for clients: a socket that accepts is not yet a server
    that answers (a window opened then failed with "Failed to open display"). ``-noreset``: by default the
    server resets when its last client leaves and drops a client that connects meanwhile (a test opening a
    window just after the last one closed failed 5 times in 60 on a loaded machine; none with it)."""
    xvfb = _need("Xvfb")
    ready, told = os.pipe()
    process = subprocess.Popen([xvfb, "-displayfd", str(told), "-screen", "0", "1920x1080x24", "-nolisten", "tcp",
                                "-noreset"],
                               pass_fds=(told,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(told)
    with os.fdopen(ready) as pipe:
        if not select.select([pipe], [], [], 10)[0] or not (number := pipe.readline().strip()):
            process.kill()
            pytest.fail("Xvfb did not start within 10 s")
    yield f":{number}"
    process.terminate()
    process.wait(timeout=5)


class JackServer:
    """A jackd on the dummy backend (48 kHz, 512-sample periods) that a test can kill and start again."""

    def __init__(self, name: str):
        self.name = name
        self.process: subprocess.Popen | None = None
        self.env = {**os.environ, "JACK_DEFAULT_SERVER": name, "JACK_NO_START_SERVER": "1",
                    "JACK_NO_AUDIO_RESERVATION": "1"}
        self.log = Path(tempfile.mkdtemp(prefix="vj-jack-")) / "jackd.log"

    def log_tail(self, lines: int = 15) -> list[str]:
        """The server's last lines of output (clients it dropped, timeouts)."""
        try:
            return self.log.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return []

    def start(self) -> float:
        """Start and wait until clients can connect; returns the monotonic time it became ready."""
        with open(self.log, "ab") as log:  # the server's own account, for a test's failure message
            self.process = subprocess.Popen(
                [_need("jackd"), "-n", self.name, "--no-realtime", "-d", "dummy", "-r", "48000", "-p", "512"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while self.ports() is None:
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("jackd (dummy backend) did not start")
            time.sleep(0.05)
        return time.monotonic()

    def kill(self) -> None:
        """Die the way a crashed server does: no goodbye to its clients."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        """A clean shutdown, which also frees the server's slot in JACK's registry (it holds eight)."""
        self._end(signal.SIGTERM)

    def _end(self, how: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(how)
            self.process.wait(timeout=10)

    def _lsp(self, *options: str) -> str | None:
        """jack_lsp's output, or None when the server does not answer within 10 s. A server busy taking a
        new client can keep jack_lsp waiting that long on a loaded machine (once in a fresh-clone run);
        the callers' own deadlines decide when that is a failure."""
        try:
            result = subprocess.run([_need("jack_lsp"), *options], env=self.env, capture_output=True, text=True,
                                    timeout=10)
        except subprocess.TimeoutExpired:
            return None
        return result.stdout if result.returncode == 0 else None

    def ports(self) -> list[str] | None:
        """The server's ports, or None when it is not answering."""
        listing = self._lsp()
        if listing is None or "system:capture_1" not in listing:
            return None
        return listing.split()

    def wait_for_port(self, port: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while port not in (self.ports() or []):
            if time.monotonic() > deadline:
                pytest.fail(f"JACK port {port} did not appear within {timeout:.0f} s; jackd: {self.log_tail(5)}")
            time.sleep(0.1)

    def wait_for_connection(self, source: str, client: str, timeout: float = 30.0) -> None:
        """Until ``source`` is connected to a port of ``client`` (its port appearing is not enough: the
        connection follows it, and a message sent in between is lost)."""
        deadline = time.monotonic() + timeout
        while True:
            connected, current = False, None
            for line in (self._lsp("-c") or "").splitlines():
                if not line.startswith((" ", "\t")):
                    current = line.strip()
                elif current == source and line.strip().startswith(f"{client}"):
                    connected = True
            if connected:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"JACK port {source} was not connected to {client} within {timeout:.0f} s")
            time.sleep(0.05)

    def connect(self, source: str, destination: str) -> None:
        subprocess.run([_need("jack_connect"), source, destination], env=self.env, check=True, timeout=10)


@pytest.fixture
def jack():
    server = JackServer(f"vjtest{os.getpid()}")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live_env(display, jack) -> dict:
    """Environment for a `vj live` child: the virtual display and the test's JACK server."""
    return {**jack.env, "DISPLAY": display}


def start_vj(env: dict, *args: str) -> subprocess.Popen:
    """`vj live ...` (or any vj command) as a child process with ``env``, output captured."""
    return subprocess.Popen([sys.executable, "-m", "vj", *map(str, args)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def start_player(env: dict, audio: Path, log: Path, *options: str) -> subprocess.Popen:
    """The JACK click player (tests/live/jack_player.py) as client 'vjplayer'."""
    return subprocess.Popen([sys.executable, str(Path(__file__).with_name("jack_player.py")), str(audio), str(log),
                             *options],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
