"""Where a voice is heard: Silero VAD (MIT, the batched "sequence" ONNX export shipped in the silero-vad wheel;
src/unseen/models/MODELS.md), run by ONNX Runtime on mono 16 kHz sound in frames of 32 ms.

Chosen over WebRTC's VAD (webrtcvad-wheels) on the development voices and synthetic non-speech (docs/voices-in-
videos.md "Which detector"): both hear about 80% of LibriSpeech reading as speech, but WebRTC's took white
noise and steady tones for speech in every frame and a melody in 87% of them (so `mute` would silence music and
wind), where Silero heard none of them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import onnxruntime as ort

from unseen.audio.streams import VAD_RATE
from unseen.digest import file_sha256

MODEL_FILE = "silero_vad_16k_sequence.onnx"
FRAME = 512  # samples a probability is given for: 32 ms at 16 kHz
FRAME_SECONDS = FRAME / VAD_RATE
_CONTEXT = 64  # samples of the previous frame the model sees before each frame
_BLOCK = 512  # frames per call (16 s): the model's state is carried between calls
THRESHOLD = 0.5  # Silero's own default: a frame above it is speech
# Hysteresis: speech goes on while the probability stays above THRESHOLD - _FALL (Silero's own rule), and a pause
# shorter than _MIN_PAUSE does not end it.
_FALL = 0.15
_MIN_PAUSE = 0.1
MIN_SPEECH = 0.25  # seconds: shorter stretches are not counted as speech heard (a cough, a click)

Span = tuple[float, float]  # seconds from the start of the sound given


@dataclass(frozen=True)
class Heard:
    """What the detector heard in one stream."""

    spans: list[Span]  # speech, in seconds from the stream's first sample, sorted, not overlapping

    @property
    def seconds(self) -> float:
        return sum(end - start for start, end in self.spans)


@cache
def model_path() -> Path:
    return Path(str(resources.files("unseen.models").joinpath(MODEL_FILE)))


@cache
def model_sha256() -> str:
    return file_sha256(model_path())


_lock = threading.Lock()


@cache
def _session() -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # a small recurrent model: more threads only wait on each other
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(model_path()), options, providers=["CPUExecutionProvider"])


def probabilities(mono: np.ndarray) -> np.ndarray:
    """The probability of speech in each 32-ms frame of mono 16 kHz float32 sound (the last frame padded)."""
    mono = np.asarray(mono, np.float32).reshape(-1)
    count = -(-mono.size // FRAME)
    hidden = np.zeros((1, 1, 128), np.float32)
    cell = np.zeros((1, 1, 128), np.float32)
    out = np.zeros(count, np.float32)
    with _lock:
        session = _session()
    for first in range(0, count, _BLOCK):  # the model's windows made a block at a time: memory stays small
        frames = np.zeros((min(_BLOCK, count - first), FRAME), np.float32)
        piece = mono[first * FRAME : (first + frames.shape[0]) * FRAME]
        frames.reshape(-1)[: piece.size] = piece
        context = np.zeros((frames.shape[0], _CONTEXT), np.float32)
        context[1:] = frames[:-1, -_CONTEXT:]
        if first:
            context[0] = mono[first * FRAME - _CONTEXT : first * FRAME]
        windows = np.concatenate((context, frames), axis=1)
        probs, hidden, cell = session.run(["speech_probs", "hn", "cn"], {"input": windows, "h": hidden, "c": cell})
        out[first : first + frames.shape[0]] = np.asarray(probs, np.float32).reshape(-1)
    return out


def frames_to_spans(probs: np.ndarray, threshold: float = THRESHOLD, min_speech: float = MIN_SPEECH) -> list[Span]:
    """Speech stretches from frame probabilities: entered above `threshold`, left when the probability stays
    under threshold - 0.15 for 0.1 s; stretches shorter than `min_speech` dropped."""
    spans: list[Span] = []
    start: int | None = None
    quiet = 0  # frames under the lower threshold since speech was last heard
    pause = max(1, round(_MIN_PAUSE / FRAME_SECONDS))
    for index, p in enumerate(probs.tolist()):
        if start is None:
            if p >= threshold:
                start, quiet = index, 0
            continue
        quiet = quiet + 1 if p < threshold - _FALL else 0
        if quiet >= pause:
            spans.append((start * FRAME_SECONDS, (index - quiet + 1) * FRAME_SECONDS))
            start = None
    if start is not None:
        spans.append((start * FRAME_SECONDS, (len(probs) - quiet) * FRAME_SECONDS))
    return [(a, b) for a, b in spans if b - a >= min_speech]


def hear(mono: np.ndarray, threshold: float = THRESHOLD, min_speech: float = MIN_SPEECH) -> Heard:
    """The speech in mono 16 kHz sound."""
    return Heard(frames_to_spans(probabilities(mono), threshold, min_speech))
