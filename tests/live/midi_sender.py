"""Test helper: a MIDI controller on a JACK virtual port, driven by commands on stdin.

Usage: python midi_sender.py PORT_NAME   (JACK_DEFAULT_SERVER picks the server)
Each line is one command; after it the sender prints one line, "ok" or a JSON result:
  open / close                 make the virtual port appear / disappear (a cable plugged or pulled)
  send B1 B2 [B3]              one message (decimal bytes)
  sweep CH CC FROM TO          a knob turned from one value to another, a message per step, 2 ms apart
  clock BPM SECONDS            Start, then 24 ticks a beat on absolute deadlines
  flood RATE SECONDS CC        control changes at RATE per second; prints {"start", "end", "sent"}
  exit
A separate process, because rtmidi crashes when its JACK server goes away under it.
"""

import json
import sys
import time

import rtmidi

DRAIN_S = 0.1
"""rtmidi's JACK output queues messages for the server's next cycle: a port closed sooner loses them."""


def main() -> None:
    name = sys.argv[1]
    out = None
    for line in sys.stdin:
        command, *args = line.split()
        reply = "ok"
        if command == "open":
            out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="vjsender")
            out.open_virtual_port(name)
        elif command == "close":
            time.sleep(DRAIN_S)
            out.close_port()
            out.delete()
            out = None
        elif command == "send":
            out.send_message([int(a) for a in args])
        elif command == "sweep":
            channel, number, start, end = map(int, args)
            step = 1 if end >= start else -1
            for value in range(start, end + step, step):
                out.send_message([0xB0 | (channel - 1), number, value])
                time.sleep(0.002)
        elif command == "clock":
            bpm, seconds = float(args[0]), float(args[1])
            out.send_message([0xFA])
            period = 60.0 / bpm / 24
            start = time.monotonic()
            for tick in range(int(seconds / period)):
                delay = start + tick * period - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                out.send_message([0xF8])
        elif command == "flood":
            rate, seconds, number = float(args[0]), float(args[1]), int(args[2])
            start = time.monotonic()
            sent = 0
            while (now := time.monotonic()) - start < seconds:
                due = int((now - start) * rate)
                while sent < due:
                    out.send_message([0xB0, number, sent % 128])
                    sent += 1
                time.sleep(0.001)
            reply = json.dumps({"start": start, "end": time.monotonic(), "sent": sent})
        elif command == "exit":
            time.sleep(DRAIN_S)
            break
        print(reply, flush=True)


if __name__ == "__main__":
    main()
