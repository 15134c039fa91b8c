"""Which voice-activity detector: Silero VAD (shipped, src/unseen/models) against WebRTC's (webrtcvad-wheels).

Every 10th recording of ../shared/data/voices (LibriSpeech read speech, about 80% of its time voiced), alone
and under white noise at -30 dB, and 10 s each of synthetic non-speech: white noise at -20 dB, pink-ish noise,
a 3-tone chord, a melody of 0.5-s notes, bursts of decaying noise (clicks, drums) and silence. Printed: the
share of 32-ms (Silero) or 30-ms (WebRTC) frames heard as speech in each, and speed in seconds of sound per
second of wall time.

    .venv/bin/python -m pip install webrtcvad-wheels   # (the bench extra)
    .venv/bin/python bench/vad_choice.py               # about a minute on 2 busy cores
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from unseen.audio import vad  # noqa: E402

VOICES = ROOT.parent / "shared" / "data" / "voices"
RATE = 16000


def load(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        resampler = av.AudioResampler("flt", "mono", RATE)
        out = [f.to_ndarray().reshape(-1) for frame in container.decode(audio=0) for f in resampler.resample(frame)]
    return np.concatenate(out)


def nonspeech(rng: np.random.Generator) -> dict[str, np.ndarray]:
    t = np.arange(RATE * 10) / RATE
    walk = np.cumsum(rng.standard_normal(t.size))
    pink = walk - np.convolve(walk, np.ones(400) / 400, "same")
    notes = np.repeat(rng.choice([262, 294, 330, 349, 392, 440, 494], 20), RATE // 2)
    bursts = np.repeat(rng.random(40) < 0.5, RATE // 4) * rng.standard_normal(t.size)
    return {
        "white noise -20 dB": 0.1 * rng.standard_normal(t.size),
        "pink-ish noise": pink / np.abs(pink).max() * 0.3,
        "3-tone chord": sum(0.1 * np.sin(2 * np.pi * f * t) for f in (220, 277, 330)),
        "melody": 0.2 * np.sin(2 * np.pi * notes * t),
        "clicks/drums": 0.3 * bursts * np.exp(-(np.arange(t.size) % (RATE // 4)) / 400),
        "silence": np.zeros(t.size),
    }


def silero(sound: np.ndarray) -> np.ndarray:
    return vad.probabilities(sound) >= vad.THRESHOLD


def webrtc(mode: int) -> Callable[[np.ndarray], np.ndarray]:
    import webrtcvad

    def run(sound: np.ndarray) -> np.ndarray:
        detector, pcm = webrtcvad.Vad(mode), (np.clip(sound, -1, 1) * 32767).astype(np.int16)
        frames = len(pcm) // 480
        return np.array([detector.is_speech(pcm[i * 480 : (i + 1) * 480].tobytes(), RATE) for i in range(frames)])

    return run


def main() -> None:
    files = sorted(VOICES.glob("*.flac"))[::10]
    if not files:
        sys.exit(f"no voices in {VOICES}")
    rng = np.random.default_rng(0)
    speech = [load(f) for f in files]
    others = {name: sound.astype(np.float32) for name, sound in nonspeech(rng).items()}
    seconds = sum(s.size for s in speech) / RATE
    print(f"{len(files)} recordings, {seconds:.0f} s of speech")
    for name, detect in (("silero", silero), ("webrtc mode 2", webrtc(2)), ("webrtc mode 3", webrtc(3))):
        started = time.perf_counter()
        heard = [float(detect(s).mean()) for s in speech]
        speed = seconds / (time.perf_counter() - started)
        noisy = [float(detect(s + 0.03 * rng.standard_normal(s.size).astype(np.float32)).mean()) for s in speech]
        alarms = ", ".join(f"{k} {float(detect(v).mean()):.2f}" for k, v in others.items())
        print(
            f"{name}: speech heard {np.mean(heard):.2f} (lowest {np.min(heard):.2f}), noisy {np.mean(noisy):.2f}; "
            f"{speed:.0f}x real time; non-speech heard as speech: {alarms}"
        )


if __name__ == "__main__":
    main()
