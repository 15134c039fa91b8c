"""A short-time Fourier transform that inverts exactly: Hann windows at a quarter-window hop.

Analysis and synthesis both use the periodic Hann window; at a hop of a quarter window the squared windows
sum to 1.5 everywhere, so overlap-add of unchanged frames gives the signal back to rounding error. The signal
is padded by a whole window on each side, so its first and last samples are covered like any other.
"""

from __future__ import annotations

import numpy as np
import scipy.fft  # type: ignore[import-untyped]  # scipy ships no type information
from numpy.lib.stride_tricks import sliding_window_view

OVERLAP = 4  # frames per window length: the hop is a quarter window
_WINDOW_POWER_SUM = 1.5  # sum over frames of the squared periodic Hann window at that hop


def window_length(rate: int, seconds: float = 0.04) -> int:
    """A power of two near `seconds` at `rate` (2048 at 48 kHz, 512 at 16 kHz... 1024 at 22.05 kHz)."""
    return int(2 ** round(np.log2(max(64.0, rate * seconds))))


def _window(size: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(size) / size)).astype(np.float32)


def stft(signal: np.ndarray, size: int) -> np.ndarray:
    """Frames × (size // 2 + 1) complex64 spectra of a 1-d signal (single precision: twice as fast, ample here).
    scipy's FFT, not numpy's: on float32 frames it measured three times faster (numpy 2.4, scipy 1.17)."""
    hop = size // OVERLAP
    padded = np.pad(signal.astype(np.float32), (size, size + (-len(signal)) % hop))
    frames = sliding_window_view(padded, size)[::hop] * _window(size)
    return scipy.fft.rfft(frames, axis=1)


def istft(spectra: np.ndarray, size: int, length: int) -> np.ndarray:
    """The signal of `length` samples whose stft() is (closest to) `spectra`."""
    hop = size // OVERLAP
    frames = scipy.fft.irfft(spectra, n=size, axis=1)
    frames *= _window(size)
    count = frames.shape[0]
    out = np.zeros((count + OVERLAP - 1, hop), np.float32)  # hop by hop
    quarters = frames.reshape(count, OVERLAP, hop)
    for part in range(OVERLAP):  # overlap-add as OVERLAP shifted, non-overlapping tilings (views: no copies)
        out[part : part + count] += quarters[:, part]
    return out.reshape(-1)[size : size + length] / _WINDOW_POWER_SUM
