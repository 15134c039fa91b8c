"""The envelope-structure changes (tools/candidates/structure.py, measured; its band smoothing's fit is the shipped
unseen.audio.upper's, tested in test_voice_upper.py): band smoothing, formant contrast, formant anchors, and the
disguise's seam that applies them (Voice.reshape)."""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
from conftest import REPO

from unseen.audio import disguise as dg

sys.path.insert(0, str(REPO / "tools"))  # the candidates are not shipped: tools/candidates
from candidates import structure as st

FREQS = np.fft.rfftfreq(512, 1 / 16000)


def _rough(frames: int = 8, seed: int = 0) -> np.ndarray:
    """A log envelope with peaks and valleys everywhere (a random walk across frequency)."""
    return np.cumsum(np.random.default_rng(seed).standard_normal((frames, len(FREQS))), axis=1) * 0.1


def test_below_the_split_nothing_changes_and_above_it_the_detail_goes() -> None:
    env = _rough()
    out = st.apply(env, FREQS, st.Structure(split_hz=3000.0))
    below, above = FREQS < 2750.0, FREQS > 3250.0
    assert np.array_equal(out[:, below], env[:, below])
    # above the split each frame is a straight line in log-frequency: its second differences there vanish
    x = np.log(FREQS[above])
    fit = np.polyfit(x, out[0, above], 1)
    assert np.max(np.abs(np.polyval(fit, x) - out[0, above])) < 1e-9
    assert np.max(np.abs(np.polyval(np.polyfit(x, env[0, above], 1), x) - env[0, above])) > 0.1


def test_a_straight_line_in_log_frequency_passes_unchanged() -> None:
    line = np.tile(1.0 - 0.7 * np.log(np.maximum(FREQS, 1.0)), (3, 1))
    for terms in (2, 4):
        assert np.allclose(st.apply(line, FREQS, st.Structure(split_hz=2500.0, terms=terms)), line)


def test_averaging_over_frames_smooths_the_band_over_time() -> None:
    env = _rough(40)
    above = FREQS > 3500.0
    alone = st.apply(env, FREQS, st.Structure(split_hz=3000.0))[:, above]
    averaged = st.apply(env, FREQS, st.Structure(split_hz=3000.0, frames=5))[:, above]
    assert np.std(np.diff(averaged, axis=0)) < 0.6 * np.std(np.diff(alone, axis=0))


def test_contrast_scales_the_peaks_around_the_local_mean() -> None:
    env = _rough()
    assert np.allclose(st.apply(env, FREQS, st.Structure(contrast=(1.0,))), env)
    flat, sharp = (st.apply(env, FREQS, st.Structure(contrast=(g,))) for g in (0.5, 1.5))
    # the deviations from the (unchanged) local mean are halved and grown by half
    mean = st.apply(env, FREQS, st.Structure(contrast=(0.0,)))
    assert np.allclose(flat - mean, 0.5 * (env - mean))
    assert np.allclose(sharp - mean, 1.5 * (env - mean))


def test_contrast_per_band_is_interpolated_over_log_frequency() -> None:
    env = _rough()
    mean = st.apply(env, FREQS, st.Structure(contrast=(0.0,)))
    out = st.apply(env, FREQS, st.Structure(contrast=(0.5, 1.5)))
    gain = (out - mean) / np.where(np.abs(env - mean) > 1e-6, env - mean, np.nan)
    low, high = np.nanmedian(gain[:, (FREQS > 100) & (FREQS < 150)]), np.nanmedian(gain[:, FREQS > 7000])
    assert low < 0.6 and high > 1.4


def test_the_disguise_with_a_reshape_keeps_shape_and_changes_the_output() -> None:
    rate = 16000
    t = np.arange(rate) / rate
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 40))
    x = (0.2 * voice / np.max(np.abs(voice)))[None].astype(np.float32)
    drawn = dg.draw(np.random.default_rng(1), dg.profile(x, rate))
    plain = dg.transform(x, rate, drawn)
    reshaped = dg.transform(
        x, rate, replace(drawn, reshape=st.reshaper(st.Structure(split_hz=3000.0, contrast=(1.3,))))
    )
    assert reshaped.shape == x.shape and reshaped.dtype == x.dtype
    assert np.max(np.abs(reshaped)) <= 1.0
    assert not np.allclose(plain, reshaped)


def _formants(centres: tuple[float, ...], frames: int = 20) -> np.ndarray:
    """Log envelopes with a peak (150 Hz wide) at each centre, on a falling slope."""
    env = -np.log(np.maximum(FREQS, 100.0) / 100.0)
    for centre in centres:
        env = env + 2.0 * np.exp(-0.5 * ((FREQS - centre) / 150.0) ** 2)
    return np.tile(env, (frames, 1))


def test_mean_formants_finds_the_peaks() -> None:
    found = st.mean_formants(_formants((500.0, 1500.0, 2500.0)), FREQS)
    assert found is not None
    assert np.allclose(found, (500.0, 1500.0, 2500.0), atol=40.0)
    assert st.mean_formants(_formants((500.0, 1500.0, 2500.0), frames=5), FREQS) is None  # too few frames


def test_anchors_move_the_formants_to_their_targets() -> None:
    env = _formants((500.0, 1500.0, 2500.0))
    anchors = ((500.0, 620.0), (1500.0, 1300.0), (2500.0, 2750.0))
    found = st.mean_formants(st.apply(env, FREQS, st.Structure(anchors=anchors)), FREQS)
    assert found is not None
    assert np.allclose(found, (620.0, 1300.0, 2750.0), atol=40.0)
    above = FREQS > 7100.0  # outside the warp's ends nothing moves
    assert np.allclose(st.apply(env, FREQS, st.Structure(anchors=anchors))[:, above], env[:, above])


def test_the_shipped_band_is_the_bench_s_band_line() -> None:
    """The disguise's upper band (unseen.audio.upper, drawn last by `draw`) is what the bench measured as band-line:
    the same draw without it, then a Structure's split from the same generator through the seam, gives the same
    output to float32 rounding; the fits are one code."""
    rate = 16000
    t = np.arange(rate) / rate
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 40))
    x = (0.2 * voice / np.max(np.abs(voice)))[None].astype(np.float32)
    found = dg.profile(x, rate)
    shipped = dg.transform(x, rate, dg.draw(np.random.default_rng(5), found))
    rng = np.random.default_rng(5)
    drawn = dg.draw(rng, found, dg.Targets(split_hz=None))
    line = st.Structure(split_hz=float(rng.uniform(*dg.UPPER_SPLIT_HZ)))
    measured = dg.transform(x, rate, replace(drawn, reshape=st.reshaper(line)))
    np.testing.assert_allclose(shipped, measured, atol=1e-5)
    assert np.max(np.abs(shipped - dg.transform(x, rate, drawn))) > 1e-3  # and the band does change the output
