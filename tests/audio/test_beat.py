"""The beat tracker on synthesized music with known beats: the figures issue 5 is specified in.

Each song is rendered by `vj.audio.beatset` (a full band, mixed and reverberated) and scored as `vj eval-beats`
scores it. The songs are the ones the first trackers failed on: house puts its loudest rises on the off-beat
(open hat, bass, the duck's release), a tempo step must be followed, a room microphone smears every onset.
"""

from __future__ import annotations

import json

import pytest

from vj.audio import beatset
from vj.audio.activation import WEIGHTS, BeatActivation
from vj.audio.beateval import score, track_vj
from vj.audio.decode import to_mono
from vj.errors import VJError
from vj.resources import resource_dir

SONGS = {song.name: song for song in beatset.SONGS}


def _scored(name: str, condition: str):
    samples, truth = beatset.render_song(SONGS[name])
    mono = to_mono(beatset.degrade(samples, condition, seed=SONGS[name].seed))
    return score(name, truth, track_vj(mono), condition)


@pytest.mark.parametrize("condition", ["clean", "room"])
def test_house_beats_land_on_the_kick_not_the_off_beat(condition: str) -> None:
    result = _scored("house-124", condition)
    assert result.f_measure >= 0.8, result
    assert not result.octave_error and result.tempo_error_pct < 0.5, result
    assert result.lock_s < 8.0 and result.late == 0, result


def test_a_tempo_step_is_followed_within_four_beats() -> None:
    result = _scored("synthpop-120-132", "clean")
    assert result.follow_beats <= 4, result
    assert result.f_measure >= 0.9, result


def test_drumless_orchestral_music_still_has_a_beat() -> None:
    result = _scored("orchestral-92", "clean")
    assert result.f_measure >= 0.85 and result.lock_s < 4.0, result


@pytest.mark.parametrize("edit, message", [
    (lambda model: model.pop("hidden_bias"), "cannot read"),
    (lambda model: model.update(context=3), "do not fit"),
])
def test_broken_activation_weights_give_one_line(tmp_path, edit, message) -> None:
    model = json.loads((resource_dir("assets") / WEIGHTS).read_text())
    edit(model)
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(model))
    with pytest.raises(VJError, match=message):
        BeatActivation(25, path)
    path.write_text("not json")
    with pytest.raises(VJError, match="cannot read"):
        BeatActivation(25, path)
