"""Measures for voice disguise: equal error rate, a classical MFCC + GMM-UBM verifier, word error rate.

Pure numpy functions over arrays, importable from tests; `bench/voice.py` runs them over the dev voices.
The classical verifier follows the one in shared/notes/voices-and-camera-noise.md: MFCC c1–c19 (c0, the
loudness, left out) with deltas, per-utterance mean and variance normalisation, frames below the 30th
percentile of energy dropped, a 64-component diagonal GMM-UBM fitted on speakers other than the tested ones,
speaker models by MAP adaptation of the means (relevance 16). Trials are scored by linear scoring (Glembek et
al., ICASSP 2009: the first-order approximation of the average log-likelihood ratio), which scores every
enrolment against every test utterance with one matrix product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unseen.audio import speaker

CEPSTRA = 19
DELTA_WIDTH = 2
ENERGY_PERCENTILE = 30
COMPONENTS = 64
RELEVANCE = 16.0


def eer(scores: np.ndarray, same: np.ndarray) -> float:
    """Equal error rate of scores (higher: more alike) for trials labelled same-speaker (True) or not."""
    order = np.argsort(-scores, kind="stable")
    labels = same[order]
    positives, negatives = labels.sum(), (~labels).sum()
    if positives == 0 or negatives == 0:
        return float("nan")
    false_reject = 1 - np.cumsum(labels) / positives
    false_accept = np.cumsum(~labels) / negatives
    i = int(np.argmin(np.abs(false_reject - false_accept)))
    return float((false_reject[i] + false_accept[i]) / 2)


def eer_threshold(scores: np.ndarray, same: np.ndarray) -> float:
    """The score at the equal-error point (a trial above it is called same-speaker)."""
    order = np.argsort(-scores, kind="stable")
    labels = same[order]
    false_reject = 1 - np.cumsum(labels) / labels.sum()
    false_accept = np.cumsum(~labels) / (~labels).sum()
    i = int(np.argmin(np.abs(false_reject - false_accept)))
    return float(scores[order][i])


def trial_eer(matrix: np.ndarray, speakers: np.ndarray) -> float:
    """EER over every ordered (enrolment, test) pair of distinct utterances of a score matrix."""
    off_diagonal = ~np.eye(len(speakers), dtype=bool)
    same = speakers[:, None] == speakers[None, :]
    return eer(matrix[off_diagonal], same[off_diagonal])


def mfcc(wav16k: np.ndarray) -> np.ndarray:
    """Frames × 38: c1–c19 and their deltas, energy-gated and normalised per utterance."""
    mel = speaker.mel_spectrogram(wav16k.astype(np.float64)).astype(np.float64)
    log_mel = np.log(mel + 1e-10)
    bands = log_mel.shape[1]
    k = np.arange(bands)
    dct = np.cos(np.pi / bands * (k[None, :] + 0.5) * np.arange(CEPSTRA + 1)[:, None]) * np.sqrt(2 / bands)
    cepstra = log_mel @ dct.T
    energy = np.log(mel.sum(axis=1) + 1e-10)
    features = np.hstack([cepstra[:, 1:], _deltas(cepstra[:, 1:])])
    features = features[energy >= np.percentile(energy, ENERGY_PERCENTILE)]
    return (features - features.mean(axis=0)) / (features.std(axis=0) + 1e-8)


def _deltas(features: np.ndarray) -> np.ndarray:
    padded = np.pad(features, ((DELTA_WIDTH, DELTA_WIDTH), (0, 0)), mode="edge")
    n = len(features)
    weights = range(1, DELTA_WIDTH + 1)
    num = sum(
        w * (padded[DELTA_WIDTH + w : DELTA_WIDTH + w + n] - padded[DELTA_WIDTH - w : DELTA_WIDTH - w + n])
        for w in weights
    )
    return num / (2 * sum(w * w for w in weights))


@dataclass
class Ubm:
    weights: np.ndarray  # C
    means: np.ndarray  # C × D
    variances: np.ndarray  # C × D

    def posteriors(self, x: np.ndarray) -> np.ndarray:
        """Frames × C responsibilities."""
        log_p = (
            np.log(self.weights)
            - 0.5 * np.sum(np.log(2 * np.pi * self.variances), axis=1)
            - 0.5
            * (
                ((x**2) @ (1 / self.variances).T)
                - 2 * x @ (self.means / self.variances).T
                + np.sum(self.means**2 / self.variances, axis=1)
            )
        )
        log_p -= log_p.max(axis=1, keepdims=True)
        p = np.exp(log_p)
        return p / p.sum(axis=1, keepdims=True)


def fit_ubm(frames: np.ndarray, rng: np.random.Generator, components: int = COMPONENTS, iterations: int = 15) -> Ubm:
    """A diagonal GMM by EM from random frames as initial means (frames: N × D, already normalised)."""
    means = frames[rng.choice(len(frames), components, replace=False)].copy()
    ubm = Ubm(np.full(components, 1 / components), means, np.tile(frames.var(axis=0), (components, 1)))
    for _ in range(iterations):
        gamma = ubm.posteriors(frames)
        count = gamma.sum(axis=0) + 1e-6
        means = (gamma.T @ frames) / count[:, None]
        variances = np.maximum((gamma.T @ frames**2) / count[:, None] - means**2, 1e-3)
        ubm = Ubm(count / count.sum(), means, variances)
    return ubm


def stats(ubm: Ubm, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Zeroth (C) and first order (C × D) statistics of an utterance's frames."""
    gamma = ubm.posteriors(x)
    return gamma.sum(axis=0), gamma.T @ x


def linear_scores(ubm: Ubm, enrol: list[np.ndarray], test: list[np.ndarray]) -> np.ndarray:
    """Enrolments × tests scores: MAP-adapted means (relevance 16) against centred test statistics."""
    offsets, centred = [], []
    for x in enrol:
        n, f = stats(ubm, x)
        adapted = (f + RELEVANCE * ubm.means) / (n + RELEVANCE)[:, None]
        offsets.append(((adapted - ubm.means) / ubm.variances).reshape(-1))
    for x in test:
        n, f = stats(ubm, x)
        centred.append(((f - n[:, None] * ubm.means) / len(x)).reshape(-1))
    return np.array(offsets) @ np.array(centred).T


def word_error_rate(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edits, reference words): Levenshtein distance over words."""
    ref, hyp = reference.split(), hypothesis.split()
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, start=1):
        previous, row[0] = row[0], i
        for j, other in enumerate(hyp, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1], len(ref)


def pooled_rate(edits: np.ndarray, words: np.ndarray) -> float:
    """Word error rate in % over utterances pooled: all edits over all reference words (as NIST scores it)."""
    return 100.0 * float(np.sum(edits)) / max(1, int(np.sum(words)))


def pooled_interval(
    edits: np.ndarray, words: np.ndarray, rng: np.random.Generator, draws: int = 2000, level: float = 0.95
) -> tuple[float, float]:
    """A percentile bootstrap interval of pooled_rate, utterances resampled with replacement. `edits` may be a
    difference of two methods' edits on the same utterances: the interval is then the paired difference's."""
    edits, words = np.asarray(edits, np.float64), np.asarray(words, np.float64)
    picks = rng.integers(0, len(edits), (draws, len(edits)))
    rates = 100.0 * edits[picks].sum(axis=1) / np.maximum(1.0, words[picks].sum(axis=1))
    low, high = np.percentile(rates, [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high)
