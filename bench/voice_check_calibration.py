"""What the voice check should call a voice still there: the same 3-s stretch, before and after, per method.

Each development voice (../shared/data/voices, a slice of them) is cut in 3-s stretches, treated whole by each
method (the shipped `disguise`, and the weak McAdams anchor of bench/voice.py), and every stretch scored against
its own input by audio/speaker.py; `--snr` first adds a brownish noise background at that many dB below the
speech. Printed per method: the per-file mean's range and the share of files whose mean is at or above
MATCH_THRESHOLD, and the share of single stretches at 0.74 and at check.UNCHANGED or more (audio/check.py's
two rules).

    .venv/bin/python bench/voice_check_calibration.py --first 200 --count 25 [--snr 10] [--seed 8]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "bench")]

import voice as bench_voice  # noqa: E402

from unseen.audio import check, speaker  # noqa: E402

VOICES = ROOT.parent / "shared" / "data" / "voices"
STRETCH = 3  # seconds, as audio/check.py compares


def _noisy(x: np.ndarray, snr: float, rng: np.random.Generator) -> np.ndarray:
    noise = np.cumsum(rng.standard_normal(x.size))
    noise -= np.convolve(noise, np.ones(400) / 400, mode="same")  # brownish, with its drift taken out
    noise *= np.sqrt(np.mean(x**2) / np.mean(noise**2)) * 10 ** (-snr / 20)
    return (x + noise).astype(np.float32)


def _scores(x: np.ndarray, y: np.ndarray, rate: int) -> list[float]:
    step = STRETCH * rate
    return [
        speaker.similarity(speaker.embed(x[a : a + step], rate), speaker.embed(y[a : a + step], rate))
        for a in range(0, x.size - step, step)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", type=int, default=200, help="index of the first recording used")
    parser.add_argument("--count", type=int, default=25, help="recordings used")
    parser.add_argument("--snr", type=float, help="add a noise background this many dB below the speech")
    parser.add_argument("--seed", type=int, default=7, help="the draws' seed (another seed: other noise and draws)")
    args = parser.parse_args()
    files = sorted(VOICES.glob("*.flac"))[args.first : args.first + args.count]
    rng = np.random.default_rng(args.seed)
    methods = {"mcadams": bench_voice.METHODS["mcadams"], "disguise": bench_voice.METHODS["disguise"]}
    means: dict[str, list[float]] = {m: [] for m in methods}
    singles: dict[str, list[float]] = {m: [] for m in methods}
    for path in files:
        x, rate = bench_voice.load(path)
        x = _noisy(x, args.snr, rng) if args.snr is not None else x
        for name, method in methods.items():
            y = np.asarray(method(x[None, :], rate, rng)).reshape(-1)[: x.size]
            scores = _scores(x, y, rate)
            singles[name] += scores
            means[name].append(float(np.mean(scores)))
    for name in methods:
        m, s = np.array(means[name]), np.array(singles[name])
        print(
            f"{name}: {m.size} files, per-file mean {m.min():.3f}-{m.max():.3f}, files flagged (mean >= "
            f"{speaker.MATCH_THRESHOLD}) {(m >= speaker.MATCH_THRESHOLD).mean():.0%}; stretches >= 0.74 "
            f"{(s >= 0.74).mean():.0%}, >= {check.UNCHANGED} {(s >= check.UNCHANGED).mean():.0%}"
        )


if __name__ == "__main__":
    main()
