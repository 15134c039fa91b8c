"""The disguise run over a long stream in blocks: memory bounded whatever the length, the voice the same.

audio/disguise.py works on a whole signal at once, and its short-time spectra and their intermediate copies
take about 34 times the samples' size (measured: 40 s of 48 kHz stereo, 15 MiB of samples, peaked at 515 MiB
above the baseline), so a 10-minute stereo track would need about 7.7 GB. Here one voice is drawn per stream
(disguise.draw, from a cryptographic seed, never kept) and disguise.transform runs on one channel's block of
BLOCK seconds at a time, each block with PAD seconds of the sound around it so that the phase vocoder has
settled by the block's own samples; neighbouring blocks are blended with an equal-power crossfade of SEAM
seconds at their boundary.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable

import numpy as np

BLOCK = 15.0  # seconds of one channel transformed at a time (about 80 MiB at 48 kHz)
PAD = 0.5  # seconds of context on each side of a block: 10 windows of the disguise's 50-ms analysis
SEAM = 0.1  # seconds over which two blocks' renderings are blended

Transform = Callable[[np.ndarray], np.ndarray]  # (1, n) float32 → (1, n) float32, the same voice every call


def in_blocks(samples: np.ndarray, rate: int, transform: Transform) -> np.ndarray:
    """`transform` applied to (channels, n) `samples` channel by channel, in blocks, into one new array."""
    channels, n = samples.shape
    block, pad, seam = round(BLOCK * rate), round(PAD * rate), max(2, round(SEAM * rate))
    # Block boundaries; the last block is at least a second long (a shorter tail joins the block before it).
    edges = [0, *(b for b in range(block, n, block) if n - b >= rate), n]
    out = np.zeros((channels, n), np.float32)
    fade_in, fade_out = _fades(seam)
    for c in range(channels):
        for first, last in itertools.pairwise(edges):
            lo, hi = max(0, first - pad), min(n, last + pad)
            rendered = np.asarray(transform(samples[c : c + 1, lo:hi]), np.float32)[0]
            a = first - seam // 2 if first > 0 else 0  # this block's part of the output, its seams included
            b = last + seam - seam // 2 if last < n else n
            part = rendered[a - lo : b - lo]
            if first > 0:
                part[:seam] *= fade_in
            if last < n:
                part[-seam:] *= fade_out
            out[c, a:b] += part
    return out


def _fades(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Fades in and out that sum to one: two renderings of the same sound with the same voice are mostly in
    step (measured in docs/voices-in-videos.md), and in-step sound blended so keeps its level."""
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, size))).astype(np.float32)
    return ramp, ramp[::-1].copy()


def disguise_in_blocks(samples: np.ndarray, rate: int) -> np.ndarray:
    """audio/disguise.py's method on a stream of any length: one voice drawn for the whole stream."""
    from unseen.audio.disguise import draw, transform

    voice = draw(np.random.default_rng(secrets.randbits(128)))
    return in_blocks(samples, rate, lambda block: transform(block, rate, voice))
