"""A hum in the pauses: how much of it the disguise rebuilds as a buzz, with the source voiced anywhere and only
where speech is heard (docs/voices.md, "Voiced only where speech is heard").

    PYTHONPATH=src nice -n 10 python bench/voice_pauses.py --speakers 12 --png /tmp/buzz

Each of the first `--speakers` development voices (LibriSpeech, 16 kHz: quiet read speech) gets a room hum added
throughout, made here from numpy: 120 Hz with ten harmonics over white noise 10 dB under it, `--below` dB under the
speech's loud frames (`loudness`; default 17: within the 20 dB in which the excitation counts a frame as loud
enough to voice).
unseen's detector hears its speech (audio/vad.py), and the file is disguised as unseen does (select.disguise, the
farthest of six) twice from the same generator: the source voiced wherever the pitch track finds a period (as before
2026-12-06) and only within the speech heard (now). Pauses are what lies more than 0.2 s from any speech heard.
Printed: per voice and pooled, the share of pause frames the excitation voiced before (the buzz; now 0 by
construction), the harmonicity of the pauses (the median over 50-ms frames of the normalised autocorrelation's
peak at a period of 60-400 Hz: about 0.2 for noise, 0.9 for the hum itself) in the input and in both outputs, and
the same in the speech heard; with `--png`, spectrograms (input, before, now; 0-2 kHz) of 6 s around the longest
pause of the voice whose pauses came out with the most buzz before (seconds × harmonicity), as a PNG.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from voice import VOICES, load

from unseen.audio import disguise as dg
from unseen.audio import excitation as ex
from unseen.audio import select as sel
from unseen.audio import vad
from unseen.audio.stft import OVERLAP, stft, window_length
from unseen.audio.vad import Span

HUM_HZ, HARMONICS, NOISE_DB = 120.0, 10, 10.0
PAUSE_MARGIN = 0.2  # seconds from speech heard before a stretch counts as a pause


def hum(n: int, rate: int, level: float, seed: int = 0) -> np.ndarray:
    """`n` samples of a mains-like hum (HUM_HZ and its harmonics falling as 1/k) over white noise NOISE_DB
    under it, at an RMS of `level`."""
    t = np.arange(n) / rate
    tone = sum(np.sin(2 * np.pi * k * HUM_HZ * t + k) / k for k in range(1, HARMONICS + 1))
    tone = tone / np.sqrt(np.mean(tone**2))
    both = tone + 10 ** (-NOISE_DB / 20) * np.random.default_rng(seed).standard_normal(n)
    return (level * both / np.sqrt(np.mean(both**2))).astype(np.float32)


def loudness(x: np.ndarray, rate: int) -> float:
    """The RMS of `x`'s loud 50-ms frames (the 95th percentile of their energies): the level the disguise's
    excitation measures loudness against (a frame 20 dB under it is not voiced)."""
    size = int(0.05 * rate)
    frames = x[: x.size // size * size].reshape(-1, size).astype(np.float64)
    return float(np.sqrt(np.percentile(np.mean(frames**2, axis=1), 95)))


def harmonicity(y: np.ndarray, rate: int) -> float:
    """The median over 50-ms frames (half-overlapping, Hann) of the normalised autocorrelation's highest value at
    a period of 60-400 Hz, corrected for the window: near 1 for a steady periodic sound, about 0.2 for noise."""
    size = int(0.05 * rate)
    window = np.hanning(size)
    window_corr = np.fft.irfft(np.abs(np.fft.rfft(window, 2 * size)) ** 2)[:size]
    low, high = int(rate / 400), int(rate / 60)
    starts = range(0, len(y) - size + 1, size // 2)
    frames = np.array([y[s : s + size] - np.mean(y[s : s + size]) for s in starts]) * window
    if not len(frames):
        return float("nan")
    corr = np.fft.irfft(np.abs(np.fft.rfft(frames, 2 * size, axis=1)) ** 2, axis=1)[:, :size]
    corr = corr / np.maximum(corr[:, :1], 1e-20) / (window_corr / window_corr[0])
    return float(np.median(corr[:, low:high].max(axis=1)))


def pauses(speech: Sequence[Span], duration: float, margin: float = PAUSE_MARGIN) -> list[Span]:
    """The stretches of 0..`duration` more than `margin` from every span of `speech`, at least 0.1 s long."""
    edges = [0.0, *[t for a, b in speech for t in (a - margin, b + margin)], duration]
    gaps = [(max(0.0, a), min(duration, b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    return [(a, b) for a, b in gaps if b - a >= 0.1]


def _cut(x: np.ndarray, spans: Sequence[Span], rate: int) -> np.ndarray:
    return np.concatenate([x[int(a * rate) : int(b * rate)] for a, b in spans]) if spans else x[:0]


def voiced_share(x: np.ndarray, rate: int, quiet: Sequence[Span]) -> float:
    """The share of the pauses' frames the excitation voiced before (voicing > 0 without the detector's spans)."""
    size = window_length(rate, 0.05)
    magnitude = np.abs(stft(x, size))
    _, strength = dg._track(magnitude, rate, size)
    energy = np.einsum("ij,ij->i", magnitude, magnitude)
    v = ex.voicing(strength, energy > dg._PROFILE_LOUD * np.percentile(energy, 95))
    centres = (np.arange(len(v)) * (size // OVERLAP) - size / 2) / rate
    inside = dg._inside(quiet, centres)  # the frames the disguise would count inside these spans (sorted, apart)
    return float(np.mean(v[inside] > 0)) if inside.any() else float("nan")


def spectrogram_png(path: Path, rows: Sequence[np.ndarray], rate: int, top_hz: float = 2000.0) -> None:
    """The spectrograms of `rows` (same length) stacked, 0-`top_hz`, dB over 70 dB, as a greyscale PNG."""
    from PIL import Image

    size = window_length(rate, 0.05)
    images = []
    for y in rows:
        power = np.abs(stft(y, size))[:, : int(top_hz * size / rate)].T ** 2
        db = 10 * np.log10(power + 1e-12)
        images.append(np.clip((db - db.max() + 70) / 70, 0, 1)[::-1])
        images.append(np.ones((4, db.shape[1])))  # a white line between
    grey = (255 * (1 - np.vstack(images[:-1]))).astype(np.uint8)
    Image.fromarray(grey).resize((grey.shape[1] * 2, grey.shape[0] * 2)).save(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--speakers", type=int, default=12)
    parser.add_argument("--below", type=float, default=17.0, help="dB the hum lies under the speech")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--png", type=Path, help="a folder for the first voice's spectrograms")
    args = parser.parse_args()
    files = sorted(VOICES.glob("*.flac"))[: args.speakers]
    print(f"{datetime.date.today()} · {os.cpu_count()} cores · load {os.getloadavg()[0]:.1f}; {len(files)} voices")
    print("| voice | pause s | voiced before | pause: input / before / now | speech: before / now | pause level now |")
    print("|---|---|---|---|---|---|")
    pooled: dict[str, list[np.ndarray]] = {"input": [], "before": [], "now": [], "sb": [], "sn": []}
    shares, seconds = [], []
    worst: tuple[float, str, list[np.ndarray]] = (0.0, "", [])
    for number, path in enumerate(files):
        clean, rate = load(path)
        x = clean + hum(clean.size, rate, loudness(clean, rate) * 10 ** (-args.below / 20), number)
        heard = vad.hear(x).spans  # 16 kHz mono: as unseen hears it
        quiet = pauses(heard, x.size / rate)
        outs = [
            sel.disguise(x[None], rate, x, heard, rng=np.random.default_rng(args.seed + number), gated=gated)[0]
            for gated in (False, True)
        ]
        parts = [_cut(y, quiet, rate) for y in (x, *outs)]
        spoken = [_cut(y, heard, rate) for y in outs]
        for key, part in zip(pooled, [*parts, *spoken], strict=True):
            pooled[key].append(part)
        shares.append(voiced_share(x, rate, quiet))
        seconds.append(parts[0].size / rate)
        level = 10 * np.log10(np.mean(parts[2] ** 2) / np.mean(parts[0] ** 2)) if parts[0].size else float("nan")
        print(
            f"| {path.name.split('-')[0]} | {seconds[-1]:.1f} | {100 * shares[-1]:.0f}% | "
            + " / ".join(f"{harmonicity(p, rate):.2f}" for p in parts)
            + " | "
            + " / ".join(f"{harmonicity(p, rate):.2f}" for p in spoken)
            + f" | {level:+.1f} dB |",
            flush=True,
        )
        buzz = seconds[-1] * harmonicity(parts[1], rate) if parts[0].size else 0.0
        if args.png and buzz > worst[0]:
            longest = max(quiet, key=lambda span: span[1] - span[0])
            start = max(0, int((longest[0] + longest[1] - 6.0) / 2 * rate))
            worst = (buzz, path.name, [y[start : start + 6 * rate] for y in (x, *outs)])
    if worst[2]:
        args.png.mkdir(parents=True, exist_ok=True)
        spectrogram_png(args.png / "pauses-input-before-now.png", worst[2], rate)
        print(f"spectrograms of {worst[1]} (input, before, now): {args.png / 'pauses-input-before-now.png'}")
    weights = np.array(seconds) / max(sum(seconds), 1e-9)
    merged = {key: harmonicity(np.concatenate(parts), rate) for key, parts in pooled.items()}
    print(
        f"pooled ({sum(seconds):.0f} s of pauses): voiced before {100 * float(np.nansum(weights * shares)):.0f}% of "
        f"pause frames; pause harmonicity input {merged['input']:.2f}, before {merged['before']:.2f}, now "
        f"{merged['now']:.2f}; speech before {merged['sb']:.2f}, now {merged['sn']:.2f}; load {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
