"""A synthetic voice source: the speaker's own excitation replaced by a clean one drawn per file.

The envelope-side disguise (`disguise.py`) moves the speaker's own fine structure (the harmonics' amplitudes
and phases beyond the envelope, breathiness, jitter and shimmer, creak, the glottal source's tilt) and keeps
the shape of their intonation; both carry identity. Here the fine structure is not moved but rebuilt, as a
channel vocoder does: a band-limited pulse train at a new F0 contour (the speaker's contour taken to the
file's pitch target, its range around the median scaled by a random factor, its cycle-to-cycle detail gone,
a random jitter of its own), mixed per frame and band with noise by the input's voicing and a random
breathiness, tilted by a random slope. `spectra` returns that excitation as short-time spectra whose every
frame has unit mean power, so any envelope (the warped one here, a codebook's elsewhere) multiplies it.

Unvoiced frames (fricatives, pauses) are shaped noise, and so is every frame outside the speech the voice-
activity detector heard where the caller gives it (a pause's room noise or hum is not rebuilt as a buzz); silence
stays silent, since each frame's energy is set by the caller. The parameters (`Source`) are drawn per file with
the rest of the disguise and forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .stft import OVERLAP, stft

# The ranges drawn per file (uniformly; docs/voices.md: what was measured).
RANGE = (0.4, 1.2)  # the intonation's range around the median F0 is scaled by this (log)
TILT_DB = (-3.0, 3.0)  # the source's slope above 500 Hz, dB per octave
BREATH = (0.05, 0.3)  # share of a voiced frame's power that is noise
VOICED_HZ = (4000.0, 6000.0)  # above this, every frame is noise only (a vocoder's maximum voiced frequency)
JITTER = (0.0, 0.01)  # random deviation of each glottal pulse's time, as a share of the period
SPREAD_MS = (4.0, 8.0)  # each pulse is spread into a chirp this long (0-8 kHz), up or down: a random dispersion

_F0_LIMITS_HZ = (50.0, 500.0)
_VOICING = (0.5, 0.75)  # normalised autocorrelation: below the first, noise; above the second, fully voiced
_SINC_TAPS = 16  # the pulses' fractional delay: a Hann-windowed sinc this long
_TILT_HZ = 500.0
_SPREAD_HZ = 8000.0


@dataclass(frozen=True)
class Source:
    """One draw of the excitation's parameters; lives only inside a call of the disguise (and in tests/bench)."""

    range: float = 1.0  # scale of log F0's deviations from the median (1: the speaker's range, 0: monotone)
    tilt: float = 0.0  # dB per octave above 500 Hz
    breath: float = 0.1  # noise's share of a voiced frame's power
    voiced_hz: float = 5000.0  # the highest voiced frequency
    jitter: float = 0.0  # pulse-time jitter, share of the period
    spread: float = 0.0  # seconds between the group delays at 0 and 8 kHz (signed): pulses become chirps
    dynamics: float = 0.0  # share of each frame's level deviation (log) from its 0.3-s surroundings removed
    seed: int = 0  # the seed of the noise and the jitter


@dataclass(frozen=True)
class Changes:
    """Per frame, what is added to a source's range, tilt and breathiness (a voice that changes along the file:
    tools/candidates/wander.py, not shipped); the sums are kept within sensible limits."""

    range: np.ndarray
    tilt: np.ndarray
    breath: np.ndarray


def draw(rng: np.random.Generator) -> Source:
    """A random source from the ranges above."""
    return Source(
        range=float(rng.uniform(*RANGE)),
        tilt=float(rng.uniform(*TILT_DB)),
        breath=float(rng.uniform(*BREATH)),
        voiced_hz=float(rng.uniform(*VOICED_HZ)),
        jitter=float(rng.uniform(*JITTER)),
        spread=float(rng.choice((-1.0, 1.0)) * rng.uniform(*SPREAD_MS) / 1000),
        seed=int(rng.integers(2**63)),
    )


def contour(
    f0: np.ndarray,
    voicing: np.ndarray,
    pitch: np.ndarray,
    centre: float,
    source: Source,
    scale: np.ndarray | None = None,
) -> np.ndarray:
    """The new F0 (Hz) per frame: the input's voiced F0 (median-filtered: octave errors and micro-prosody gone),
    its log deviation from `centre` scaled by `source.range` (or per frame by `scale`), times the pitch ratio
    `pitch` (which takes the centre to the file's target); unvoiced frames take their voiced neighbours' values."""
    voiced = voicing > 0
    if not voiced.any():
        return np.clip(np.full(len(f0), (centre or 120.0)) * pitch, *_F0_LIMITS_HZ)
    log_f0 = np.log(np.clip(f0, *_F0_LIMITS_HZ))
    frames = np.arange(len(f0))
    filled = np.interp(frames, frames[voiced], log_f0[voiced])
    if len(filled) >= 5:
        filled[2:-2] = np.median(sliding_window_view(filled, 5), axis=1)
    if len(filled) >= 3:  # a short moving average: the contour is smooth between frames
        filled[1:-1] = np.mean(sliding_window_view(filled, 3), axis=1)
    middle = np.log(centre) if centre > 0 else float(np.median(log_f0[voiced]))
    deviation = np.clip(filled - middle, -np.log(2), np.log(2))
    return np.clip(np.exp(middle + (source.range if scale is None else scale) * deviation) * pitch, *_F0_LIMITS_HZ)


def voicing(strength: np.ndarray, loud: np.ndarray, speech: np.ndarray | None = None) -> np.ndarray:
    """Per frame, 0 (noise) to 1 (voiced) from the pitch track's normalised autocorrelation, loud frames only;
    with `speech` (per frame, True where the voice-activity detector hears speech), frames outside it are noise:
    room noise or a hum in a pause that the pitch track finds periodic is not rebuilt as a buzz. None: every loud
    frame may be voiced (the bench's anchors, and an excerpt that is speech only)."""
    v = np.clip((strength - _VOICING[0]) / (_VOICING[1] - _VOICING[0]), 0.0, 1.0) * loud
    if len(v) >= 3:  # a frame between two voiced ones is not a gap of noise
        v[1:-1] = np.maximum(v[1:-1], np.minimum(v[:-2], v[2:]))
    return v if speech is None else v * speech  # after the gap filling: no frame outside speech is voiced


def pulses(f0: np.ndarray, rate: int, size: int, length: int, source: Source, offset: int) -> np.ndarray:
    """A band-limited pulse train of `length` samples following the per-frame F0 (frame centres as `stft`'s)."""
    hop = size // OVERLAP
    centres = np.arange(len(f0)) * hop - size / 2
    per_sample = np.interp(np.arange(length), centres, f0)
    cycles = np.cumsum(per_sample / rate)
    whole = np.floor(cycles)
    at = np.nonzero(np.diff(whole))[0]  # the pulse lies between sample at and at + 1
    frac = (whole[at + 1] - cycles[at]) / np.maximum(cycles[at + 1] - cycles[at], 1e-12)
    times = at + frac
    if source.jitter > 0 and len(times):
        rng = np.random.default_rng([source.seed, 3, offset])
        times = times + source.jitter * rate / per_sample[at] * rng.standard_normal(len(times))
    # each pulse carries its period's worth of energy, so a frame's level does not depend on its F0
    gains = np.sqrt(rate / per_sample[at])
    taps = np.arange(-_SINC_TAPS // 2 + 1, _SINC_TAPS // 2 + 1)
    base = np.floor(times).astype(int)
    positions = base[:, None] + taps[None, :]
    distance = positions - times[:, None]
    shape = np.sinc(distance) * (0.5 + 0.5 * np.cos(np.pi * distance / (_SINC_TAPS / 2)))
    inside = (positions >= 0) & (positions < length)  # bincount sums the taps that fall on one sample
    return np.bincount(positions[inside], (shape * gains[:, None])[inside], minlength=length)[:length]


def spectra(
    f0: np.ndarray,
    strength: np.ndarray,
    loud: np.ndarray,
    pitch: np.ndarray,
    centre: float,
    source: Source,
    rate: int,
    size: int,
    length: int,
    offset: int = 0,
    changes: Changes | None = None,
    envelope: np.ndarray | None = None,
    power: np.ndarray | None = None,
    speech: np.ndarray | None = None,
) -> np.ndarray:
    """The excitation's short-time spectra (frames × bins, as `stft(signal, size)` of a signal of `length`), each
    frame of unit mean power: `f0`, `strength` (the input's pitch track), `loud` (frames worth voicing) and
    `pitch` (the ratio per frame that takes the file's median F0 `centre` to its target) per frame; `changes`
    moves the source's range, tilt and breathiness per frame. With `envelope` (log gains, frames × bins), the
    excitation times that envelope is what each frame's power is measured on; with `power` (frames × 1), each
    frame's mean power is that instead of 1. With `speech` (per frame, True inside speech heard), only those
    frames may be voiced (`voicing`)."""
    v = voicing(strength, loud, speech)
    frames = np.ones(len(f0))
    scale, tilt, breath = source.range * frames, source.tilt * frames, source.breath * frames
    if changes is not None:
        scale = np.maximum(scale + changes.range, 0.0)
        tilt = tilt + changes.tilt
        breath = np.clip(breath + changes.breath, 0.0, 0.9)
    train = stft(pulses(contour(f0, v, pitch, centre, source, scale), rate, size, length, source, offset), size)
    freqs = np.fft.rfftfreq(size, 1 / rate)
    # Per frame and bin the pulses' share of the power is voiced(frame) x band(bin): band is 1 up to the highest
    # voiced frequency and falls to 0 at 1.3 times it, so each frame is pulses and noise mixed by two numbers below
    # `full`, noise alone from `top` up, and a matrix of shares only between (a few dozen bins).
    band = 0.5 + 0.5 * np.cos(np.pi * np.clip((freqs - source.voiced_hz) / (0.3 * source.voiced_hz), 0.0, 1.0))
    full, top = int(np.count_nonzero(band >= 1.0)), int(np.count_nonzero(band > 0.0))  # band never rises again
    voiced = (v * (1 - breath)).astype(np.float32)[:, None]
    excitation = _noise(train.shape, np.random.default_rng([source.seed, 4, offset]), size, length)  # E|.|² = 2
    # An all-pass of linear group delay: the pulses' harmonics no longer all peak at once (a pulse train's crest
    # factor would force the file's level down), and the phase structure is the file's draw, not the speaker's.
    pulsed = train[:, :top] * np.exp(1j * np.pi * source.spread * freqs[:top] ** 2 / _SPREAD_HZ).astype(np.complex64)
    pulsed *= np.sqrt(2 / (_power(train) + 1e-20)).astype(np.float32)  # mean power 2 per bin, as the noise's
    share = voiced * band[None, full:top].astype(np.float32)
    excitation[:, :full] *= np.sqrt(1 - voiced)
    excitation[:, :full] += np.sqrt(voiced) * pulsed[:, :full]
    excitation[:, full:top] *= np.sqrt(1 - share)
    excitation[:, full:top] += np.sqrt(share) * pulsed[:, full:]
    octaves = np.log2(np.maximum(freqs, _TILT_HZ) / _TILT_HZ)
    gains = tilt[:, None] * octaves[None, :] if changes is not None else (source.tilt * octaves)[None, :]
    log_gain = (gains * (np.log(10) / 20)).astype(np.float32)  # the source's tilt
    if envelope is not None:
        log_gain = np.add(log_gain, envelope, dtype=np.float32)
    parts = excitation.view(np.float32).reshape(*excitation.shape, 2)  # real multiplications, no complex copy
    parts *= np.exp(log_gain)[..., None]
    wanted = 1.0 if power is None else power
    parts *= np.sqrt(wanted / (_power(excitation) + 1e-20)).astype(np.float32)[..., None]
    return excitation


# True: the noise is one white signal's spectra, and overlap-add gives back the power each frame is given. False
# (shipped): each frame's noise drawn apart, which overlap-add brings out 6 dB under it (fricatives, breath, the
# noise above the voiced band, pauses). Measured 2026-12-06 (docs/voices.md, "Noise at its own level"): the right
# level cost the independent verifier (CAM++) 3 points of ignorant EER on 48 speakers and gave no STOI, so the
# quieter noise stays; the bench's `*-levelnoise` methods set this to True.
CONSISTENT_NOISE = False


def _noise(shape: tuple[int, ...], rng: np.random.Generator, size: int = 0, length: int = 0) -> np.ndarray:
    """White noise's short-time spectra (`shape`: frames × bins of `stft(signal of length, size)`), of mean power 2
    per bin: the spectra of one white signal, so that overlap-add gives back the power each frame is given.

    Spectra drawn frame by frame, independently (as before 2026-12-06, and without `size`), are no signal's:
    each frame's inverse is a whole window of noise, the frames' overlapping windows add incoherently, and the
    output holds a quarter of the power (-6 dB; the hop is a quarter window, squared Hann windows sum to 1.5 and
    hold 3/8 of the window's length): fricatives, breath and pauses came out 5.5-6 dB under their input.
    """
    if size and CONSISTENT_NOISE:
        # E|X|² per bin = variance × Σ w² = variance × 3 size / 8: a variance of 16 / (3 size) gives 2.
        signal = rng.random(length, dtype=np.float32)
        signal -= np.float32(0.5)
        signal *= np.float32(np.sqrt(12.0 * 16.0 / (3.0 * size)))  # uniform: variance 1/12 before this
        spectra = stft(signal, size)
        if spectra.shape != shape:
            raise ValueError(f"noise spectra {spectra.shape}, excitation {shape}")
        return spectra
    return _frame_noise(shape, rng)


def _frame_noise(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Complex white noise, each real and imaginary part independent, of mean 0 and variance 1 (uniform).

    Uniform, not Gaussian: numpy's Gaussian draws were a fifth of the disguise's time once the rest was made
    faster (47 ms of a 15-s block at 48 kHz), uniform ones cost under a third of that (14 ms). Every part is
    independent with the same variance as before, so the noise's spectrum and level after synthesis are the
    same in expectation; each output sample sums hundreds of these parts, so it is Gaussian all the same
    (tests/test_voice_speed.py measures both)."""
    noise = np.empty(shape, np.complex64)
    parts = noise.view(np.float32)  # real and imaginary parts side by side
    rng.random(dtype=np.float32, out=parts)
    parts -= np.float32(0.5)
    parts *= np.float32(np.sqrt(12.0))  # uniform on ±√3: variance 1
    return noise


def levels(energy: np.ndarray, frame_rate: float, source: Source) -> np.ndarray:
    """Per frame energies (frames × 1) with `source.dynamics` of their log deviation from a 0.3-s moving average
    removed: the speaker's own accents and shimmer flattened. Silent frames stay silent."""
    if source.dynamics <= 0 or len(energy) < 3:
        return energy
    width = max(3, int(0.3 * frame_rate) | 1)
    kernel = np.hanning(width + 2)[1:-1]
    smooth = np.convolve(energy[:, 0], kernel / kernel.sum(), mode="same")[:, None]
    keep = 1 - source.dynamics
    return np.where(energy > 0, energy**keep * np.maximum(smooth, 1e-30) ** source.dynamics, 0.0)


def _power(spectra: np.ndarray) -> np.ndarray:
    """Each frame's mean power (frames × 1), in one pass over the complex64 frames."""
    pairs = spectra.view(np.float32)  # real and imaginary parts side by side
    return (np.einsum("ij,ij->i", pairs, pairs) / spectra.shape[1])[:, None]
