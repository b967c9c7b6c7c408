from fractions import Fraction

import pytest

from vj.errors import VJError
from vj.timebase import Timebase, parse_fps


@pytest.mark.parametrize("fps", [Fraction(24), Fraction(30), Fraction(60), Fraction(30000, 1001)])
def test_every_sample_belongs_to_exactly_one_frame(fps):
    tb = Timebase(fps)
    for sample in range(0, 500_000, 97):
        n = tb.frame_at(sample)
        assert tb.frame_start(n) <= sample < tb.frame_end(n)
    assert tb.frame_end(tb.frame_count(123_457) - 1) >= 123_457 > tb.frame_start(tb.frame_count(123_457) - 1)


def test_integer_rates_cut_48k_evenly():
    assert Timebase(Fraction(30)).frame_end(0) == 1600
    assert Timebase(Fraction(60)).frame_start(60) == 48_000
    assert Timebase(Fraction(24)).frame_count(48_000 * 10) == 240


def test_parse_fps():
    assert parse_fps("30") == 30
    assert parse_fps("29.97") == Fraction(30000, 1001)
    for bad in ("abc", "0", "-5", "1000"):
        with pytest.raises(VJError):
            parse_fps(bad)
