"""Resemblyzer itself, as published, as a verifier for bench/voice.py (`--second resemblyzer`).

unseen's GE2E (src/unseen/audio/speaker.py) is Resemblyzer's network converted to ONNX with a numpy front end, and
it takes part in the disguise's choice. The issue names Resemblyzer as the neural verifier a judge may use, and a
judge would run the package: its own front end (librosa's resampling and mel filters, webrtcvad's silence trimming
at mode 3, where unseen gates by energy) on the torch network. This verifier is that, so the bench can say how much
of the GE2E column survives the front-end differences. It is the same network and weights as the choice's, so it is
no independent reading: a network of another kind is (voice_second_verifier.py, or none).

Install (bench only; never unseen's): `make bench-resemblyzer`, i.e. torch (the bench-second extra) and the
Resemblyzer 0.1.4 wheel (Apache-2.0) with librosa, without Resemblyzer's own pins (webrtcvad-wheels, already in the
bench extra, stands in for webrtcvad, which needs a compiler).
"""

from __future__ import annotations

import warnings

import numpy as np

from unseen.audio.speaker import to_16k


class ResemblyzerVerifier:
    """Resemblyzer's `preprocess_wav` and `VoiceEncoder.embed_utterance`: L2-normalised 256-d embeddings."""

    name = "Resemblyzer 0.1.4 (torch, webrtcvad)"

    def __init__(self) -> None:
        import torch

        torch.set_num_threads(1)  # the bench's numpy runs on one thread too; two cores are shared
        with warnings.catch_warnings():  # scipy.ndimage.morphology's deprecation, in the package's own import
            warnings.simplefilter("ignore")
            from resemblyzer import VoiceEncoder, preprocess_wav
        self.preprocess, self.encoder = preprocess_wav, VoiceEncoder("cpu", verbose=False)

    def embed(self, x: np.ndarray, rate: int) -> np.ndarray:
        # Resampled by unseen's to_16k (what preprocess_wav would do with librosa) so that only the package's own
        # 16-kHz front end (volume, trimming, mel) and network differ from unseen's GE2E.
        wav = self.preprocess(to_16k(x, rate).astype(np.float32))
        if wav.size < 1600:  # webrtcvad trimmed nearly everything: embed the untrimmed utterance instead
            wav = to_16k(x, rate).astype(np.float32)
        return np.asarray(self.encoder.embed_utterance(wav), np.float64)
