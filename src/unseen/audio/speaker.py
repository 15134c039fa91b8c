"""Who is speaking, as a vector: Resemblyzer's GE2E voice encoder (Apache-2.0), run with ONNX Runtime.

The network was converted once from Resemblyzer 0.1.4's `pretrained.pt` by `tools/convert_resemblyzer.py`
(see `models/MODELS.md`); the front end is Resemblyzer's, in numpy: 16 kHz, volume raised to −30 dBFS
(never lowered), long pauses dropped, a 40-band mel power spectrogram (librosa's Slaney mel filters, 25 ms
Hann windows, 10 ms hop), partial utterances of 160 frames (1.6 s) at 1.3 per second, their embeddings
averaged and L2-normalised. Resemblyzer drops pauses with webrtcvad; here an energy gate does that job.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from itertools import pairwise
from math import gcd
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly  # type: ignore[import-untyped]  # scipy ships no type information

from unseen import device

MODEL_NAME = "voice_encoder"
RATE = 16000
# The cosine similarity above which two stretches are taken for the same speaker. Calibrated on the dev voices
# (`bench/voice.py --calibrate --speakers 251`: 251 LibriSpeech speakers, each recording cut into halves of
# 1-9 s, median 7 s): the equal-error threshold of originals' same- vs different-speaker pairs, 0.726 at an EER of 2.8%.
# Two stretches of the same words score higher than two of different words; see docs/voices.md.
MATCH_THRESHOLD = 0.73

_WINDOW, _HOP, _MELS = 400, 160, 40  # 25 ms, 10 ms at 16 kHz
_PARTIAL = 160  # frames per partial utterance: 1.6 s
_PARTIALS_PER_SECOND, _MIN_COVERAGE = 1.3, 0.75
_TARGET_DBFS = -30.0
_GATE_WINDOW = 480  # 30 ms, as Resemblyzer's VAD
_GATE_DB = 40.0  # a window this far below the loud windows is a pause
_GATE_KEEP = 6  # pauses up to this many windows stay, as Resemblyzer keeps short ones


def model_path() -> Path:
    return device.model_path(MODEL_NAME)


def to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono float samples resampled to 16 kHz."""
    samples = np.asarray(samples, dtype=np.float64)
    if rate == RATE:
        return samples
    common = gcd(int(rate), RATE)
    return resample_poly(samples, RATE // common, int(rate) // common)


@cache
def _mel_filters() -> np.ndarray:
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=40): Slaney's mel scale and area normalisation."""

    def to_mel(hz: np.ndarray) -> np.ndarray:
        linear = hz / (200.0 / 3)
        return np.where(hz >= 1000.0, 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) / (np.log(6.4) / 27), linear)

    def to_hz(mel: np.ndarray) -> np.ndarray:
        return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27) * (mel - 15.0)), mel * (200.0 / 3))

    fft_freqs = np.fft.rfftfreq(_WINDOW, 1 / RATE)
    edges = to_hz(np.linspace(to_mel(np.array(0.0)), to_mel(np.array(RATE / 2)), _MELS + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    return weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]


def mel_spectrogram(wav: np.ndarray) -> np.ndarray:
    """Frames × 40 mel power spectrogram (not log), as librosa.feature.melspectrogram with centred frames."""
    padded = np.pad(wav, _WINDOW // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, _WINDOW)[::_HOP]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(_WINDOW) / _WINDOW)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return (power @ _mel_filters().T).astype(np.float32)


def _normalise_volume(wav: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(wav**2))) if wav.size else 0.0
    if rms <= 0.0:
        return wav
    change = _TARGET_DBFS - 20 * np.log10(rms)
    return wav * 10 ** (change / 20) if change > 0 else wav


def _drop_pauses(wav: np.ndarray) -> np.ndarray:
    """Pauses longer than about 0.2 s taken out, as Resemblyzer's preprocessing does (with energy, not webrtcvad)."""
    count = len(wav) // _GATE_WINDOW
    if count < 2:
        return wav
    windows = wav[: count * _GATE_WINDOW].reshape(count, _GATE_WINDOW)
    level = 10 * np.log10(np.mean(windows**2, axis=1) + 1e-12)
    loud = level > np.percentile(level, 95) - _GATE_DB
    # Pauses' edges stay: each loud window keeps _GATE_KEEP windows either side. "full" and the slice, not "same":
    # "same" gives the kernel's length when the recording has fewer windows than it (under 0.4 s).
    spread = np.convolve(loud.astype(float), np.ones(2 * _GATE_KEEP + 1), mode="full")
    kept = spread[_GATE_KEEP : _GATE_KEEP + count] > 0
    return windows[kept].reshape(-1) if kept.any() else wav


def _partial_starts(n_samples: int) -> list[int]:
    """First frames of Resemblyzer's partial utterances (VoiceEncoder.compute_partial_slices, rate 1.3)."""
    n_frames = int(np.ceil((n_samples + 1) / _HOP))
    step = int(np.round(RATE / _PARTIALS_PER_SECOND / _HOP))
    starts = list(range(0, max(1, n_frames - _PARTIAL + step + 1), step))
    if len(starts) > 1 and (n_samples - starts[-1] * _HOP) / (_PARTIAL * _HOP) < _MIN_COVERAGE:
        starts.pop()  # too little of the last partial would be speech
    return starts


def embed(samples: np.ndarray, rate: int) -> np.ndarray:
    """The speaker embedding (256 floats, L2 norm 1) of mono speech at any sample rate."""
    return embed_many([samples], rate)[0]


def embed_many(recordings: Sequence[np.ndarray], rate: int) -> list[np.ndarray]:
    """`embed` of each recording, their partial utterances run through the model in one batch: one call costs
    about as much as five of a few partials each (the farthest-of-four choice embeds five 3-s excerpts)."""
    partials = [_partials(samples, rate) for samples in recordings]
    (embeddings,) = device.session(MODEL_NAME).run(None, {"mels": np.concatenate(partials)})
    bounds = np.cumsum([0] + [len(p) for p in partials])
    return [_unit(embeddings[a:b].mean(axis=0)) for a, b in pairwise(bounds)]


def _partials(samples: np.ndarray, rate: int) -> np.ndarray:
    """The mel spectrograms of one recording's partial utterances (partials × frames × bands)."""
    wav = _drop_pauses(_normalise_volume(to_16k(np.asarray(samples).reshape(-1), rate)))
    starts = _partial_starts(len(wav))
    wav = np.pad(wav, (0, max(0, (starts[-1] + _PARTIAL) * _HOP - len(wav))))
    mel = mel_spectrogram(wav)
    return np.stack([mel[s : s + _PARTIAL] for s in starts])


def _unit(mean: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm > 0 else mean).astype(np.float32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings (1: the same direction)."""
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b) / denominator) if denominator > 0 else 0.0
