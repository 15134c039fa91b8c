"""The synthetic source's noise and the level overlap-add gives it.

The shipped excitation's noise is drawn frame by frame, independently: spectra of no signal, whose overlapping
inverses add incoherently, so every unvoiced frame (fricatives, breath, pauses) and the noise share of voiced ones
comes out 6 dB under its input. `excitation.CONSISTENT_NOISE` makes it one white signal's spectra instead, at the
right level; measured, that cost the independent verifier 3 points of EER and gave no STOI, so it is not the
default (docs/voices.md, "Noise at its own level"). These tests hold both ways to what they were measured as.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_voice_disguise import first_voice

from unseen.audio import disguise as dg
from unseen.audio import excitation as ex
from unseen.audio.stft import istft, stft, window_length

RATE = 16000


def _unvoiced(x: np.ndarray, size: int) -> np.ndarray:
    """The excitation for `x` with no frame voiced, each frame given `x`'s own power, synthesised."""
    spectra = stft(x, size)
    frames = spectra.shape[0]
    power = np.mean(np.abs(spectra) ** 2, axis=1, keepdims=True)
    track = (np.full(frames, 130.0), np.zeros(frames), np.ones(frames, bool), np.ones(frames), 130.0)
    out = ex.spectra(*track, ex.draw(np.random.default_rng(9)), RATE, size, x.size, power=power)
    return istft(out, size, x.size)


def _db(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(a.astype(np.float64) ** 2) / np.mean(b.astype(np.float64) ** 2)))


@pytest.mark.parametrize("rate", [16000, 48000])
def test_consistent_noise_comes_out_at_the_power_its_frames_were_given(
    rate: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ex, "CONSISTENT_NOISE", True)
    size = window_length(rate, 0.05)
    x = (np.random.default_rng(1).standard_normal(4 * rate) * 0.05).astype(np.float32)
    assert _db(_unvoiced(x, size), x) == pytest.approx(0.0, abs=0.3)


def test_the_shipped_noise_drawn_frame_by_frame_comes_out_6_db_low() -> None:
    assert not ex.CONSISTENT_NOISE  # the default, as measured
    size = window_length(RATE, 0.05)
    x = (np.random.default_rng(1).standard_normal(4 * RATE) * 0.05).astype(np.float32)
    assert _db(_unvoiced(x, size), x) == pytest.approx(-6.0, abs=0.5)


def test_consistent_noise_is_white_and_its_spectra_a_signal_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ex, "CONSISTENT_NOISE", True)
    size = window_length(RATE, 0.05)
    length = 3 * RATE
    frames = stft(np.zeros(length, np.float32), size).shape
    noise = ex._noise(frames, np.random.default_rng(3), size, length)
    power = np.mean(np.abs(noise) ** 2, axis=0)  # per bin, over frames
    assert np.mean(power[5:-5]) == pytest.approx(2.0, rel=0.05)  # the pulses' mean power per bin, as before
    assert np.ptp(np.log10(power[5:-5])) < 0.5  # flat (within ±2.5 dB per bin over 190 frames)
    again = stft(istft(noise, size, length), size)  # a signal's spectra: synthesis and analysis give them back
    np.testing.assert_allclose(again, noise, atol=1e-4 * np.abs(noise).max())


def _fricatives_against_vowels(x: np.ndarray, out: np.ndarray) -> tuple[float, float]:
    """dB of the input's brightest loud frames (fricatives, breath) against its least bright loud ones (vowels),
    in the input and in `out`."""
    hop = 320
    frames = (x.size // hop) * hop

    def energy(s: np.ndarray) -> np.ndarray:
        return np.mean(s[:frames].reshape(-1, hop).astype(np.float64) ** 2, axis=1)

    ein, eout = energy(x), energy(out)
    loud = ein > np.percentile(ein, 60)
    bright = energy(np.diff(x, prepend=0.0)) / np.maximum(ein, 1e-12)  # the first difference: the highs' share
    fricative = loud & (bright > np.percentile(bright[loud], 80))
    vowel = loud & (bright < np.percentile(bright[loud], 40))

    def ratio(e: np.ndarray) -> float:
        return float(10 * np.log10(e[fricative].mean() / e[vowel].mean()))

    return ratio(ein), ratio(eout)


@pytest.mark.parametrize("consistent", [False, True])
def test_a_voice_s_fricatives_against_its_vowels(consistent: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a development voice (seeds 5-7 measured): consistent noise keeps fricatives and breath within 2 dB of
    the input's level against the vowels (0.2-0.4 dB off); the shipped noise 3.5-4.5 dB under it."""
    monkeypatch.setattr(ex, "CONSISTENT_NOISE", consistent)
    x = first_voice(6.0)
    out = dg.disguise(x[None], RATE, np.random.default_rng(5), [(0.0, 6.0)])[0]
    before, after = _fricatives_against_vowels(x, out)
    if consistent:
        assert after == pytest.approx(before, abs=2.0)
    else:
        assert after < before - 2.5
