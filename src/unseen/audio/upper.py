"""The upper band of a spectral envelope made a straight line: above a split, each frame's log envelope is
replaced by its weighted least-squares line in log-frequency (its level and tilt kept, its peaks gone).

Why: the disguise's warp (disguise.py) is a monotone map of frequency, so it moves the formants but keeps what
such a map cannot change, among it the shape of the envelope above F2 (the positions and shapes of F3-F5:
much of a vocal tract's individuality, little of what is said). A speaker network reads that shape; a line
in its place keeps what a fricative needs (its level and slope) and drops the speaker's detail.
docs/voices.md, "What a monotone warp keeps of the envelope", has the measurements.

The fit: Legendre terms over log-frequency (2: a line), each linear bin weighted by 1/f so that every octave
counts alike, solved for every frame at once by one small matrix made per block (`Fit.above`). It covers the
bins from the split's cross-fade up to 8 kHz (the band a speaker network hears at 16 kHz) at every rate,
so a 48-kHz file is smoothed as the 16-kHz bench measured it; the line is carried on across 8-10 kHz, where
the change fades out, and above 10 kHz the envelope is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TERMS = 2  # Legendre terms over log-frequency: 2 is a straight line (level and tilt)
FADE_HZ = 500.0  # the fit is cross-faded in over this width, centred on the split
_TOP_HZ, _GONE_HZ = 8000.0, 10000.0  # fitted up to the first; the change fades out between the two


@dataclass(frozen=True)
class Fit:
    """What smooths one block's envelopes above one split: the bins changed and the matrices that fit them."""

    start: int  # the first bin changed (the cross-fade's lower edge)
    solve: np.ndarray  # fitted bins × terms: a frame's fitted bins times this are its coefficients
    basis: np.ndarray  # changed bins × terms: coefficients times its transpose are the fit on the changed bins
    blend_share: np.ndarray  # changed bins: the fit's share (0 at the split's lower edge and from _GONE_HZ up)

    @classmethod
    def above(
        cls, freqs: np.ndarray, split_hz: float, terms: int = TERMS, fade_hz: float = FADE_HZ, dtype: type = np.float32
    ) -> Fit | None:
        """The fit for bins at `freqs` (Hz, increasing from 0) above `split_hz`; None where too few bins lie
        between the split and 8 kHz to fit `terms` terms (a low sample rate)."""
        low = split_hz - fade_hz / 2
        fitted = (freqs >= low) & (freqs <= _TOP_HZ)
        if np.count_nonzero(fitted) <= terms:
            return None
        start = int(np.argmax(fitted))
        changed = freqs[start : int(np.searchsorted(freqs, _GONE_HZ))]  # above _GONE_HZ the blend is 0
        f = freqs[fitted]
        span = np.log(f[-1] / f[0])

        def legendre(at: np.ndarray) -> np.ndarray:  # -1..1 over the fitted band, in log-frequency
            return np.polynomial.legendre.legvander(np.log(at / f[0]) / span * 2 - 1, terms - 1)

        basis = legendre(f)  # fitted bins × terms
        weight = (1.0 / f)[:, None]  # linear bins weighted so that every octave counts alike
        # coefficients = env · W A (Aᵀ W A)⁻¹: one small matrix for every frame
        solve = (weight * basis) @ np.linalg.inv(basis.T @ (weight * basis))
        blend = ramp(changed, low, split_hz + fade_hz / 2) * (1 - ramp(changed, _TOP_HZ, _GONE_HZ))
        return cls(start, solve.astype(dtype), legendre(changed).astype(dtype), blend.astype(dtype))

    def coefficients(self, log_envelope: np.ndarray) -> np.ndarray:
        """Each frame's Legendre coefficients (frames × terms) of its fitted bins. One matrix-vector product per
        term: as one matrix product, OpenBLAS's threads took 10 ms a 15-s block on the shared machine (0.3 alone)."""
        band = log_envelope[:, self.start : self.start + len(self.solve)]
        return np.stack([band @ self.solve[:, term] for term in range(self.solve.shape[1])], axis=1)

    def blend(self, log_envelope: np.ndarray, coefficients: np.ndarray) -> None:
        """The fit of `coefficients` (frames × terms) blended into `log_envelope`, in place (a sum of outer
        products, no matrix product: see `coefficients`)."""
        band = log_envelope[:, self.start : self.start + len(self.blend_share)]
        fit = coefficients[:, :1] * self.basis[:, 0]
        for term in range(1, self.basis.shape[1]):
            fit += coefficients[:, term : term + 1] * self.basis[:, term]
        fit -= band
        fit *= self.blend_share
        band += fit


def smooth(
    log_envelope: np.ndarray, freqs: np.ndarray, split_hz: float, terms: int = TERMS, fade_hz: float = FADE_HZ
) -> None:
    """Each frame of `log_envelope` (frames × len(freqs), natural log of magnitude) above `split_hz` made its fit
    of `terms` Legendre terms in log-frequency, in place (the disguise's envelope is its own copy already)."""
    fit = Fit.above(freqs, split_hz, terms, fade_hz, log_envelope.dtype.type)
    if fit is not None and len(log_envelope):
        fit.blend(log_envelope, fit.coefficients(log_envelope))


def smoothed(
    log_envelope: np.ndarray, freqs: np.ndarray, split_hz: float, terms: int = TERMS, fade_hz: float = FADE_HZ
) -> np.ndarray:
    """`smooth` on a copy: a new array of the same dtype."""
    out = log_envelope.copy()
    smooth(out, freqs, split_hz, terms, fade_hz)
    return out


def ramp(freqs: np.ndarray, start: float, end: float) -> np.ndarray:
    """0 below `start`, 1 above `end`, a raised cosine between."""
    t = np.clip((freqs - start) / max(end - start, 1e-9), 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * t)
