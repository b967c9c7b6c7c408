"""Scoring beats: the figures the tracker's targets are stated in must mean what they say."""

import json
import math

import numpy as np
import pytest

from vj.audio.beateval import Tracked, score
from vj.audio.beatset import SONGS, write_set
from vj.cli import main

GRID = np.arange(40) * 0.5  # 120 BPM for 20 s


def tracked(beats, known_at=None, bpm=120.0):
    beats = np.asarray(beats, dtype=float)
    times = np.arange(0, 20, 0.1)
    return Tracked(beats, beats - 0.2 if known_at is None else np.asarray(known_at), times, np.full(len(times), bpm))


def test_perfect_beats_score_one_and_lock_at_once():
    s = score("x", GRID, tracked(GRID))
    assert s.f_measure == pytest.approx(1.0)
    assert s.lock_s == 0.0 and s.tempo_error_pct == 0.0 and not s.octave_error
    assert s.lead_ms == pytest.approx(200.0) and s.late == 0


def test_off_beats_score_zero_and_double_tempo_is_an_octave_error():
    assert score("x", GRID, tracked(GRID + 0.25)).f_measure == 0.0
    assert math.isnan(score("x", GRID, tracked(GRID + 0.25)).lock_s)
    double = score("x", GRID, tracked(np.arange(80) * 0.25, bpm=240.0))
    assert double.octave_error and double.f_measure == pytest.approx(2 / 3, abs=0.02)


def test_late_commits_are_counted_and_the_lock_waits_for_four_hits_in_a_row():
    beats = GRID.copy()
    beats[:6] += 0.2  # wrong for the first three seconds
    s = score("x", GRID, tracked(beats, known_at=beats + 0.01))
    assert s.lock_s == pytest.approx(3.0)
    assert s.late == len(GRID) - 6


def test_a_tempo_change_is_followed_when_four_hits_in_a_row_come_back():
    truth = np.concatenate([np.arange(20) * 0.5, 10.0 + np.arange(1, 22) * 60 / 132])
    est = truth.copy()
    est[20:23] += 0.1  # three beats lost after the change
    assert score("x", truth, tracked(est)).follow_beats == 3


def test_eval_beats_scores_a_written_set_and_writes_json(tmp_path, capsys):
    songs = [s for s in SONGS if s.name in ("rock-136", "ballad-80")]
    write_set(tmp_path, songs=songs, conditions=("clean",))
    assert main(["eval-beats", str(tmp_path), "--json", str(tmp_path / "scores.json")]) == 0
    out = capsys.readouterr().out
    assert "rock-136.clean" in out and "ballad-80.clean" in out and "condition" in out
    document = json.loads((tmp_path / "scores.json").read_text())
    assert {f["name"] for f in document["files"]} == {"rock-136", "ballad-80"}
    rock = next(f for f in document["files"] if f["name"] == "rock-136")
    assert rock["f_measure"] > 0.9, "a plain rock beat at 136 BPM is an easy case"
    assert document["summary"]["clean"]["files"] == 2


@pytest.mark.parametrize("setup, message", [
    (lambda d: None, "is not a folder"),
    (lambda d: d.mkdir(), "holds no audio file with a .beats file"),
])
def test_eval_beats_bad_folders_give_one_line(tmp_path, capsys, setup, message):
    folder = tmp_path / "set"
    setup(folder)
    assert main(["eval-beats", str(folder)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_bad_beats_file_gives_one_line(tmp_path, capsys):
    write_set(tmp_path, songs=[s for s in SONGS if s.name == "techno-132"], conditions=("clean",))
    (tmp_path / "techno-132.clean.beats").write_text("0.5\nnot a time\n")
    assert main(["eval-beats", str(tmp_path)]) == 2
    assert "not a beat list" in capsys.readouterr().err


def test_bench_analyzer_prints_its_share_of_a_core(capsys):
    assert main(["bench", "--analyzer", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 3
    for row in rows:
        assert row["core_pct"] > 0 and row["budget_ratio"] == pytest.approx(row["core_pct"] / 2.0, rel=0.02)
