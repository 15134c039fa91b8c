"""Voice disguise towards an average voice: a speaker's spectral balance (and envelopes) replaced by a model's.

A candidate measured by bench/voice.py's `codebook*` methods and not shipped (docs/voices.md says why): it
lives here, outside the package, with its model file. Run from tools/ on sys.path, with unseen installed or
src/ on the path, as the other candidates are.

The average voice is pocketsphinx's en-us acoustic model (extracted once by `tools/extract_sphinx_codebook.py`
into `sphinx_codebook.npy` beside this file, licence `LICENSE-pocketsphinx-en-us`; pocketsphinx is not needed
to read it). It is a phonetically tied mixture model:
42 phone codebooks × 128 Gaussians over 13 MFCC statics, trained on many speakers with cepstral mean
normalisation, so every Gaussian mean is a many-speaker cepstral envelope of one part of one phone, and the
cepstral mean it normalises away is the long-term spectral balance of a recording (speaker and channel). The
features are the model's own: 25 mel bands 130–6800 Hz of pre-emphasised power spectra, an orthonormal DCT,
lifter 22.

Two parts, measured separately (docs/voices.md):

- the long-term balance (`balance_gains`): the file's mean cepstrum (c1–c12) is replaced by the model's
  generic one (pocketsphinx's initial CMN value, `-cmninit 40,3,-1`), optionally with a tilt (c1) drawn per
  file (`Mapping.tilt`: measured, it cost word errors and added nothing measurable, so 0 by default); this is
  one smooth static equaliser per file, applied inside the shipped disguise (`disguise.Voice.evening`);
- the per-frame envelope (`to_average`, kNN-VC's principle with the codebook as the target voice): each
  frame's mean-normalised cepstrum is replaced by the mean of its `neighbours` most likely codebook means
  (c0, the frame's loudness, kept), and the difference imposed on the frame as a smooth gain (its harmonics
  and timing stay).

`disguise()` takes the balance to the average voice and then runs the shipped random disguise (pitch target,
formants, McAdams, colour, drifts, drawn per file from `secrets`), so each file gets another pseudo-speaker
and two runs differ. The per-frame mapping is an option (`Mapping.per_frame`): it measured no better.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np

from unseen.audio import disguise as dg
from unseen.audio import upper
from unseen.audio.stft import istft, stft, window_length

CODEBOOK = Path(__file__).with_name("sphinx_codebook.npy")  # written by tools/extract_sphinx_codebook.py

_FILTERS, _LOW_HZ, _HIGH_HZ = 25, 130.0, 6800.0  # the acoustic model's front end (its feat.params)
_CEPSTRA, _LIFTER = 13, 22
_PRE_EMPHASIS = 0.97
# pocketsphinx's initial cepstral mean for live CMN (`-cmninit 40,3,-1`): the long-term mean cepstrum of the
# speech its models were trained on, speaker-independent (c0, loudness, is never used here).
_GENERIC_MEAN = np.array([40.0, 3.0, -1.0] + [0.0] * (_CEPSTRA - 3))
TILT = 15.0  # the tilt range measured (the bench's `codebook`; dev speakers' own c1: 5th-95th pct -9..21)
_FADE_HZ = (7000.0, 9000.0)  # per-frame gains are held at 6800 Hz's value up to 7 kHz, gone by 9 kHz
_ACTIVE = 1e-3  # frames with less energy than this share of the loud ones' (95th percentile) are left alone
_LEAST_VARIANCE = 1.0  # a Gaussian with a variance below this on any of c1-c12 was never trained: left out
_BALANCE_FRAMES = 3000  # non-overlapping frames (at most, spread over the file) for the long-term mean
_FLOOR = 1e-10

DESCRIPTION = (
    "the voice's long-term spectral balance replaced by an average voice's (pocketsphinx's en-us model), then "
    f"the {dg.DESCRIPTION}"
)


@dataclass(frozen=True)
class Mapping:
    """The options measured: how far the file's balance and (optionally) each frame go to the average voice."""

    tilt: float = 0.0  # the range of a per-file tilt draw (c1 units; 0: the generic tilt, not drawn)
    balance: float = 1.0  # share of the way the long-term mean goes from the file's own to the generic one
    per_frame: bool = False  # also each frame's envelope to its nearest codebook means (to_average)
    neighbours: int = 8  # codebook means averaged per frame


@cache
def _codebook() -> tuple[np.ndarray, np.ndarray]:
    """The statics' means and variances of every trained Gaussian of every phone, in one list (≈5337 × 13)."""
    means, variances = np.load(CODEBOOK).reshape(2, -1, _CEPSTRA)
    kept = np.all(variances[:, 1:] > _LEAST_VARIANCE, axis=1)
    return means[kept].astype(np.float32), variances[kept].astype(np.float32)


@cache
def _scorer() -> tuple[np.ndarray, np.ndarray]:
    """-2 log-likelihood of c1-c12 under each diagonal Gaussian as one product: [x², x, 1] @ this (25 × N)."""
    means, variances = _codebook()
    mu, inv = means[:, 1:].astype(np.float64), 1.0 / variances[:, 1:].astype(np.float64)
    constant = np.sum(mu**2 * inv, axis=1) + np.sum(np.log(variances[:, 1:]), axis=1)
    return np.vstack([inv.T, -2 * (mu * inv).T, constant[None]]).astype(np.float32), mu.astype(np.float32)


def _mel(hz: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + hz / 700.0)


@cache
def _filters(size: int, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Bins × 25 triangular mel filters (each averaging the pre-emphasised power), and their centres (Hz)."""
    freqs = np.fft.rfftfreq(size, 1 / rate)
    edges = 700.0 * (10.0 ** (np.linspace(_mel(np.array(_LOW_HZ)), _mel(np.array(_HIGH_HZ)), _FILTERS + 2) / 2595) - 1)
    left, centre, right = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    weights = np.maximum(0.0, np.minimum((freqs - left) / (centre - left), (right - freqs) / (right - centre)))
    weights /= np.maximum(weights.sum(axis=1, keepdims=True), _FLOOR)
    emphasis = np.abs(1.0 - _PRE_EMPHASIS * np.exp(-2j * np.pi * freqs / rate)) ** 2  # y[n] = x[n] - 0.97 x[n-1]
    return (weights * emphasis).T.astype(np.float32), edges[1:-1]


@cache
def _dct() -> np.ndarray:
    """The orthonormal DCT-II of the 25 log mel powers, first 13 rows (Sphinx's `-transform dct`)."""
    rows, bands = np.arange(_CEPSTRA)[:, None], np.arange(_FILTERS)[None, :]
    matrix = np.sqrt(2.0 / _FILTERS) * np.cos(np.pi * rows * (bands + 0.5) / _FILTERS)
    matrix[0] /= np.sqrt(2.0)
    return matrix


def _lifter() -> np.ndarray:
    return 1.0 + _LIFTER / 2 * np.sin(np.pi * np.arange(_CEPSTRA) / _LIFTER)


def cepstra(power: np.ndarray, size: int, rate: int) -> np.ndarray:
    """Frames × 13 liftered MFCCs of power spectra (frames × bins), as the acoustic model's front end makes them."""
    weights, _ = _filters(size, rate)
    log_mel = np.log(power.astype(np.float32) @ weights + _FLOOR)
    return (log_mel @ _dct().T) * _lifter()


def log_mel(cepstrum: np.ndarray) -> np.ndarray:
    """The smooth log mel-band powers (frames × 25) that 13 liftered cepstra describe."""
    return (cepstrum / _lifter()) @ _dct()  # the other 12 cepstra zero: the orthonormal inverse's first rows


def _to_freqs(log_power: np.ndarray, freqs: np.ndarray, size: int, rate: int) -> np.ndarray:
    """Log mel-band power changes (rows × 25) as log-magnitude gains at `freqs` (held beyond the end bands)."""
    _, centres = _filters(size, rate)
    position = np.interp(freqs, centres, np.arange(_FILTERS))
    low = np.minimum(position.astype(int), _FILTERS - 2)
    weight = position - low
    return (log_power[:, low] * (1 - weight) + log_power[:, low + 1] * weight) / 2


def _active(energy: np.ndarray) -> np.ndarray:
    return energy > _ACTIVE * np.percentile(energy, 95) if len(energy) else energy > 0


def balance_gains(samples: np.ndarray, rate: int, tilt: float = 0.0, share: float = 1.0) -> tuple[float, ...]:
    """Log gains on `disguise._PROFILE_FREQS` taking the file's long-term mean cepstrum `share` of the way to the
    generic one with c1 moved by `tilt`; () without sound. Non-overlapping frames of the channels' mix."""
    size = window_length(rate, 0.05)
    count = samples.shape[1] // size if samples.ndim == 2 else 0
    if count == 0:
        return ()
    starts = np.linspace(0, (count - 1) * size, min(count, _BALANCE_FRAMES)).astype(int)
    frames = samples[:, starts[:, None] + np.arange(size)].mean(axis=0, dtype=np.float64)
    power = np.abs(np.fft.rfft(frames * np.hanning(size), axis=1)) ** 2
    active = _active(power.sum(axis=1))
    if not active.any() or not np.any(power[active]):
        return ()
    mean = cepstra(power[active], size, rate).mean(axis=0)
    change = share * (_GENERIC_MEAN - mean)
    change[0], change[1] = 0.0, change[1] + share * tilt
    gains = _to_freqs(log_mel(change[None]), dg._PROFILE_FREQS, size, rate)[0]
    return tuple(float(g) for g in gains)


def nearest(features: np.ndarray, neighbours: int) -> np.ndarray:
    """Per frame (mean-normalised cepstra, frames × 13), the mean c1-c12 of the `neighbours` most likely
    codebook Gaussians (likelihood of c1-c12; c0, loudness, is left out of the match)."""
    weights, mu = _scorer()
    x = features[:, 1:].astype(np.float32)
    score = np.hstack([x**2, x, np.ones((len(x), 1), np.float32)]) @ weights
    k = max(1, min(neighbours, len(mu)))
    best = np.argpartition(score, k - 1, axis=1)[:, :k]
    return mu[best].mean(axis=1)


def frame_gains(magnitude: np.ndarray, size: int, rate: int, neighbours: int) -> np.ndarray:
    """Per frame and bin, the log-magnitude gain taking each frame's envelope to its nearest codebook means'."""
    power = magnitude.astype(np.float64) ** 2
    active = _active(power.sum(axis=1))
    if not active.any():
        return np.zeros(magnitude.shape, np.float32)
    features = cepstra(power[active], size, rate)
    features -= features.mean(axis=0)
    change = np.zeros((len(magnitude), _CEPSTRA))
    change[active, 1:] = nearest(features, neighbours) - features[:, 1:]
    freqs = np.fft.rfftfreq(size, 1 / rate)
    return (_to_freqs(log_mel(change), freqs, size, rate) * (1.0 - upper.ramp(freqs, *_FADE_HZ))).astype(np.float32)


def to_average(samples: np.ndarray, rate: int, neighbours: int = 8) -> np.ndarray:
    """Every channel's frames taken to their nearest codebook envelopes (no random part); same shape and length.
    Each frame keeps its energy and its phases."""
    if samples.ndim != 2:
        raise ValueError(f"samples must be channels × n, not of shape {samples.shape}")
    size = window_length(rate, 0.05)
    out = np.array(samples, np.float64)
    for index, channel in enumerate(samples):
        if len(channel) == 0:
            continue
        spectra = stft(channel, size)
        shaped = spectra * np.exp(frame_gains(np.abs(spectra), size, rate, neighbours))
        before = np.sum(np.abs(spectra) ** 2, axis=1, keepdims=True)
        after = np.sum(np.abs(shaped) ** 2, axis=1, keepdims=True)
        shaped *= np.sqrt(before / np.maximum(after, _FLOOR))
        out[index] = istft(shaped, size, len(channel))
    return out.astype(samples.dtype, copy=False)


def disguise(
    samples: np.ndarray, rate: int, rng: np.random.Generator | None = None, mapping: Mapping | None = None
) -> np.ndarray:
    """`samples` (channels × n, float32 in [-1, 1]) in an average voice's balance, then disguised by the shipped
    method; one draw per call (from a cryptographic seed unless `rng` is given), every channel alike."""
    if rng is None:
        rng = np.random.default_rng(secrets.randbits(128))
    mapping = mapping or Mapping()
    if samples.ndim != 2:
        raise ValueError(f"samples must be channels × n, not of shape {samples.shape}")
    if mapping.per_frame:
        samples = to_average(samples, rate, mapping.neighbours)
    tilt = float(rng.uniform(-mapping.tilt, mapping.tilt)) if mapping.tilt > 0 else 0.0
    voice = dg.draw(rng, dg.profile(samples, rate))
    voice = replace(voice, evening=balance_gains(samples, rate, tilt, mapping.balance))
    return dg.transform(samples, rate, voice)
