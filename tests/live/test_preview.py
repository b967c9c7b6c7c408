"""`vj live --preview`: the performer's window shows the HUD and a thumbnail of the next preset, and the
show window (the projector's) stays clean. Both are read from the X server's screen, as the audience and
the performer would see them."""

from __future__ import annotations

import json
import time

import numpy as np
from PIL import ImageGrab

from tests.live.conftest import start_vj
from vj.live import preview

SHOW = (960, 540)


def test_the_preview_has_the_hud_and_the_next_preset_and_the_show_window_stays_clean(live_env, jack, tmp_path):
    stats = tmp_path / "stats.json"
    # Frozen from the start, the show never draws a picture: its window must stay black, HUD or not.
    vj = start_vj(live_env, "live", "--input", "system", "--preview", "--size", "x".join(map(str, SHOW)),
                  "--set", "freeze=1", "--duration", "14", "--target-fps", "30", "--stats", stats)
    jack.wait_for_port("vj:in_0")
    time.sleep(8.0)  # the next preset loads in the background; then its thumbnail is drawn
    screen = np.asarray(ImageGrab.grab(xdisplay=live_env["DISPLAY"]).convert("RGB")).astype(np.int16)
    _, err = vj.communicate(timeout=60)
    assert vj.returncode == 0 and "Traceback" not in err, err

    width, height = preview.SIZE
    show = screen[: SHOW[1], : SHOW[0]]
    performer = screen[:height, SHOW[0] + 16: SHOW[0] + 16 + width]
    hud = performer[:150, :330]
    thumbnail_w, thumbnail_h = preview.THUMBNAIL
    bottom, right = height - preview.MARGIN, width - preview.MARGIN
    thumbnail = performer[bottom - thumbnail_h: bottom, right - thumbnail_w: right]
    figures = {"show_max": int(show.max()), "hud_bright_pixels": int((hud > 200).all(axis=2).sum()),
               "thumbnail_std": round(float(thumbnail.std()), 1), "fps": json.loads(stats.read_text())["fps_median"]}
    print(json.dumps(figures))
    assert figures["show_max"] < 10, "the show window must show only the (black) picture: no HUD"
    assert figures["hud_bright_pixels"] > 100, "the preview has the HUD's text"
    assert figures["thumbnail_std"] > 5, "the preview has a picture of the next preset"
    assert performer[: height // 2, 340:420].max() < 10, "and beside them, the show's (black) picture"
