"""`vj live` option checking: every mistake is one line and exit 2, before any window or device opens."""

from __future__ import annotations

import pytest

from tests.conftest import run_vj


def test_live_help_explains_the_keys_and_options():
    result = run_vj("live", "--help", timeout=60)
    assert result.returncode == 0
    for text in ("--input", "--channels", "--fullscreen", "--target-fps", "--av-offset", "--stats",
                 "space freeze", "tap tempo", "vj devices"):
        assert text in result.stdout, text


@pytest.mark.parametrize("args, message", [
    (["--channels", "0"], "channels count from 1"),
    (["--channels", "1,x"], "not a list of channel numbers"),
    (["--size", "big"], "not a size like 1280x720"),
    (["--target-fps", "5"], "--target-fps 5: use 10 to 500"),
    (["--av-offset", "5000"], "use -1000 to 1000 ms"),
    (["--duration", "0"], "--duration must be more than 0"),
    (["--stats", "/no/such/folder/stats.json"], "the folder /no/such/folder does not exist"),
    (["--preset", "nonexistent"], "nonexistent"),
])
def test_live_bad_options_are_one_line_errors(args, message):
    result = run_vj("live", *args, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
