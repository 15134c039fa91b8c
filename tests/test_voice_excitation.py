"""The synthetic voice source (unseen.audio.excitation) and the disguise that uses it instead of the speaker's own."""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pytest
from conftest import REPO, SHARED_DATA

from unseen.audio import disguise as dg
from unseen.audio import excitation as ex
from unseen.audio import speaker
from unseen.audio.stft import window_length

sys.path.insert(0, str(REPO / "bench"))
from voice import load  # the bench's reader of the development voices: mono float32 and its rate

RATE = 16000
VOICES = SHARED_DATA / "voices"


def glide(seconds: float = 2.0, rate: int = RATE, low: float = 100.0, high: float = 200.0) -> np.ndarray:
    """A voiced sound whose F0 glides between `low` and `high` (sawtooth-like harmonics, one channel)."""
    t = np.arange(int(seconds * rate)) / rate
    f0 = low * (high / low) ** (0.5 + 0.5 * np.sin(2 * np.pi * t / seconds))
    phase = 2 * np.pi * np.cumsum(f0) / rate
    x = np.sum([np.sin(k * phase) / k for k in range(1, 30)], axis=0)
    return (0.3 * x / np.max(np.abs(x)))[None].astype(np.float32)


def sourced(x: np.ndarray, rate: int, rng: np.random.Generator | None = None, **source: float) -> np.ndarray:
    """The shipped draw with a synthetic source (as the bench's `source` method), `source` overriding its draw."""
    rng = rng or np.random.default_rng()
    voice = dg.draw(rng, dg.profile(x, rate), dg.Targets(source=True))
    return dg.transform(x, rate, replace(voice, source=replace(voice.source or ex.draw(rng), **source)))


def track(y: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    size = window_length(rate, 0.05)
    return dg._track(np.abs(dg.stft(y, size)), rate, size)


def test_duration_is_kept_to_the_sample_at_any_length_and_rate() -> None:
    for rate in (16000, 48000):
        x = glide(1.0, rate)
        for n in (0, 1, 999, rate // 2 + 17, rate):
            y = sourced(x[:, :n], rate, np.random.default_rng(1))
            assert y.shape == (1, n) and y.dtype == np.float32 and np.isfinite(y).all()
    long = glide(32.0, RATE)  # longer than a block (15 s): cross-faded blocks
    assert sourced(long, RATE).shape == long.shape


def test_two_runs_never_give_the_same_audio() -> None:
    x = glide()
    outputs = [sourced(x, RATE) for _ in range(3)]
    for a in range(3):
        for b in range(a + 1, 3):
            assert np.max(np.abs(outputs[a] - outputs[b])) > 0.01


def test_silence_stays_silent_and_nothing_clips() -> None:
    silent = np.zeros((2, RATE), np.float32)
    assert np.max(np.abs(sourced(silent, RATE))) == 0.0
    x = glide()
    gap = np.concatenate([x, np.zeros((1, RATE), np.float32), x], axis=1)
    y = sourced(gap, RATE, np.random.default_rng(2))
    middle = y[0, x.shape[1] + RATE // 4 : x.shape[1] + 3 * RATE // 4]  # a window's length from the edges
    assert np.max(np.abs(middle)) == 0.0
    loud = x / np.max(np.abs(x))
    out = sourced(loud, RATE, np.random.default_rng(3))
    # a full-scale sawtooth of crest factor 2 comes out peakier (lowered as a whole: 0.4-0.7 of its level with
    # either source, the speaker's own moved or a synthetic one), never clipped
    assert np.max(np.abs(out)) <= 1.0 and np.sqrt(np.mean(out**2)) > 0.35 * np.sqrt(np.mean(loud**2))


def test_the_new_source_is_voiced_at_the_target_pitch() -> None:
    """A steady 140-Hz voice with a pitch ratio of 1.5 comes out voiced at 210 Hz, however its own source was."""
    x = glide(2.0, low=140.0, high=140.0)
    found = dg.profile(x, RATE)
    assert found is not None and abs(found.f0 / 140 - 1) < 0.03
    for seed in range(3):
        source = replace(ex.draw(np.random.default_rng(seed)), range=1.0)
        y = dg.transform(x, RATE, replace(dg.Voice(pitch=1.5, centre_f0=found.f0), source=source))[0]
        f0, strength = track(y, RATE)
        assert np.mean(strength > 0.7) > 0.8  # the synthetic source is voiced where the input was
        assert abs(np.median(f0[strength > 0.7]) / 210 - 1) < 0.03, (seed, np.median(f0[strength > 0.7]))


def test_the_contour_s_range_is_scaled_around_the_median() -> None:
    frames = np.arange(200)
    f0 = 140 * 2 ** (0.5 * np.sin(2 * np.pi * frames / 100))  # an octave's intonation around 140 Hz
    spans = []
    for scale in (1.0, 0.3):
        out = ex.contour(f0, np.ones(len(f0)), np.full(len(f0), 1.5), 140.0, ex.Source(range=scale))
        assert abs(np.median(np.log(out)) - np.log(210)) < 0.02
        spans.append(np.ptp(np.log(out)))
    assert abs(spans[1] / spans[0] - 0.3) < 0.02, spans


def test_noise_in_stays_noise_out() -> None:
    """Unvoiced sound (a fricative's noise) is rebuilt from noise: no pitch appears in it."""
    noise = (np.random.default_rng(0).standard_normal((1, RATE)) * 0.1).astype(np.float32)
    _, strength = track(sourced(noise, RATE, np.random.default_rng(1))[0], RATE)
    assert np.median(strength) < 0.5, np.median(strength)
    click = np.zeros((1, RATE), np.float32)
    click[0, RATE // 2] = 1.0
    out = sourced(click, RATE, np.random.default_rng(2))
    assert np.isfinite(out).all() and np.max(np.abs(out)) <= 1.0


def test_the_contour_fills_gaps_and_stays_in_range() -> None:
    f0 = np.array([100.0, 300.0, 100.0, 100.0, 0.0, 0.0, 110.0, 120.0, 900.0, 115.0])
    voicing = np.array([1, 1, 1, 1, 0, 0, 1, 1, 1, 1], float)
    out = ex.contour(f0, voicing, np.ones(len(f0)), 110.0, ex.Source(range=1.0))
    assert np.all((out >= 50.0) & (out <= 500.0)) and np.isfinite(out).all()
    assert out.max() < 200.0  # single-frame octave jumps are filtered out
    flat = ex.contour(f0, voicing, np.full(len(f0), 2.0), 110.0, ex.Source(range=0.0))
    np.testing.assert_allclose(flat, 220.0)
    assert np.all(ex.contour(f0, np.zeros(len(f0)), np.ones(len(f0)), 0.0, ex.Source()) > 0)


def test_every_excitation_frame_has_unit_power() -> None:
    size = window_length(RATE, 0.05)
    frames = 40
    spectra = ex.spectra(
        np.full(frames, 120.0), np.full(frames, 0.9), np.ones(frames, bool), np.ones(frames), 120.0,
        ex.draw(np.random.default_rng(0)), RATE, size, (frames - 5) * size // 4,  # stft gives `frames` frames
    )  # fmt: skip
    assert spectra.shape[1] == size // 2 + 1
    np.testing.assert_allclose(np.mean(np.abs(spectra) ** 2, axis=1), 1.0, rtol=1e-6)


@pytest.mark.slow
def test_real_speech_with_a_new_source_no_longer_matches_its_speaker() -> None:
    """Original half against the other half with a synthetic source (the ignorant attacker's trial)."""
    files = sorted(VOICES.glob("*.flac"))[:6]
    if len(files) < 6:
        pytest.skip(f"the dev voices are not at {VOICES}")
    scores = []
    for number, path in enumerate(files):
        x, rate = load(path)
        first, second = x[: len(x) // 2], x[len(x) // 2 :]
        changed = sourced(first[None], rate, np.random.default_rng(number))[0]
        assert len(changed) == len(first) and np.max(np.abs(changed)) <= 1.0
        scores.append(speaker.similarity(speaker.embed(second, rate), speaker.embed(changed, rate)))
    assert sum(s > speaker.MATCH_THRESHOLD for s in scores) <= 2, scores


def test_levels_even_the_dynamics_and_keep_silence() -> None:
    rng = np.random.default_rng(0)
    energy = np.exp(rng.normal(0, 1.5, (300, 1)))
    energy[100:140] = 0.0  # a pause
    out = ex.levels(energy, 62.5, ex.Source(dynamics=0.5))
    assert np.all(out[100:140] == 0.0) and np.all(out[energy > 0] > 0)
    loud = energy[:, 0] > 0
    assert np.std(np.log(out[loud, 0])) < 0.8 * np.std(np.log(energy[loud, 0]))
    assert ex.levels(energy, 62.5, ex.Source(dynamics=0.0)) is energy


def test_a_source_is_drawn_only_where_asked_and_where_a_voice_is_found() -> None:
    x = glide()
    found = dg.profile(x, RATE)
    assert found is not None
    assert dg.draw(np.random.default_rng(0), found, dg.Targets(source=True)).source is not None
    assert dg.draw(np.random.default_rng(0), found, dg.Targets(source=False)).source is None
    assert dg.draw(np.random.default_rng(0), None, dg.Targets(source=True)).source is None  # no voice: no source
