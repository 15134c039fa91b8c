"""Take the camera's sensor fingerprint (PRNU) out of a photo's pixels before it is written.

Every sensor multiplies the light by its own fixed, faint pattern (photo-response non-uniformity). A forensic
examiner who holds a few photos from a phone estimates that pattern from their noise residuals and links any
other photo to the phone. The pattern lives in the fine noise that a denoiser takes out of a photo: this module
takes that noise out of the luminance, the way the examiner's denoiser would find it (a local Wiener shrinkage of
each band of a three-level Laplacian pyramid, noise σ = 3.5 grey levels), and puts back a little fresh noise
(uniform, σ = 0.7) drawn from a generator seeded per picture by `secrets`, so that no two runs agree and the
grain does not look painted over. Knowing the method does not undo it: the fingerprint is subtracted, not
hidden, and the new noise is never stored.

Measured on the development cameras (docs/camera-noise.md, bench/camera_noise.py): through unseen's own runs at
σ = 3, PCE 139, 283 and 1,756 on 1,024-px crops fell to 34, 38 and 16 (60 decides "this camera") at 40.0 to
40.9 dB PSNR against the same run untreated; whole photos needed more: σ = 3.5 (PCE 13,597 and 1,573 to 29
and 60, at 38.5 dB and more).
"""

from __future__ import annotations

import secrets

import cv2
import numpy as np

# The noise level the shrinkage treats as noise, in grey levels. 3 (the examiner's own setting) took every 1,024-px
# crop below 40 but left whole photos at PCE 70 and 60; 4 took those to 26 and 42 but cost 37.3 dB PSNR (the budget
# is 38); 3.5: 29 and 60 whole, 38.5 dB and more.
SIGMA = 3.5
LEVELS = 3  # bands of the Laplacian pyramid cleaned: 2 left PCE up to 50, 1 up to 174 (bench/camera_noise.py)
WINDOW = 3  # the local energy of a band, over 3×3
GRAIN = 0.7  # the fresh noise put back, in grey levels
BAND_PIXELS = 1 << 22  # 4 megapixels a band: about 100 MB of float arrays at most
MARGIN = 64  # rows of context: the three levels' filters reach about 40 rows; a multiple of 2 ** LEVELS
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
    rows = max(MARGIN, BAND_PIXELS // width // MARGIN * MARGIN)  # a multiple of MARGIN: the pyramid's grid stays put
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        above, below = max(0, top - MARGIN), min(height, bottom + MARGIN)
        # OpenCV throughout: numpy's Gaussian draws and int16 round trips each cost more than the whole filter.
        change = _noise(luma[above:below].astype(np.float32), levels, SIGMA)[top - above : bottom - above]
        change -= draw.random(change.shape, dtype=np.float32) * (2 * _UNIFORM) - _UNIFORM
        colour = np.ascontiguousarray(pixels[top:bottom, :, :3])
        pixels[top:bottom, :, :3] = cv2.subtract(colour, cv2.merge([change, change, change]), dtype=cv2.CV_8U)


def _noise(luma: np.ndarray, levels: int, sigma: float) -> np.ndarray:
    """Each band of the Laplacian pyramid shrunk by σ² / (local signal energy + σ²): the part of it that is noise
    (all of it where the picture is flat, little where it has texture), summed back to full size."""
    variance = sigma * sigma
    parts = []
    current = luma
    for _ in range(levels):
        smaller = cv2.pyrDown(current)
        band = current - cv2.pyrUp(smaller, dstsize=(current.shape[1], current.shape[0]))
        energy = cv2.blur(band * band, (WINDOW, WINDOW))  # σ² / (max(E - σ², 0) + σ²) is σ² / max(E, σ²)
        parts.append(band * cv2.divide(variance, cv2.max(energy, variance)))
        current = smaller
    total = parts[-1]
    for part in reversed(parts[:-1]):
        total = cv2.pyrUp(total, dstsize=(part.shape[1], part.shape[0])) + part
    return total


def _levels_that_fit(height: int, width: int) -> int:
    """How many times the picture halves before a side would be under 8 pixels."""
    levels, side = 0, min(height, width)
    while side >= 16 and levels < LEVELS:
        side //= 2
        levels += 1
    return levels


# The check: the output's fine noise against the input's own (an input is its own best fingerprint sample), on a
# centre crop, over the parts of the picture that are flat (where a fingerprint is read; in texture, what a
# denoiser leaves of the edges correlates whatever was done). On the development photos (docs/camera-noise.md):
# 0.98 to 0.99 for an output written untreated (0.86 to 0.98 even at JPEG quality 80), 0.19 to 0.45 treated
# (at most 0.50 when the treated output is then re-saved at quality 80): LEFT lies between the two.
CHECK_SIDE = 1024
LEFT = 0.7
_FLAT_SIGMA = 1.5  # the blur whose difference measures texture
_FLAT_WINDOW = 9
CHECK_SIGMA = 3.0  # the check's residual: the examiner's noise level, whatever the treatment's
_FLAT_ENERGY = 2 * CHECK_SIGMA * CHECK_SIGMA  # below this local energy, a part of the picture counts as flat
_MIN_FLAT = 1024  # flat pixels the correlation needs to mean anything


def sample(pixels: np.ndarray) -> np.ndarray:
    """What the check keeps of the picture before the treatment: the grey centre crop (a few MB at most)."""
    return _crop(pixels)


def left(before: np.ndarray, output: np.ndarray) -> float | None:
    """How much of the fine noise of `before` (a sample) the written `output` still carries: the correlation of
    their residuals over the flat parts of the crop, 1 for a copy, about 0 for none; None when the crop has too
    few flat pixels (or differs in size from the output's) to say."""
    after = _crop(output)
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
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _flat(luma: np.ndarray) -> np.ndarray:
    detail = luma - cv2.GaussianBlur(luma, (0, 0), _FLAT_SIGMA)
    return cv2.blur(detail * detail, (_FLAT_WINDOW, _FLAT_WINDOW)) < _FLAT_ENERGY
