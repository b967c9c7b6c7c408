"""Control: the live parameter registry and what writes it (MIDI, OSC, keys), plus external beat clocks."""
