"""Test helper: play an audio file into JACK as client ``vjplayer`` and log when each block went out.

Usage: python jack_player.py AUDIO LOG.json [--loop]   (--loop: over and over until terminated, no log)
A callback stream, because PortAudio's blocking write() played a click track at twice its speed on JACK.
The log holds [first sample, monotonic time] per callback, so a test can place every sample in time.
"""

import json
import sys
import threading
import time

import numpy as np
import sounddevice as sd

from vj.audio.decode import read_audio
from vj.live.capture import name_jack_client

CLIENT = b"vjplayer"


def main() -> None:
    audio, log_path = sys.argv[1], sys.argv[2]
    loop = "--loop" in sys.argv[3:]
    samples = read_audio(audio)[:, 0].copy()
    name_jack_client(sd, CLIENT)
    log: list[list[float]] = []
    position = 0
    done = threading.Event()

    def callback(outdata, frames, time_info, status):
        nonlocal position
        if loop:
            outdata[:, 0] = np.take(samples, np.arange(position, position + frames), mode="wrap")
            position = (position + frames) % len(samples)
            return
        log.append([position, time.monotonic()])
        chunk = samples[position : position + frames]
        outdata[: len(chunk), 0] = chunk
        outdata[len(chunk) :, 0] = 0.0
        position += frames
        if position >= len(samples):
            done.set()

    with sd.OutputStream(samplerate=48000, channels=1, dtype="float32", callback=callback):
        done.wait(timeout=None if loop else len(samples) / 48000 + 10)
    with open(log_path, "w") as out:
        json.dump(log, out)


if __name__ == "__main__":
    main()
