"""The speaker-specific structure of a spectral envelope that a monotone frequency warp keeps, taken out.

Measured, and except for one case not shipped (docs/voices.md): the bench passes `reshaper(...)` to the disguise
as `Voice.reshape`, which changes the warped envelope before the equaliser. The band smoothing with a line (2
terms, the default) is shipped since 2026-12-06 as `unseen.audio.upper` (the disguise's `Voice.split_hz`), whose
fit this module calls; the bench measures these changes on the draw without the shipped one (`Targets(split_hz=None)`).

The disguise's warp (McAdams, a formant scale, bends) moves the formants but keeps their relative spacing,
their bandwidths and the shape of the envelope above the second formant (F3-F5: much of a vocal tract's
individuality, little of what is said). Two changes of a frame's log envelope (frames × bins, natural log of
magnitude), both measured in `bench/voice.py` (the `band-*` and `bw-*` methods; docs/voices.md):

- above a split (drawn per file), the envelope is replaced by a least-squares fit of a few terms in
  log-frequency (2: a straight line, its level and tilt), optionally averaged over a few frames, cross-faded
  in over `fade_hz`: the higher formants' positions and shapes are gone, a fricative's level and tilt stay
  (the fit up to 8 kHz at every rate, as `upper` does: at 16 kHz, the bench's rate, as measured before);
- the envelope's deviations from its local mean across frequency (the formant peaks and valleys) are scaled
  by a contrast drawn per file (or per band): >1 sharpens the formants (narrower bandwidths), <1 flattens them;
- a piecewise-linear warp in log-frequency through anchors (from, to): the speaker's median F1-F3
  (`mean_formants`) taken to targets drawn from speaker-independent ranges, instead of a monotone scale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import convolve1d, uniform_filter1d  # type: ignore[import-untyped]  # scipy ships no type information

from unseen.audio import upper

_TOP_HZ, _GONE_HZ = 8000.0, 10000.0  # the contrast covers up to the verifier's band, fading out above it
_CONTRAST_BAND = (100.0, 8000.0)  # contrast nodes are spread evenly in log-frequency over this band


@dataclass(frozen=True)
class Structure:
    """One draw of the changes (lives only inside a call of the disguise, and in the bench)."""

    split_hz: float = 0.0  # above this the envelope is smoothed (0: not at all)
    terms: int = 2  # Legendre terms over log-frequency in the smoothed band (2: level and tilt)
    fade_hz: float = 500.0  # the cross-fade's width, centred on the split
    frames: int = 1  # the smoothed band's fit averaged over this many frames (1: none)
    contrast: tuple[float, ...] = ()  # gains of the envelope around its local mean, nodes over log-frequency
    mean_hz: float = 1000.0  # the local mean's width (a Hann window across frequency)
    anchors: tuple[tuple[float, float], ...] = ()  # (from Hz, to Hz), increasing: the envelope warped through them


# Where the median formants are looked for (Hz), and the least gap between two of them.
_FORMANT_BANDS = ((250.0, 1000.0), (800.0, 2800.0), (1800.0, 3800.0))
_FORMANT_GAP_HZ = 300.0
_WARP_ENDS_HZ = (80.0, 7000.0)  # the anchors' warp leaves frequencies outside these in place


def reshaper(structure: Structure) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """`apply` with `structure` bound: what the disguise's `Voice.reshape` takes."""
    return lambda log_envelope, freqs: apply(log_envelope, freqs, structure)


def apply(log_envelope: np.ndarray, freqs: np.ndarray, structure: Structure) -> np.ndarray:
    """`log_envelope` (frames × len(freqs)) with `structure`'s changes; a new array."""
    out = log_envelope
    if structure.anchors:
        out = _warped(out, freqs, structure.anchors)
    if structure.contrast:
        out = _contrasted(out, freqs, structure)
    if structure.split_hz > 0:
        out = _smoothed(out, freqs, structure)
    return out


def _smoothed(env: np.ndarray, freqs: np.ndarray, structure: Structure) -> np.ndarray:
    """Above the split, each frame's envelope replaced by its weighted least-squares fit in log-frequency
    (unseen.audio.upper, which the disguise ships with a line), optionally averaged over frames."""
    fit = upper.Fit.above(freqs, structure.split_hz, structure.terms, structure.fade_hz, env.dtype.type)
    if fit is None or len(env) == 0:
        return env
    coefficients = fit.coefficients(env)
    if structure.frames > 1:
        coefficients = uniform_filter1d(coefficients, structure.frames, axis=0, mode="nearest")
    out = env.copy()
    fit.blend(out, coefficients)
    return out


def _contrasted(env: np.ndarray, freqs: np.ndarray, structure: Structure) -> np.ndarray:
    """The envelope's deviations from its local mean scaled by the contrast (interpolated over log-frequency)."""
    step = float(freqs[1] - freqs[0]) if len(freqs) > 1 else 1.0
    width = max(3, round(structure.mean_hz / step) | 1)
    kernel = np.hanning(width + 2)[1:-1]
    mean = convolve1d(env, kernel / kernel.sum(), axis=1, mode="nearest")
    nodes = np.geomspace(*_CONTRAST_BAND, len(structure.contrast))
    logf = np.log(np.clip(freqs, *_CONTRAST_BAND))
    gain = np.interp(logf, np.log(nodes), np.array(structure.contrast))  # one node: the same gain everywhere
    gain = 1 + (gain - 1) * (1 - upper.ramp(freqs, _TOP_HZ, _GONE_HZ))  # none above the verifier's band
    return mean + gain[None, :] * (env - mean)


def _warped(env: np.ndarray, freqs: np.ndarray, anchors: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Each output frequency takes the envelope at the input frequency the anchors' map sends to it."""
    low, high = _WARP_ENDS_HZ
    sources = np.log([low, *(a for a, _ in anchors), high])
    targets = np.log([low, *(b for _, b in anchors), high])
    inside = (freqs > low) & (freqs < high)
    source = freqs.astype(np.float64).copy()
    source[inside] = np.exp(np.interp(np.log(freqs[inside]), targets, sources))
    position = np.clip(source / (freqs[1] - freqs[0]), 0, len(freqs) - 1)
    lower = np.minimum(np.floor(position).astype(int), len(freqs) - 2)
    weight = position - lower
    return env[:, lower] * (1 - weight) + env[:, lower + 1] * weight


def mean_formants(log_envelopes: np.ndarray, freqs: np.ndarray) -> tuple[float, ...] | None:
    """The median F1, F2 and F3 (Hz) over frames' log envelopes (voiced frames): per frame the first peak in
    each band of _FORMANT_BANDS at least _FORMANT_GAP_HZ above the previous one; None without enough peaks."""
    inner = log_envelopes[:, 1:-1]
    peaks = (inner > log_envelopes[:, :-2]) & (inner >= log_envelopes[:, 2:])
    found: list[list[float]] = [[] for _ in _FORMANT_BANDS]
    for row in peaks:
        at = freqs[1:-1][row]
        previous = 0.0
        for index, (low, high) in enumerate(_FORMANT_BANDS):
            candidates = at[(at >= max(low, previous + _FORMANT_GAP_HZ)) & (at <= high)]
            if not len(candidates):
                break
            previous = float(candidates[0])
            found[index].append(previous)
    if min(len(values) for values in found) < 10:
        return None
    return tuple(float(np.median(values)) for values in found)
