"""Take the camera's sensor fingerprint (PRNU) out of a photo's pixels before it is written.

Every sensor multiplies the light by its own fixed, faint pattern (photo-response non-uniformity). A forensic
examiner who holds a few photos from a phone estimates that pattern from their noise residuals and links any
other photo to the phone. The examiner's residual is what a wavelet denoiser takes out of the photo (db4, four
levels, each detail coefficient shrunk by a local Wiener gain σ² / (local energy + σ²)). This module takes out of
the luminance, in the same wavelet bands, every detail coefficient whose local energy is low enough that the
examiner's denoiser would read it as noise, whole; it leaves the others exactly as they are, and puts back a
little fresh noise (uniform, σ = 0.7) drawn from a generator seeded per picture by `secrets`, so that no two runs
agree and the grain does not look painted over. Knowing the method does not undo it: the fingerprint is
subtracted, not hidden, and the new noise is never stored.

Why whole coefficients and not a shrinkage of each (the first version: a Wiener shrinkage of a Laplacian pyramid):
where a band has some texture, the examiner's denoiser reads σ² / E of it, and a shrinkage that takes a part of the
band away lowers E and so raises the part the examiner reads: the fingerprint in lightly textured parts survived it
(whole photos: PCE up to 97, where 60 decides "this camera"). A coefficient taken out whole leaves nothing to read;
one left exactly as it was gives the examiner no more than before. The threshold grows with the local brightness,
as the fingerprint does (it multiplies the light): the picture budget goes where the fingerprint is strongest.
Measured on the development cameras: docs/camera-noise.md, bench/camera_noise.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import cv2
import numpy as np
import pywt

# A detail coefficient whose local energy (the smallest over the examiner's windows 3, 5, 7 and 9) is under
# TAU × (local brightness / MID_GREY) ** BRIGHTNESS (grey levels squared) is taken out whole.
TAU = 49.0
BRIGHTNESS = 1.0
MID_GREY = 128.0
DARKEST = 0.05  # the brightness factor's floor: black parts still lose their faintest coefficients
LIGHT_WINDOW = 15  # the local brightness, a box mean over 15×15 pixels
WINDOWS = (3, 5, 7, 9)  # the examiner's (bench/prnu.py)
WAVELET = "db4"  # the examiner's; its decimated grid too, as each band is cut at multiples of 2 ** LEVELS
LEVELS = 4  # the examiner's four; two left whole photos at PCE 149 (docs/camera-noise.md)
GRAIN = 0.7  # the fresh noise put back, in grey levels
BAND_PIXELS = 1 << 23  # 8 megapixels a band: a 12-MP phone photo in two bands
MARGIN = 288  # rows of context: db4's reach over four levels, out and back (about 2 × 106 rows) and the windows
_UNIFORM = GRAIN * 3**0.5  # uniform noise on [-a, a] has a standard deviation of a / √3


def fresh() -> np.random.Generator:
    """A generator seeded from the operating system's cryptographic source: one per file, never stored."""
    return np.random.default_rng(secrets.randbits(128))


def clean(pixels: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """A treated copy of an H×W×3 or H×W×4 uint8 picture (see `treat`)."""
    out = pixels.copy()
    treat(out, rng)
    return out


def treat(pixels: np.ndarray, rng: np.random.Generator | None = None) -> None:
    """Replace the fine noise of the luminance of an H×W×3 or H×W×4 uint8 picture, in place; alpha left as it is.

    The same amount leaves each colour channel, so a grey picture (R = G = B) stays grey. The work goes in bands
    of about BAND_PIXELS, each with MARGIN rows of context on both sides, so that a 250-megapixel photo needs the
    grey picture (1 byte a pixel) and one band's arrays beside itself, not a dozen float copies of it.
    """
    height, width = pixels.shape[:2]
    levels = min(LEVELS, _levels_that_fit(height, width))
    if levels == 0:
        return
    draw = rng or fresh()
    grey = cv2.COLOR_RGBA2GRAY if pixels.shape[2] == 4 else cv2.COLOR_RGB2GRAY
    luma = cv2.cvtColor(np.ascontiguousarray(pixels), grey)
    step = 1 << LEVELS  # bands start on the wavelet's grid, so that each is cut as the whole picture would be
    rows = max(MARGIN, BAND_PIXELS // width // step * step)
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        above, below = max(0, top - MARGIN), min(height, bottom + MARGIN)
        # OpenCV throughout: numpy's Gaussian draws and int16 round trips each cost more than the whole filter.
        change = _fine(luma[above:below].astype(np.float32), levels)[top - above : bottom - above]
        change -= draw.random(change.shape, dtype=np.float32) * (2 * _UNIFORM) - _UNIFORM
        colour = np.ascontiguousarray(pixels[top:bottom, :, :3])
        pixels[top:bottom, :, :3] = cv2.subtract(colour, cv2.merge([change, change, change]), dtype=cv2.CV_8U)


def _fine(luma: np.ndarray, levels: int) -> np.ndarray:
    """The part of `luma` that the examiner's denoiser would read as noise: the wavelet detail coefficients of low
    local energy, whole, summed back to the picture's size (the others and the coarse approximation left out)."""
    coarse, found = luma, []
    for level in range(1, levels + 1):
        coarse, bands = pywt.dwt2(coarse, WAVELET)
        # The brightness on the bands' own grid: the approximation of the same level is a local mean, times 2 a level.
        window = max(1, LIGHT_WINDOW >> (level - 1)) | 1
        light = cv2.blur(coarse.astype(np.float32), (window, window)) / (MID_GREY * (1 << level))
        threshold = TAU * np.maximum(light, DARKEST) ** BRIGHTNESS
        found.append(tuple(_faint(band.astype(np.float32), threshold) for band in bands))
    kept = [np.zeros_like(coarse), *reversed(found)]
    return pywt.waverec2(kept, WAVELET)[: luma.shape[0], : luma.shape[1]].astype(np.float32)


def _faint(band: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """The coefficients of `band` whose local energy, the smallest over WINDOWS as the examiner measures it, is
    under `threshold`; zero elsewhere."""
    square = band * band
    energy = cv2.blur(square, (WINDOWS[0], WINDOWS[0]), borderType=cv2.BORDER_REPLICATE)
    for window in WINDOWS[1:]:
        energy = np.minimum(energy, cv2.blur(square, (window, window), borderType=cv2.BORDER_REPLICATE))
    return np.where(energy < threshold, band, 0).astype(np.float32)


def _noise(luma: np.ndarray, levels: int, sigma: float) -> np.ndarray:
    """The check's residual (and the first treatment's): each band of a Laplacian pyramid shrunk by
    σ² / max(local energy, σ²), summed back to full size."""
    variance = sigma * sigma
    parts = []
    current = luma
    for _ in range(levels):
        smaller = cv2.pyrDown(current)
        band = current - cv2.pyrUp(smaller, dstsize=(current.shape[1], current.shape[0]))
        energy = cv2.blur(band * band, (3, 3))  # σ² / (max(E - σ², 0) + σ²) is σ² / max(E, σ²)
        parts.append(band * cv2.divide(variance, cv2.max(energy, variance)))
        current = smaller
    total = parts[-1]
    for part in reversed(parts[:-1]):
        total = cv2.pyrUp(total, dstsize=(part.shape[1], part.shape[0])) + part
    return total


def _levels_that_fit(height: int, width: int) -> int:
    """How many wavelet levels the picture takes (PyWavelets' own bound for db4), at most LEVELS."""
    return min(LEVELS, pywt.dwt_max_level(min(height, width), pywt.Wavelet(WAVELET).dec_len))


# The check: the output's fine noise against the input's own (an input is its own best fingerprint sample), on a
# centre crop, over the parts of the picture that are flat (where a fingerprint is read; in texture, what a
# denoiser leaves of the edges correlates whatever was done). On the development photos (docs/camera-noise.md):
# 0.95 to 0.98 for an output written untreated (0.84 to 0.94 re-saved at JPEG quality 80), 0.08 to 0.37 treated
# (at most 0.42 re-saved at quality 80): LEFT lies between the two.
CHECK_SIDE = 1024
LEFT = 0.7
_FLAT_SIGMA = 1.5  # the blur whose difference measures texture
_FLAT_WINDOW = 9
CHECK_SIGMA = 3.0  # the check's residual: the examiner's noise level, whatever the treatment's
_FLAT_ENERGY = 2 * CHECK_SIGMA * CHECK_SIGMA  # below this local energy, a part of the picture counts as flat
# ... and below this share of the treatment's threshold at its brightness: the parts the treatment takes out whole
# (in dark parts its threshold is low, and what it leaves there is left exactly, correlating 1 whatever was done).
# With the shipped treatment, on the development photos (docs/camera-noise.md): 0.08 to 0.37 treated (0.42 after a
# re-save at JPEG quality 80), 0.95 to 0.98 untreated (0.84 to 0.94); judged over every flat part, 0.33 to 0.68.
_FLAT_SHARE = 0.15
_MIN_FLAT = 1024  # flat pixels the correlation needs to mean anything
SAMPLES_BYTES = 64 << 20  # what the check may hold of an animation's frames: every frame's sample, or every n-th


def sample(pixels: np.ndarray) -> np.ndarray:
    """What the check keeps of the picture before the treatment: the grey centre crop (1 MB at most)."""
    return _crop(pixels)


def samples(frames: Sequence[np.ndarray]) -> dict[int, np.ndarray]:
    """The check's samples of an animation's or multi-page file's frames, by index: every frame's, or evenly spaced
    frames' where all of them would hold more than SAMPLES_BYTES (a long animation)."""
    if not frames:
        return {}
    height, width = frames[0].shape[:2]
    each = min(height, CHECK_SIDE) * min(width, CHECK_SIDE)
    stride = max(1, -(-len(frames) * each // SAMPLES_BYTES))
    return {index: sample(frames[index]) for index in range(0, len(frames), stride)}


def left(before: np.ndarray, output: np.ndarray) -> float | None:
    """How much of the fine noise of `before` (a sample) the written `output` still carries: the correlation of
    their residuals over the flat parts of the crop, 1 for a copy, about 0 for none; None when the crop has too
    few flat pixels (or differs in size from the output's) to say."""
    after = _crop(output).astype(np.float32)
    before = before.astype(np.float32)
    if after.shape != before.shape or min(before.shape) < 16:
        return None
    flat = _flat(before)
    if int(flat.sum()) < _MIN_FLAT:
        return None
    a = _noise(before, 1, CHECK_SIGMA)[flat]
    b = _noise(after, 1, CHECK_SIGMA)[flat]
    a -= a.mean()
    b -= b.mean()
    scale = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return float(np.dot(a, b) / scale) if scale > 0 else 0.0


def _crop(pixels: np.ndarray) -> np.ndarray:
    height, width = pixels.shape[:2]
    top, left_ = max(0, (height - CHECK_SIDE) // 2), max(0, (width - CHECK_SIDE) // 2)
    rgb = np.ascontiguousarray(pixels[top : top + CHECK_SIDE, left_ : left_ + CHECK_SIDE, :3])
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _flat(luma: np.ndarray) -> np.ndarray:
    detail = luma - cv2.GaussianBlur(luma, (0, 0), _FLAT_SIGMA)
    light = np.maximum(cv2.blur(luma, (LIGHT_WINDOW, LIGHT_WINDOW)) / MID_GREY, DARKEST) ** BRIGHTNESS
    limit = np.minimum(_FLAT_ENERGY, _FLAT_SHARE * TAU * light)
    return cv2.blur(detail * detail, (_FLAT_WINDOW, _FLAT_WINDOW)) < limit
