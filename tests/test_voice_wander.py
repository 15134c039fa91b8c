"""A pseudo-speaker that changes along the file (tools/candidates/wander.py, measured and not shipped) through
the shipped transform's per-frame hook (`Voice.course`)."""

from __future__ import annotations

import sys

import numpy as np
from conftest import REPO
from test_voice_disguise import RATE, f0_of, vowel

from unseen.audio import disguise as dg
from unseen.audio import excitation as ex

sys.path.insert(0, str(REPO / "tools"))  # the candidates are not shipped: tools/candidates
from candidates import wander


def _path(times: list[float], pitch: list[float], bends: int = 3, bands: int = 4) -> wander.Path:
    """Anchors that move the pitch (log ratio) only, with columns for `bends` bends and `bands` colour bands."""
    values = np.zeros((len(times), 6 + bends + bands))
    values[:, 0] = pitch
    return wander.Path(np.array(times), values, bends=bends)


def test_the_path_passes_its_anchors_and_glides_between_without_a_jump() -> None:
    path = _path([0.0, 1.0, 3.0], [0.0, 1.0, -1.0])
    t = np.arange(0.0, 4.0, 0.001)
    pitch = path.at(t).pitch[:, 0]
    for anchor, value in ((0, 0.0), (1000, 1.0), (3000, -1.0)):
        assert abs(pitch[anchor] - value) < 1e-9
    assert np.all(pitch[3000:] == -1.0)  # constant after the last anchor
    assert np.max(np.abs(np.diff(pitch))) < 0.002  # eased: at most π/2 per second here, no step
    assert np.all(np.diff(pitch[:1000]) >= 0) and np.all(np.diff(pitch[1000:3000]) <= 0)  # no overshoot
    offsets = path.at(t)
    assert offsets.bends.shape == (len(t), 3) and offsets.colour.shape == (len(t), 4)


def test_the_voice_changes_along_the_file() -> None:
    """A steady 140-Hz vowel with a path from 6 semitones down to 6 up comes out an octave higher at its end
    than at its start; without the path its pitch stays where it was."""
    x = vowel(4.0, channels=1)
    half = np.log(2) / 2
    source = ex.Source(range=1.0, breath=0.05)
    steady = dg.Voice(centre_f0=140.0, source=source)
    moving = dg.Voice(centre_f0=140.0, source=source, course=_path([0.5, 3.5], [-half, half], 0, 0).at)
    for voice, octaves in ((steady, 0.0), (moving, 1.0)):
        y = dg.transform(x, RATE, voice)[0]
        start, end = f0_of(y[: RATE // 2], RATE), f0_of(y[-RATE // 2 :], RATE)
        assert abs(np.log2(end / start) - octaves) < 0.1, (octaves, start, end)


def test_away_anchors_lie_beyond_the_file_s_own_voice_and_across_anchors_anywhere() -> None:
    found = dg.profile(vowel(2.0, channels=1), RATE)
    rng = np.random.default_rng(3)
    x = vowel(6.0, channels=1)
    for mode in ("away", "across"):
        for _ in range(10):
            voice = wander.vary(rng, x, RATE, found, mode=mode, spacing=1.5)
            assert voice.course is not None
            path = voice.course.__self__  # the Path whose `at` the voice carries
            assert isinstance(path, wander.Path) and len(path.times) >= 4  # every 1.5 s over 6 s
            own = wander.vector(voice)
            values = path.values
            if mode == "away":
                neutral = np.zeros_like(own)
                neutral[2] = neutral[5] = 1.0
                # every offset points the way the file's own voice already lies from the speaker's
                assert np.all(values * np.sign(own - neutral) >= -1e-12)
            else:
                assert np.ptp(values[:, 0]) > 0  # new pitch targets drawn
    assert dg.transform(x, RATE, voice).shape == x.shape


def test_pauses_are_found_and_the_voice_changes_only_inside_them() -> None:
    speech = vowel(1.0, channels=1)[0]
    gap = np.zeros(RATE // 2, np.float32)
    x = np.concatenate([speech, gap, speech, gap[:2400], speech])[None]  # a 0.5-s pause and a 0.05-s one
    times = wander.at_pauses(x, RATE, spacing=0.5)
    assert len(times) == 3 and times[0] == 0.0  # the long pause only, as its start and end
    assert 0.95 <= times[1] <= 1.05 and 1.45 <= times[2] <= 1.55
    assert list(wander.at_pauses(x, RATE, spacing=5.0)) == [0.0]  # too soon after the start
