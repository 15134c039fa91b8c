"""Other criteria for the farthest-of-K choice than GE2E alone (measured in bench/voice.py's mix-*/free-*/wide-*
methods, not shipped: docs/voices.md, "Choosing by more than the speaker model").

The shipped choice (`unseen.audio.select`) keeps the draw whose disguise of a 3-s excerpt the GE2E speaker model
finds least like the excerpt; an independent verifier sees a smaller gain than GE2E does, so the choice partly
fits the model that makes it. Here the choice can also weigh model-free distances measured on the same excerpt
(`distances`): how far the disguise moved the excerpt's median F0 (semitones) and its mean voiced spectral
envelope (dB, level removed), both from `disguise.profile`; the criteria are combined by rank (weight-free across
units: the candidate farthest by a criterion gets K-1 points, the nearest 0), the GE2E rank breaking ties.

A second speaker model of another kind can weigh in too (`res2net`: 1 - cosine of an embedding function the
caller passes, e.g. unseen.audio.res2net.embed, the SE-Res2Net-50 in ONNX). With two models the
criteria can also be combined by z-scores (`combine="zscore"`: each distance standardised over the K candidates,
the weighted mean taken): with two criteria over four candidates, rank sums tie often (ranks 3+0 = 2+1) and then
GE2E decides alone, and ranks drop the margin by which a candidate is farther.

`intelligibility` is a cheap STOI-like proxy on the excerpt (the correlation of the input's and the output's
band envelopes over 384-ms segments, on the speaker model's 40 mel bands): `choose` drops the candidates under
a floor, or all but the clearest few, before ranking (the widest draws can cost intelligibility), keeping the
best one if none passes. Its level differs from speaker to speaker (on 6 dev speakers, 3 s each: 0.38-0.73 for
the shipped draws), so a relative filter (`clearest`) is measured rather than a fixed floor.
Nothing here is stored; the draws come from the caller's generator (the bench) or `secrets` (as unseen's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from unseen.audio import disguise as dg
from unseen.audio import select as sel
from unseen.audio import speaker
from unseen.audio.vad import Span

RATE = sel.RATE
_SEGMENT = 38  # frames of 10 ms: STOI's 384-ms segments
_BANDS = slice(3, 34)  # the mel bands between about 150 Hz and 4.5 kHz, STOI's range


@dataclass(frozen=True)
class Weights:
    """How much each criterion's rank counts (0: not used; GE2E's 0 also skips the embeddings)."""

    ge2e: float = 1.0  # 1 - cosine of the speaker model's embeddings
    f0: float = 0.0  # |semitones| between the excerpt's and its disguise's median F0
    envelope: float = 0.0  # RMS dB between their mean voiced envelopes (each with its mean level removed)
    floor: float = 0.0  # candidates whose intelligibility proxy falls under this are dropped (0: none)
    clearest: int = 0  # only this many candidates, the highest by the proxy, are ranked (0: all)
    res2net: float = 0.0  # 1 - cosine of a second speaker model's embeddings (the `embed` passed to `choose`)
    # how the criteria's distances are put on one scale; "minz": the candidate whose *smallest* z-score over the
    # criteria (weights > 0, unweighted) is largest, the draw every model finds far, not one that one model loves
    combine: Literal["rank", "zscore", "minz"] = "rank"


Embed = Callable[[np.ndarray, int], np.ndarray]  # (mono samples, rate) -> a speaker embedding


def _cosine_distances(embed: Embed, part: np.ndarray, heard: Sequence[np.ndarray]) -> np.ndarray:
    own, *others = (embed(x, RATE) for x in (part, *heard))
    return np.array([1.0 - speaker.similarity(own, other) for other in others])


def _envelope_db(found: dg.Profile) -> np.ndarray:
    db = 20 / np.log(10) * found.envelope
    return db - db.mean()


def distances(
    part: np.ndarray, heard: Sequence[np.ndarray], weights: Weights, embed: Embed | None = None
) -> dict[str, np.ndarray]:
    """Each criterion's distance of every disguised excerpt in `heard` from `part` (larger: farther)."""
    out: dict[str, np.ndarray] = {}
    if weights.ge2e:
        own, *others = speaker.embed_many([part, *heard], RATE)
        out["ge2e"] = np.array([1.0 - speaker.similarity(own, other) for other in others])
    if weights.res2net:
        if embed is None:
            raise ValueError("the res2net criterion needs an embed function")
        out["res2net"] = _cosine_distances(embed, part, heard)
    if weights.f0 or weights.envelope:
        found = dg.profile(part[None], RATE)
        profiles = [dg.profile(h[None], RATE) for h in heard]
        if found is not None and all(p is not None for p in profiles):
            if weights.f0:
                out["f0"] = np.array([abs(12 * np.log2(p.f0 / found.f0)) for p in profiles])  # type: ignore[union-attr]
            if weights.envelope:
                own_db = _envelope_db(found)
                out["envelope"] = np.array(
                    [np.sqrt(np.mean((_envelope_db(p) - own_db) ** 2)) for p in profiles]  # type: ignore[arg-type]
                )
    return out


def intelligibility(part: np.ndarray, heard: np.ndarray) -> float:
    """A STOI-like proxy: the mean correlation of `part`'s and `heard`'s band envelopes (mel magnitudes, 150 Hz
    to 4.5 kHz) over 384-ms segments of their loud frames (within 40 dB of the loudest)."""
    clean = np.sqrt(speaker.mel_spectrogram(part.astype(np.float64)))[:, _BANDS].astype(np.float64)
    other = np.sqrt(speaker.mel_spectrogram(heard.astype(np.float64)))[:, _BANDS].astype(np.float64)
    energy = np.sum(clean**2, axis=1)
    loud = energy > energy.max() * 1e-4
    clean, other = clean[loud], other[loud]
    scores = []
    for start in range(0, len(clean) - _SEGMENT + 1, _SEGMENT // 2):
        a = clean[start : start + _SEGMENT] - clean[start : start + _SEGMENT].mean(axis=0)
        b = other[start : start + _SEGMENT] - other[start : start + _SEGMENT].mean(axis=0)
        norm = np.sqrt(np.sum(a**2, axis=0) * np.sum(b**2, axis=0)) + 1e-12
        scores.append(np.mean(np.sum(a * b, axis=0) / norm))
    return float(np.mean(scores)) if scores else 1.0


def _ranks(values: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(values)).astype(float)  # 0 for the nearest, K-1 for the farthest


def _zscores(values: np.ndarray) -> np.ndarray:
    return sel.standardised(values[None])[0]  # the shipped choice's standardisation, one criterion


def combined(found: dict[str, np.ndarray], weights: Weights) -> int:
    """The index of the farthest candidate by the weighted ranks (or z-scores) of the criteria in `found`; ties:
    the GE2E distance (or the first criterion measured) decides, a fraction of a rank."""
    tie = found.get("ge2e", next(iter(found.values())))
    if weights.combine == "zscore":  # the shipped way of adding (select.totals), the tie-break's row weighed 0
        rows = np.stack([tie, *found.values()])
        return int(np.argmax(sel.totals(rows, [0.0, *(getattr(weights, name) for name in found)])))
    if weights.combine == "minz":
        total = np.min([_zscores(v) for name, v in found.items() if getattr(weights, name) > 0], axis=0)
    else:
        total = np.zeros(len(tie))
        for name, values in found.items():
            total += getattr(weights, name) * _ranks(values)
    return int(np.argmax(total + 1e-3 * _ranks(tie)))


def choose(part: np.ndarray, voices: Sequence[dg.Voice], weights: Weights, embed: Embed | None = None) -> dg.Voice:
    """The voice whose disguise of `part` is farthest by the weighted ranks, among those intelligible enough."""
    if len(voices) == 1:
        return voices[0]
    heard = sel.disguised(part, voices)
    keep = np.arange(len(voices))
    if weights.floor or weights.clearest:
        clear = np.array([intelligibility(part, h) for h in heard])
        keep = np.flatnonzero(clear >= weights.floor)
        if weights.clearest:
            keep = np.intersect1d(keep, np.argsort(clear)[::-1][: weights.clearest])
        if keep.size == 0:
            keep = np.array([int(np.argmax(clear))])
        if keep.size == 1:
            return voices[int(keep[0])]
    heard = [heard[i] for i in keep]
    found = distances(part, heard, weights, embed)
    return voices[int(keep[combined(found, weights)])] if found else voices[int(keep[0])]


Draw = Callable[[np.random.Generator, dg.Profile | None], dg.Voice]


def disguise(
    samples: np.ndarray,
    rate: int,
    mono: np.ndarray,
    speech: Sequence[Span],
    weights: Weights,
    candidates: int = sel.CANDIDATES,
    rng: np.random.Generator | None = None,
    seconds: float = sel.EXCERPT_SECONDS,
    draw: Draw = dg.draw,
    embed: Embed | None = None,
) -> np.ndarray:
    """As select.disguise, the choice made by `choose` with `weights` (and `embed`, for the second speaker
    model), the candidates drawn by `draw`."""
    found = dg.profile(samples, rate)
    part = sel.excerpt(mono, speech, seconds)
    count = candidates if part.size >= sel.MIN_SECONDS * RATE else 1
    voices = [draw(r, found) for r in sel.generators(count, rng)]
    return dg.transform(samples, rate, choose(part, voices, weights, embed))
