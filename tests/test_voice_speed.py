"""The disguise's faster computations give what the plainer ones they replaced gave (docs/voices.md, "Speed").

Each reference here is the earlier, slower way of computing the same thing, written out plainly."""

from __future__ import annotations

import numpy as np
import pytest

from unseen.audio import disguise as dg
from unseen.audio import excitation as ex
from unseen.audio import upper
from unseen.audio.stft import istft, stft, window_length


def _magnitudes(frames: int, bins: int, seed: int = 0) -> np.ndarray:
    """Speech-like magnitudes: a sloping envelope with harmonic ripple and noise, some frames silent."""
    rng = np.random.default_rng(seed)
    k = np.arange(bins)
    ripple = 1.5 + np.cos(2 * np.pi * k / rng.uniform(8, 30, (frames, 1)))
    m = np.exp(-k / 300.0) * ripple * rng.uniform(0.5, 1.5, (frames, bins))
    m[:3] = 0.0  # digital silence
    return m.astype(np.float32)


def test_the_cepstral_envelope_is_the_inverse_and_forward_fft_s() -> None:
    for rate in (48000, 16000):
        size = window_length(rate, 0.05)
        magnitude = _magnitudes(200, size // 2 + 1)
        cepstrum = np.fft.irfft(np.log(magnitude.astype(np.float64) + dg._FLOOR), n=size, axis=1)
        keep = max(2, int(rate * dg._LIFTER_SECONDS))
        cepstrum[:, keep : size - keep + 1] = 0.0
        expected = np.fft.rfft(cepstrum, axis=1).real
        got = dg._log_envelope(magnitude, rate, dg._LIFTER_SECONDS)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, atol=2e-5 * np.abs(expected).max())


def test_rows_are_interpolated_as_np_interp_does_with_clamped_ends() -> None:
    rng = np.random.default_rng(1)
    rows = rng.standard_normal((50, 129)).astype(np.float32)
    for columns in (129, 40):  # as many positions as bins, and fewer (the warp's bins only)
        positions = rng.uniform(-3.0, 135.0, (50, columns))
        positions[:, 0], positions[:, 1] = 0.0, 128.0  # exactly on the ends
        expected = np.array([np.interp(p, np.arange(129), r) for p, r in zip(positions, rows, strict=True)])
        np.testing.assert_allclose(dg._interp_rows(rows, positions), expected, atol=1e-4)


def test_the_envelope_source_is_the_warp_s_formula() -> None:
    freqs = np.fft.rfftfreq(2048, 1 / 48000)
    formant = np.exp(np.random.default_rng(2).uniform(-0.3, 0.3, (30, 1)))
    alpha, bends = 1.13, (0.03, -0.04, 0.02)
    f = np.maximum(freqs, 1.0)
    u = np.clip(np.log(f / 100.0) / np.log(80.0), 0.0, 1.0)
    log_ratio = (1 / alpha - 1) * np.log(f / (8000.0 / np.pi))[None, :] - np.log(formant)
    for k, b in enumerate(bends, 1):
        log_ratio = log_ratio - b * np.sin(np.pi * k * u)
    expected = np.clip(f * np.exp((1.0 - upper.ramp(f, dg._WARP_FULL_HZ, dg._WARP_NONE_HZ)) * log_ratio), 0.0, 24000.0)
    np.testing.assert_allclose(dg._envelope_source(freqs, 48000, alpha, bends, formant), expected, rtol=1e-5)


def test_the_profile_mixes_the_frames_it_looks_at() -> None:
    rng = np.random.default_rng(3)
    size = 64
    for count in (40, dg._PROFILE_FRAMES + 77):  # every frame; and frames spread over a longer file
        samples = rng.standard_normal((2, count * size + 5)).astype(np.float32)
        starts = np.linspace(0, (count - 1) * size, min(count, dg._PROFILE_FRAMES)).astype(int)
        expected = samples[:, starts[:, None] + np.arange(size)].mean(axis=0, dtype=np.float64)
        np.testing.assert_allclose(dg._profile_frames(samples, count, size), expected, atol=1e-6)


def test_the_pulses_are_summed_as_add_at_did() -> None:
    f0 = np.linspace(90.0, 240.0, 60)
    source = ex.Source(jitter=0.01, seed=5)
    rate, size = 16000, 1024
    length = 59 * size // 4
    got = ex.pulses(f0, rate, size, length, source, 0)
    # the same pulses, placed tap by tap with np.add.at (the earlier way)
    hop = size // 4
    per_sample = np.interp(np.arange(length), np.arange(len(f0)) * hop - size / 2, f0)
    cycles = np.cumsum(per_sample / rate)
    whole = np.floor(cycles)
    at = np.nonzero(np.diff(whole))[0]
    times = at + (whole[at + 1] - cycles[at]) / np.maximum(cycles[at + 1] - cycles[at], 1e-12)
    times = times + source.jitter * rate / per_sample[at] * np.random.default_rng([5, 3, 0]).standard_normal(len(at))
    taps = np.arange(-7, 9)
    positions = np.floor(times).astype(int)[:, None] + taps[None, :]
    distance = positions - times[:, None]
    shape = np.sinc(distance) * (0.5 + 0.5 * np.cos(np.pi * distance / 8)) * np.sqrt(rate / per_sample[at])[:, None]
    inside = (positions >= 0) & (positions < length)
    expected = np.zeros(length)
    np.add.at(expected, positions[inside], shape[inside])
    np.testing.assert_allclose(got, expected, atol=1e-9)


def test_a_frame_s_power_is_its_mean_squared_magnitude() -> None:
    rng = np.random.default_rng(6)
    spectra = (rng.standard_normal((20, 513)) + 1j * rng.standard_normal((20, 513))).astype(np.complex64)
    np.testing.assert_allclose(ex._power(spectra)[:, 0], np.mean(np.abs(spectra) ** 2, axis=1), rtol=1e-5)


def test_the_uniform_noise_synthesises_as_gaussian_noise_does() -> None:
    """Independent parts of the same variance: after overlap-add, the same level as complex Gaussian noise, and
    output samples as Gaussian (each sums hundreds of parts)."""
    size, frames = 1024, 400
    shape = (frames, size // 2 + 1)
    noise = ex._frame_noise(shape, np.random.default_rng(7))
    parts = noise.view(np.float32)
    assert abs(parts.mean()) < 0.01 and abs(parts.var() - 1.0) < 0.01
    assert abs(np.corrcoef(noise.real.ravel(), noise.imag.ravel())[0, 1]) < 0.01
    rng = np.random.default_rng(8)
    gaussian = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
    length = (frames - 5) * size // 4
    uniform_out, gaussian_out = istft(noise, size, length), istft(gaussian, size, length)
    assert abs(np.var(uniform_out) / np.var(gaussian_out) - 1.0) < 0.02
    z = (uniform_out - uniform_out.mean()) / uniform_out.std()
    assert abs(np.mean(z**4) - 3.0) < 0.1  # a Gaussian's kurtosis (a uniform's is 1.8)


def test_an_enveloped_excitation_is_the_excitation_times_its_envelope_at_unit_power() -> None:
    rate = 16000
    size = window_length(rate, 0.05)
    frames = 60
    length = (frames - 5) * size // 4
    args = (np.full(frames, 130.0), np.full(frames, 0.8), np.ones(frames, bool), np.ones(frames), 130.0)
    source = ex.draw(np.random.default_rng(9))
    envelope = dg._log_envelope(_magnitudes(frames, size // 2 + 1, seed=4) + 1e-3, rate, dg._LIFTER_SECONDS)
    plain = ex.spectra(*args, source, rate, size, length)
    enveloped = ex.spectra(*args, source, rate, size, length, envelope=envelope)
    # A frame wholly in the padding around the signal holds no sound (the noise is a signal's, padded as the
    # pulses are): nothing to bring to unit power, and nothing of it reaches the output.
    inside = np.abs(plain).sum(axis=1) > 0
    assert inside.sum() >= frames - 2 and not np.abs(enveloped[~inside]).any()
    expected = plain[inside] * np.exp(envelope[inside])
    expected /= np.sqrt(np.mean(np.abs(expected) ** 2, axis=1, keepdims=True))
    np.testing.assert_allclose(enveloped[inside], expected, atol=1e-4)
    np.testing.assert_allclose(np.mean(np.abs(enveloped[inside]) ** 2, axis=1), 1.0, rtol=1e-4)


def test_stft_still_inverts_exactly() -> None:
    x = np.random.default_rng(10).standard_normal(12345).astype(np.float32)
    for size in (512, 2048):
        spectra = stft(x, size)
        assert spectra.dtype == np.complex64
        np.testing.assert_allclose(istft(spectra, size, len(x)), x, atol=1e-5)
        window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(size) / size)  # periodic Hann
        frame = np.pad(x, size)[5 * size // 4 :][:size]  # the sixth frame: five hops into the padded signal
        np.testing.assert_allclose(spectra[5], np.fft.rfft(frame * window), atol=1e-3)


def test_identical_channels_are_disguised_once_and_come_out_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    t = np.arange(48000) / 48000
    mono = (0.3 * np.sin(2 * np.pi * 140 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    calls = []
    original = dg._channel

    def counted(*args: object) -> None:
        calls.append(1)
        original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(dg, "_channel", counted)
    out = dg.disguise(np.stack([mono, mono]), 48000, np.random.default_rng(11))
    assert len(calls) == 1
    np.testing.assert_array_equal(out[0], out[1])
    assert not np.array_equal(out[0], mono)
