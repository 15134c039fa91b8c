"""Voice disguise towards an average voice (tools/candidates/codebook.py, measured and not shipped): the model,
the balance, the per-frame mapping."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import REPO
from test_voice_disguise import RATE, load, recordings, vowel

from unseen.audio import disguise as dg
from unseen.audio import speaker
from unseen.audio.stft import stft, window_length

sys.path.insert(0, str(REPO / "tools"))  # the candidates are not shipped: tools/candidates
from candidates import codebook as cb


def long_term_mean(samples: np.ndarray, rate: int) -> np.ndarray:
    """c1-c12 of the channels' mean cepstrum over the loud frames, with the module's own front end."""
    size = window_length(rate, 0.05)
    power = np.abs(stft(samples.mean(axis=0), size)).astype(np.float64) ** 2
    energy = power.sum(axis=1)
    loud = energy > 1e-3 * np.percentile(energy, 95)
    return cb.cepstra(power[loud], size, rate).mean(axis=0)[1:]


def test_the_codebook_is_the_model_s_statics() -> None:
    means, variances = cb._codebook()
    assert means.shape[1] == variances.shape[1] == 13
    assert 5000 < len(means) <= 42 * 128  # the few untrained Gaussians left out
    assert np.all(variances[:, 1:] > 1.0) and np.isfinite(means).all()


@pytest.mark.parametrize("per_frame", [False, True])
def test_same_shape_dtype_and_length_exactly(per_frame: bool) -> None:
    mapping = cb.Mapping(per_frame=per_frame)
    for n in (0, 1, 999, RATE + 17):
        x = vowel(2.0)[:, :n]
        y = cb.disguise(x, RATE, np.random.default_rng(1), mapping)
        assert y.shape == x.shape and y.dtype == np.float32 and np.isfinite(y).all()
    mono = vowel(1.0, rate=16000, channels=1)
    assert cb.disguise(mono, 16000, mapping=mapping).shape == mono.shape


def test_channels_share_one_draw_and_two_runs_differ() -> None:
    x = vowel()
    y = cb.disguise(x, RATE, np.random.default_rng(7))
    np.testing.assert_array_equal(y[0], y[1])
    np.testing.assert_array_equal(y, cb.disguise(x, RATE, np.random.default_rng(7)))
    outputs = [cb.disguise(x[:1], RATE) for _ in range(3)]  # cryptographic draws
    for a in range(3):
        for b in range(a + 1, 3):
            assert np.max(np.abs(outputs[a] - outputs[b])) > 0.01


@pytest.mark.parametrize("per_frame", [False, True])
def test_silence_stays_silent_and_loud_sound_is_not_clipped(per_frame: bool) -> None:
    mapping = cb.Mapping(per_frame=per_frame)
    assert np.max(np.abs(cb.disguise(np.zeros((2, RATE), np.float32), RATE, mapping=mapping))) == 0.0
    assert cb.balance_gains(np.zeros((1, RATE), np.float32), RATE) == ()
    loud = vowel()
    loud /= np.max(np.abs(loud))
    out = cb.disguise(loud, RATE, np.random.default_rng(3), mapping)
    assert np.max(np.abs(out)) <= 1.0 and np.sqrt(np.mean(out**2)) > 0.5 * np.sqrt(np.mean(loud**2))
    click = np.zeros((1, RATE), np.float32)
    click[0, RATE // 2] = 1.0
    assert np.isfinite(cb.disguise(click, RATE, np.random.default_rng(0), mapping)).all()


def balanced(x: np.ndarray, rate: int, tilt: float = 0.0) -> np.ndarray:
    """Only the balance applied (no pitch, warp or colour): the shipped transform with the gains alone."""
    return dg.transform(x, rate, dg.Voice(evening=cb.balance_gains(x, rate, tilt)))


def test_the_balance_takes_different_voices_to_the_same_long_term_spectrum() -> None:
    """Two vowels with opposite spectral tilts end up with nearly the same long-term mean cepstrum."""
    bright = vowel(channels=1)
    dull = np.convolve(bright[0], np.ones(6) / 6, mode="same")[None].astype(np.float32)  # a low-pass: other tilt
    before = np.abs(long_term_mean(bright, RATE)[0] - long_term_mean(dull, RATE)[0])
    after = np.abs(long_term_mean(balanced(bright, RATE), RATE)[0] - long_term_mean(balanced(dull, RATE), RATE)[0])
    assert after < 0.3 * before, (before, after)
    # the tilt drawn per file moves c1 by about as much as asked (the warps' fades make it inexact)
    level = long_term_mean(balanced(bright, RATE), RATE)[0]
    tilted = long_term_mean(balanced(bright, RATE, tilt=10.0), RATE)[0] - level
    assert 6.0 < tilted < 14.0, tilted


def test_the_per_frame_mapping_moves_frames_towards_the_codebook() -> None:
    x = vowel(channels=1)
    size = window_length(RATE, 0.05)

    def best_score(signal: np.ndarray) -> float:  # -2 log-likelihood of each frame's nearest Gaussian, median
        power = np.abs(stft(signal[0], size)).astype(np.float64) ** 2
        features = cb.cepstra(power, size, RATE)
        features -= features.mean(axis=0)
        weights, _ = cb._scorer()
        f = features[:, 1:].astype(np.float32)
        return float(np.median((np.hstack([f**2, f, np.ones((len(f), 1), np.float32)]) @ weights).min(axis=1)))

    assert best_score(cb.to_average(x, RATE)) < best_score(x)


def test_the_description_names_the_model_and_the_shipped_ranges() -> None:
    assert "pocketsphinx" in cb.DESCRIPTION and "McAdams" in cb.DESCRIPTION


def test_real_speech_balance_lies_near_the_generic_mean() -> None:
    """The front end matches the model's: real speech's long-term c1, c2 lie near pocketsphinx's generic ones
    (3, -1), within the tilt drawn; the balance takes them there."""
    path = recordings(1)[0]
    x, rate = load(path)
    own = long_term_mean(x[None], rate)
    assert abs(own[0] - 3.0) < 2 * cb.TILT and abs(own[1] + 1.0) < 2 * cb.TILT, own[:2]
    after = long_term_mean(balanced(x[None], rate), rate)
    assert np.linalg.norm(after[:4] - cb._GENERIC_MEAN[1:5]) < 0.5 * np.linalg.norm(own[:4] - cb._GENERIC_MEAN[1:5])


@pytest.mark.slow
def test_real_speech_keeps_its_length_and_no_longer_matches() -> None:
    """As the shipped disguise's test: the other half of each recording disguised (the ignorant attacker's
    trial) matches its speaker's reference in at most 2 of 6 speakers."""
    disguised = []
    for number, path in enumerate(recordings(6)):
        x, rate = load(path)
        first, second = x[: len(x) // 2], x[len(x) // 2 :]
        changed = cb.disguise(first[None], rate, np.random.default_rng(number))[0]
        assert len(changed) == len(first) and np.isfinite(changed).all()
        disguised.append(speaker.similarity(speaker.embed(second, rate), speaker.embed(changed, rate)))
    assert sum(s > speaker.MATCH_THRESHOLD for s in disguised) <= 2, disguised
