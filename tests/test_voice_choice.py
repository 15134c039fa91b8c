"""Other criteria for the farthest-of-four choice (tools/candidates/choice.py, measured and not shipped)."""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pytest
from conftest import REPO
from test_voice_disguise import first_voice, vowel

from unseen.audio import disguise as dg
from unseen.audio import select

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


def test_ge2e_alone_keeps_what_the_shipped_choice_keeps(speech: np.ndarray) -> None:
    found = dg.profile(speech[None], select.RATE)
    voices = [dg.draw(np.random.default_rng(seed), found) for seed in range(4)]
    assert choice.choose(speech, voices, choice.Weights()) is select.farthest(speech, voices)


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
