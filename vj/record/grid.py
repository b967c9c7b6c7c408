"""Where a picture lands in a recording: the slot of the recording's frame grid it was on screen in.

Live recording and replay place frames by the same rule, so a replay at the live settings puts every
picture in the slot the recording did.
"""

from __future__ import annotations


def grid_slot(position: float, last: int) -> int | None:
    """The recording frame for a picture seen at ``position`` (in recording frames), after frame ``last``;
    None when it comes too early for the next one (a faster show than the recording). Consecutive frames
    take consecutive slots while they stay within a frame of them, so the presentation's jitter (a few ms)
    neither doubles nor skips a slot; a late frame jumps ahead. The picture is in its slot within one frame."""
    slot = last + 1
    if position < slot - 0.5:
        return None
    return slot if position <= slot + 1 else round(position)
