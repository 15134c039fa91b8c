"""The standard PRNU camera detector (Lukáš, Fridrich, Goljan 2006; Goljan, Fridrich, Filler 2009), as the forensic
examiner of issue 24 runs it, after polimi-ispl/prnu-python (MIT):

- a photo's noise residual W: per colour channel, db4 wavelet over 4 levels, the approximation dropped and each
  detail band shrunk by a local Wiener estimate (noise σ = 3, windows 3, 5, 7, 9: the smallest local energy);
  channels to grey; rows and columns zero-meaned (on each of the four CFA phases); a Wiener filter in the DFT
  domain (the periodic patterns of JPEG and demosaicing damped);
- a camera's fingerprint K: the maximum-likelihood estimate Σ W·I / Σ I² over its flat-field photos, per channel,
  then the same grey, zero-mean and DFT Wiener steps;
- the test: PCE of the cross-correlation of a photo's W with K·I, its peak searched within ±3 px of zero shift,
  an 11×11 neighbourhood of the peak left out of the energy; PCE > 60 decides "this camera".

Needs PyWavelets (the bench extra); never used by unseen itself.
"""

from __future__ import annotations

import cv2
import numpy as np
import pywt

SIGMA = 3.0
LEVELS = 4
WINDOWS = (3, 5, 7, 9)
SEARCH = 3  # the peak within ±3 px of zero shift
NEIGHBOURHOOD = 11  # 11×11 around the peak left out of the correlation energy
LINKED = 60.0


def _wiener_adaptive(x: np.ndarray, noise_var: float) -> np.ndarray:
    """The noise part of `x`: x · σ² / (local signal energy + σ²), the energy the smallest over the windows."""
    energy = x * x
    signal = np.full(x.shape, np.inf, np.float32)
    for window in WINDOWS:
        local = cv2.blur(energy, (window, window), borderType=cv2.BORDER_REPLICATE)
        signal = np.minimum(signal, np.maximum(local - noise_var, 0.0))
    return x * noise_var / (signal + noise_var)


def _channel_noise(channel: np.ndarray) -> np.ndarray:
    coeffs = pywt.wavedec2(channel, "db4", level=LEVELS)
    coeffs[0] = np.zeros_like(coeffs[0])
    var = SIGMA**2
    coeffs[1:] = [tuple(_wiener_adaptive(band.astype(np.float32), var) for band in level) for level in coeffs[1:]]
    return pywt.waverec2(coeffs, "db4")[: channel.shape[0], : channel.shape[1]].astype(np.float32)


def _gray(rgb: np.ndarray) -> np.ndarray:
    return (rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114).astype(np.float32)


def _zero_mean(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=0, keepdims=True)
    return x - x.mean(axis=1, keepdims=True)


def _zero_mean_total(x: np.ndarray) -> np.ndarray:
    """Rows and columns zero-meaned on each of the four phases of the Bayer pattern."""
    out = x.copy()
    for dy in (0, 1):
        for dx in (0, 1):
            out[dy::2, dx::2] = _zero_mean(x[dy::2, dx::2])
    return out


def _wiener_dft(x: np.ndarray) -> np.ndarray:
    """Damp what stands out in the spectrum (JPEG's 8×8 grid, demosaicing's periodic traces)."""
    var = float(x.std(ddof=1)) ** 2
    spectrum = np.fft.fft2(x)
    magnitude = np.abs(spectrum / np.sqrt(x.size)).astype(np.float32)
    kept = _wiener_adaptive(magnitude, var)
    ratio = np.divide(kept, magnitude, out=np.zeros_like(magnitude), where=magnitude > 0)
    return np.real(np.fft.ifft2(spectrum * ratio)).astype(np.float32)


def _channels_noise(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.float32)
    return np.stack([_channel_noise(rgb[..., c]) for c in range(rgb.shape[2])], axis=2)


def residual(rgb: np.ndarray) -> np.ndarray:
    """W of an H×W×3 uint8 photo: grey, zero-mean, DFT-Wiener-filtered."""
    return _wiener_dft(_zero_mean_total(_gray(_channels_noise(rgb))))


def fingerprint(flats: list[np.ndarray]) -> np.ndarray:
    """K from a camera's flat-field photos (the same size): Σ W·I / Σ I² per channel, then grey and filtered."""
    numerator = np.zeros(flats[0].shape, np.float64)
    denominator = np.ones(flats[0].shape, np.float64)
    for flat in flats:
        image = flat.astype(np.float32)
        numerator += _channels_noise(flat) * image
        denominator += image * image
    return _wiener_dft(_zero_mean_total(_gray((numerator / denominator).astype(np.float32))))


def pce(k: np.ndarray, rgb: np.ndarray, w: np.ndarray | None = None) -> float:
    """PCE of photo `rgb` (the size of K) against fingerprint `k`; `w`, its residual, if already known."""
    w = residual(rgb) if w is None else w
    reference = k * _gray(rgb.astype(np.float32))
    a = w - w.mean()
    b = reference - reference.mean()
    cc = np.real(np.fft.ifft2(np.fft.fft2(a) * np.conj(np.fft.fft2(b))))
    near = np.roll(np.roll(cc, SEARCH, 0), SEARCH, 1)[: 2 * SEARCH + 1, : 2 * SEARCH + 1]
    py, px = np.unravel_index(int(np.argmax(near)), near.shape)
    peak_y, peak_x = (py - SEARCH) % cc.shape[0], (px - SEARCH) % cc.shape[1]
    peak = cc[peak_y, peak_x]
    mask = np.ones(cc.shape, bool)
    half = NEIGHBOURHOOD // 2
    rows = np.arange(peak_y - half, peak_y + half + 1) % cc.shape[0]
    cols = np.arange(peak_x - half, peak_x + half + 1) % cc.shape[1]
    mask[np.ix_(rows, cols)] = False
    energy = float(np.mean(cc[mask] ** 2))
    return float(np.sign(peak) * peak * peak / energy)


def centre_crop(pixels: np.ndarray, size: int) -> np.ndarray:
    height, width = pixels.shape[:2]
    top, left = (height - size) // 2, (width - size) // 2
    return pixels[top : top + size, left : left + size]
