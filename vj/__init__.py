"""vj: audio-reactive CPPN visuals, live and offline.

Two seams carry everything: time is the audio sample position (see `vj.timebase`), and every frame is a
pure function of its inputs (preset, seed, frame index, the features up to that frame).
"""

__version__ = "0.1.0"
