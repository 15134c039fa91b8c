"""Other criteria for the farthest-of-four choice (tools/candidates/choice.py, measured and not shipped)."""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pytest
from conftest import REPO
from test_voice_disguise import first_voice, vowel

from unseen.audio import disguise as dg
from unseen.audio import res2net, select, speaker

sys.path.insert(0, str(REPO / "tools"))  # the candidates are not shipped: tools/candidates
from candidates import choice


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """Three seconds of a development voice, mono at 16 kHz."""
    return first_voice(3.0)


def test_the_proxy_is_one_for_the_same_sound_and_lower_for_noise() -> None:
    x = vowel(3.0, select.RATE, channels=1)[0] * (1 + 0.5 * np.sin(2 * np.pi * 2 * np.arange(3 * select.RATE) / 16000))
    assert choice.intelligibility(x, x) == pytest.approx(1.0, abs=1e-6)
    assert choice.intelligibility(x, 0.7 * x) == pytest.approx(1.0, abs=1e-6)  # level does not count
    noise = np.random.default_rng(0).normal(0, 0.1, x.size)
    assert choice.intelligibility(x, noise) < 0.3


def test_ge2e_alone_keeps_ge2e_s_farthest(speech: np.ndarray) -> None:
    """The choice shipped until 2026-12-06 03:40 UTC (GE2E alone; the bench's select-4-ge2e)."""
    found = dg.profile(speech[None], select.RATE)
    voices = [dg.draw(np.random.default_rng(seed), found) for seed in range(4)]
    own, *others = speaker.embed_many([speech, *select.disguised(speech, voices)], select.RATE)
    nearest = np.argmin([speaker.similarity(own, other) for other in others])
    assert choice.choose(speech, voices, choice.Weights()) is voices[int(nearest)]


def test_the_model_free_distances_see_a_pitch_move(speech: np.ndarray) -> None:
    """Two voices alike but for their pitch (synthetic sources, as the product's draws): 1 and 7 semitones up."""
    drawn = replace(dg.draw(np.random.default_rng(0), dg.profile(speech[None], select.RATE)), wobble=0.0)
    low, high = replace(drawn, pitch=2 ** (1 / 12)), replace(drawn, pitch=2 ** (7 / 12))
    heard = [dg.transform(speech[None], select.RATE, v)[0] for v in (low, high)]
    found = choice.distances(speech, heard, choice.Weights(ge2e=0.0, f0=1.0, envelope=1.0))
    assert found["f0"][0] == pytest.approx(1.0, abs=0.6) and found["f0"][1] == pytest.approx(7.0, abs=1.0)
    assert "ge2e" not in found  # GE2E's weight 0: the model is not run
    kept = choice.choose(speech, [low, high], choice.Weights(ge2e=0.0, f0=1.0))
    assert kept is high


# A second speaker model as a criterion (docs/voices.md, "Choosing with two speaker models").


def test_two_criteria_by_ranks_tie_and_ge2e_breaks_the_tie() -> None:
    # ranks: GE2E 0, 3, 2, 1 and Res2Net 3, 0, 1, 2: every candidate sums to 3, GE2E's farthest (1) is kept
    found = {"ge2e": np.array([0.1, 0.4, 0.3, 0.2]), "res2net": np.array([0.4, 0.1, 0.2, 0.3])}
    assert choice.combined(found, choice.Weights(ge2e=1.0, res2net=1.0)) == 1


def test_z_scores_keep_the_margin_that_ranks_drop() -> None:
    """Candidate 3 is GE2E's farthest by a hair, candidate 0 Res2Net's by far and GE2E's second: ranks tie
    (2 + 3 = 3 + 2) and GE2E takes 3; z-scores weigh the margins and take 0."""
    found = {"ge2e": np.array([0.12, 0.10, 0.10, 0.13]), "res2net": np.array([0.6, 0.2, 0.2, 0.3])}
    assert choice.combined(found, choice.Weights(ge2e=1.0, res2net=1.0)) == 3
    assert choice.combined(found, choice.Weights(ge2e=1.0, res2net=1.0, combine="zscore")) == 0
    assert choice.combined({"res2net": found["res2net"]}, choice.Weights(ge2e=0.0, res2net=1.0)) == 0


def test_z_scores_of_equal_distances_leave_the_choice_to_the_other_criterion() -> None:
    found = {"ge2e": np.array([0.2, 0.5, 0.3]), "res2net": np.full(3, 0.4)}
    assert choice.combined(found, choice.Weights(ge2e=1.0, res2net=1.0, combine="zscore")) == 1


def test_the_minimum_z_score_keeps_the_draw_both_models_find_far() -> None:
    """Candidate 2 is GE2E's farthest by far and Res2Net's nearest; candidate 1 is second for both: the weighted
    sum of z-scores takes 2, the minimum over the models takes 1 (a bench candidate, `select-6-both-minz`)."""
    found = {"ge2e": np.array([0.1, 0.5, 0.9, 0.2]), "res2net": np.array([0.9, 0.6, 0.1, 0.2])}
    assert choice.combined(found, choice.Weights(ge2e=1.5, res2net=1.0, combine="zscore")) == 2
    assert choice.combined(found, choice.Weights(ge2e=1.0, res2net=1.0, combine="minz")) == 1
    assert choice.combined(found, choice.Weights(ge2e=1.0, res2net=0.0, combine="minz")) == 2  # GE2E alone


def _fake_embed(x: np.ndarray, rate: int) -> np.ndarray:
    """A deterministic stand-in for a speaker model: statistics in proportion to the level."""
    assert rate == select.RATE
    x = x.astype(np.float64)
    return np.array([x.std(), np.abs(x).mean(), np.abs(np.diff(x)).mean() * 10, np.abs(x).max()])


def test_the_second_model_s_distance_is_one_minus_its_cosine(speech: np.ndarray) -> None:
    heard = [speech * 0.5, speech[::-1].copy(), np.sign(speech) * 0.01]
    found = choice.distances(speech, heard, choice.Weights(ge2e=0.0, res2net=1.0), _fake_embed)
    assert set(found) == {"res2net"}  # GE2E's weight 0: the model is not run
    own = _fake_embed(speech, select.RATE)
    for h, d in zip(heard, found["res2net"], strict=True):
        e = _fake_embed(h, select.RATE)
        assert d == pytest.approx(1 - own @ e / np.linalg.norm(own) / np.linalg.norm(e), abs=1e-9)
    assert found["res2net"][0] == pytest.approx(0.0, abs=1e-9)  # the level alone: the same direction
    with pytest.raises(ValueError, match="embed"):
        choice.distances(speech, heard, choice.Weights(res2net=1.0))


def test_the_choice_keeps_the_second_model_s_farthest(speech: np.ndarray) -> None:
    found = dg.profile(speech[None], select.RATE)
    voices = [dg.draw(np.random.default_rng(seed), found) for seed in range(4)]
    weights = choice.Weights(ge2e=0.0, res2net=1.0)
    far = choice.distances(speech, select.disguised(speech, voices), weights, _fake_embed)["res2net"]
    assert choice.choose(speech, voices, weights, _fake_embed) is voices[int(np.argmax(far))]


def test_both_models_by_z_scores_keep_what_the_shipped_choice_keeps(speech: np.ndarray) -> None:
    """select-6-both-g15 of the bench (measured in docs/voices.md) is what select.farthest ships."""
    found = dg.profile(speech[None], select.RATE)
    voices = [dg.draw(np.random.default_rng(seed), found) for seed in range(select.CANDIDATES)]
    both = choice.Weights(ge2e=select.GE2E_WEIGHT, res2net=1.0, combine="zscore")
    assert choice.choose(speech, voices, both, res2net.embed) is select.farthest(speech, voices)


def test_the_res2net_as_a_criterion(speech: np.ndarray) -> None:
    """The real second model (unseen.audio.res2net, ONNX): the excerpt is at distance 0 from itself, its
    disguises farther, and the Res2Net alone keeps its own farthest."""
    found = dg.profile(speech[None], select.RATE)
    voices = [dg.draw(np.random.default_rng(seed), found) for seed in range(3)]
    heard = select.disguised(speech, voices)
    both = choice.Weights(ge2e=1.0, res2net=1.0, combine="zscore")
    far = choice.distances(speech, [speech, *heard], both, res2net.embed)
    assert far["res2net"][0] == pytest.approx(0.0, abs=1e-5) and np.all(far["res2net"][1:] > 0.05)
    kept = choice.choose(speech, voices, choice.Weights(ge2e=0.0, res2net=1.0), res2net.embed)
    assert kept is voices[int(np.argmax(far["res2net"][1:]))]
