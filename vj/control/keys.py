"""The live window's key map, in one place: the HUD's `?` page and `vj live --help` both show it."""

KEY_HELP = (
    "f fullscreen   h HUD   ? this key map",
    "space freeze   r reseed   p / P next / previous preset   s save as a new preset",
    "[ ] evolution slower / faster",
    "t tap tempo (3+ taps)   T beat back to the audio",
    "l MIDI learn (up/down picks the parameter)   R record: end the take / start the next",
    "q / Esc quit (twice when fullscreen)",
)
