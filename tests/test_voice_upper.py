"""The upper band made a line (unseen.audio.upper) and the disguise that draws its split per file: above the split
each frame's warped envelope becomes a straight line in log-frequency, below it and above 10 kHz nothing changes,
and a split of 0 is the disguise as it was before."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from test_voice_disguise import first_voice, vowel

from unseen.audio import disguise as dg
from unseen.audio import select, upper

SPLIT = 3000.0
LOW, HIGH = SPLIT - upper.FADE_HZ / 2, SPLIT + upper.FADE_HZ / 2  # the cross-fade


def _grid(rate: int) -> np.ndarray:
    return np.fft.rfftfreq(dg.window_length(rate, 0.05), 1 / rate)


def _peaked(freqs: np.ndarray, frames: int = 6) -> np.ndarray:
    """Log envelopes on a falling slope with formant-like peaks below the split (F1, F2), above it (F3-F5) and
    above 10 kHz, each frame's peaks a little elsewhere."""
    f = np.maximum(freqs, 50.0)
    rows = []
    for frame in range(frames):
        env = 1.0 - 0.8 * np.log(f / 100.0)
        for centre in (600.0, 1700.0, 3600.0, 4800.0, 6500.0, 12000.0):
            env = env + 1.5 * np.exp(-0.5 * ((f - centre * (1 + 0.03 * frame)) / (0.06 * centre)) ** 2)
        rows.append(env)
    return np.array(rows, np.float32)


def _line_residual(env: np.ndarray, freqs: np.ndarray, band: np.ndarray) -> float:
    """The largest distance of any frame's envelope in `band` from its own least-squares line in log-frequency."""
    x = np.log(freqs[band])
    return max(float(np.max(np.abs(np.polyval(np.polyfit(x, row[band], 1), x) - row[band]))) for row in env)


@pytest.mark.parametrize("rate", [16000, 48000])
def test_the_peaks_above_the_split_go_and_the_rest_stays(rate: int) -> None:
    freqs = _grid(rate)
    env = _peaked(freqs)
    out = upper.smoothed(env, freqs, SPLIT)
    assert out.shape == env.shape and out.dtype == np.float32
    below, top = freqs < LOW, freqs >= 10000.0
    assert np.array_equal(out[:, below], env[:, below])  # F1, F2 and their slope untouched
    assert np.array_equal(out[:, top], env[:, top])  # above 10 kHz too (a peak at 12 kHz stays)
    band = (freqs > HIGH) & (freqs <= 8000.0)
    assert _line_residual(env, freqs, band) > 0.5  # F3-F5 stood out of the line
    assert _line_residual(out, freqs, band) < 1e-3  # now each frame is a line there
    # the line keeps the band's level: the mean log envelope there moves by far less than the peaks stood out
    assert np.max(np.abs(out[:, band].mean(axis=1) - env[:, band].mean(axis=1))) < 0.2


@pytest.mark.parametrize("rate", [16000, 48000])
def test_a_line_in_log_frequency_passes_unchanged(rate: int) -> None:
    """A frame that is already a line keeps its level and tilt exactly: across the fade and its extension to 10 kHz."""
    freqs = _grid(rate)
    line = np.tile(0.5 - 1.3 * np.log(np.maximum(freqs, 1.0)), (3, 1))
    np.testing.assert_allclose(upper.smoothed(line, freqs, SPLIT), line, atol=1e-9)
    np.testing.assert_allclose(upper.smoothed(line.astype(np.float32), freqs, SPLIT), line, atol=2e-4)


def test_the_line_is_the_same_at_16_and_48_khz() -> None:
    """The fit covers the split to 8 kHz at every rate: a 48-kHz file is smoothed as the 16-kHz bench measured,
    whatever lies above 8 kHz (here a steep fall, as after a lossy codec's low-pass)."""
    lines = []
    for rate in (16000, 48000):
        freqs = _grid(rate)
        env = _peaked(freqs, 1).astype(np.float64)
        env[:, freqs > 9000.0] -= 8.0  # a cliff above the band the verifiers hear
        out = upper.smoothed(env, freqs, SPLIT)
        at = np.geomspace(HIGH + 50.0, 7900.0, 20)
        lines.append(np.interp(at, freqs, out[0]))
    np.testing.assert_allclose(lines[0], lines[1], atol=0.05)


def test_dtype_empty_and_too_low_a_rate() -> None:
    freqs = _grid(48000)
    env = _peaked(freqs).astype(np.float64)
    assert upper.smoothed(env, freqs, SPLIT).dtype == np.float64
    assert upper.smoothed(env[:0], freqs, SPLIT).shape == (0, len(freqs))
    low = np.fft.rfftfreq(128, 1 / 4000)  # a 4-kHz rate: nothing above the split to fit
    flat = np.zeros((2, len(low)), np.float32)
    assert np.array_equal(upper.smoothed(flat, low, SPLIT), flat)


def test_the_split_is_drawn_in_its_range_and_last() -> None:
    """Every draw (with a voice profiled or without) has a split in UPPER_SPLIT_HZ, drawn after everything else:
    without it the draw is what it was before the split existed, parameter for parameter."""
    found = dg.profile(vowel(2.0, channels=1), 48000)
    assert found is not None
    splits = []
    for seed in range(30):
        for profile in (found, None):
            voice = dg.draw(np.random.default_rng(seed), profile)
            assert dg.UPPER_SPLIT_HZ[0] <= voice.split_hz <= dg.UPPER_SPLIT_HZ[1]
            splits.append(voice.split_hz)
            before = np.random.default_rng(seed)  # the draw of before the band: Targets(split_hz=None)
            assert replace(voice, split_hz=0.0) == dg.draw(before, profile, dg.Targets(split_hz=None))
            assert voice.split_hz == before.uniform(*dg.UPPER_SPLIT_HZ)  # the next draw of the same generator
    assert np.ptp(splits) > 0.5 * (dg.UPPER_SPLIT_HZ[1] - dg.UPPER_SPLIT_HZ[0])  # drawn, not fixed
    assert dg.Voice().split_hz == 0.0  # a voice made by hand (tests, the bench's anchors) has none


def test_no_split_is_the_previous_disguise_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """split_hz 0 never reaches the smoothing: the output is the disguise's before the band, bit for bit (the
    rest of `_block` is unchanged); a split changes it, keeping shape, dtype and length, in both of `_block`'s
    paths (the synthetic source, and the speaker's own moved where no voice is profiled)."""
    x = vowel(1.0)
    found = dg.profile(x, 48000)
    for name, voice in (
        ("source", dg.draw(np.random.default_rng(2), found)),
        ("own", dg.draw(np.random.default_rng(2))),
    ):
        assert (voice.source is not None) == (name == "source")
        banded = dg.transform(x, 48000, voice)
        with monkeypatch.context() as patched:
            patched.setattr(upper, "smooth", lambda *_: pytest.fail("split_hz 0 must not smooth"))
            plain = dg.transform(x, 48000, replace(voice, split_hz=0.0))
        assert banded.shape == plain.shape == x.shape and banded.dtype == plain.dtype == np.float32
        assert np.max(np.abs(banded - plain)) > 1e-3, name


def _reaching_the_equaliser(x: np.ndarray, rate: int, voice: dg.Voice) -> np.ndarray:
    """The log envelopes `_block` hands on after the warp and the band, through the bench's seam (applied next)."""
    seen: list[np.ndarray] = []

    def keep(env: np.ndarray, _: np.ndarray) -> np.ndarray:
        seen.append(env.copy())
        return env

    dg.transform(x, rate, replace(voice, reshape=keep))
    return np.vstack(seen)


def test_in_the_disguise_of_real_speech_the_band_above_the_split_is_a_line() -> None:
    """What reaches the equaliser (the envelope both of `_block`'s paths then use) is, above the split, a line."""
    speech = first_voice(3.0)[None]
    rate = select.RATE
    freqs = _grid(rate)
    voice = replace(dg.draw(np.random.default_rng(11), dg.profile(speech, rate)), split_hz=SPLIT)
    banded = _reaching_the_equaliser(speech, rate, voice)
    plain = _reaching_the_equaliser(speech, rate, replace(voice, split_hz=0.0))
    band = (freqs > HIGH) & (freqs <= 8000.0)
    loud = plain.max(axis=1) > np.percentile(plain.max(axis=1), 50)
    assert _line_residual(plain[loud], freqs, band) > 0.3  # the warped speech had its formants there
    assert _line_residual(banded, freqs, band) < 1e-3
    below = freqs < LOW
    assert np.array_equal(banded[:, below], plain[:, below])


def test_unseen_s_own_path_draws_and_applies_a_split() -> None:
    """select.disguise (what `unseen --voice disguise` runs: voice.py) smooths every candidate's and the kept
    voice's envelope above a split drawn in range; its description names the step."""
    seconds = 4.0
    speech = first_voice(seconds)
    splits: list[float] = []
    original = upper.smooth

    def recording(env: np.ndarray, freqs: np.ndarray, split_hz: float) -> None:
        splits.append(split_hz)
        original(env, freqs, split_hz)

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(upper, "smooth", recording)
        out = select.disguise(speech[None], select.RATE, speech, [(0.0, seconds)], rng=np.random.default_rng(4))
    assert out.shape == (1, speech.size) and out.dtype == np.float32
    distinct = set(splits)
    assert len(distinct) == select.CANDIDATES  # each candidate its own split; the kept one's again for the file
    assert all(dg.UPPER_SPLIT_HZ[0] <= s <= dg.UPPER_SPLIT_HZ[1] for s in distinct)
    low, high = (f"{v / 1000:g}" for v in dg.UPPER_SPLIT_HZ)
    assert f"above a split drawn in {low}–{high} kHz made a straight line" in select.DESCRIPTION
