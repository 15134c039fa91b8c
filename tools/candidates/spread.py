"""The farthest of K chosen on excerpts from several places in the speech, not only on its first seconds
(measured in bench/voice.py's spread-* methods and bench/voice_two_speakers.py, not shipped: docs/voices.md).

The shipped choice (unseen.audio.select) tries its candidates on the first 3 s of speech, so in a file where
several people speak it keeps the voice farthest from whoever speaks first. Here `count` excerpts of `seconds`
each are taken with their starts spread evenly over the speech heard (the first at its start, the last ending at
its end), each candidate disguises every excerpt, and a candidate is scored by its worst excerpt (the one its
output is most like): the voice kept is the one whose worst excerpt is farthest. Drawn per file, never stored.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from unseen.audio import disguise as dg
from unseen.audio import select as sel
from unseen.audio import speaker
from unseen.audio.vad import Span

RATE = sel.RATE


def cut(mono: np.ndarray, speech: Sequence[Span], start: float, seconds: float) -> np.ndarray:
    """Up to `seconds` of the heard speech of `mono` (RATE) from `start` seconds into the speech (spans joined)."""
    parts, skip, left = [], round(start * RATE), round(seconds * RATE)
    for first, last in speech:
        span = mono[round(first * RATE) : round(last * RATE)]
        if skip >= span.size:
            skip -= span.size
            continue
        parts.append(span[skip : skip + left])
        skip, left = 0, left - parts[-1].size
        if left <= 0:
            break
    return np.concatenate(parts) if parts else mono[:0]


def excerpts(mono: np.ndarray, speech: Sequence[Span], count: int, seconds: float) -> list[np.ndarray]:
    """`count` excerpts of `seconds` of speech, their starts spread evenly over it (one if it is no longer)."""
    heard = sum(last - first for first, last in speech)
    if heard <= seconds:
        return [cut(mono, speech, 0.0, seconds)]
    return [cut(mono, speech, float(start), seconds) for start in np.linspace(0.0, heard - seconds, count)]


def worst(parts: Sequence[np.ndarray], voices: Sequence[dg.Voice]) -> list[float]:
    """Per voice, the highest speaker-model cosine between an excerpt and its disguise (how like the speech it
    stays where it stays most like it)."""
    heard = [sel.disguised(part, voices) for part in parts]  # per excerpt, every voice
    embedded = speaker.embed_many([*parts, *(h for row in heard for h in row)], RATE)
    own, others = embedded[: len(parts)], embedded[len(parts) :]
    return [
        max(speaker.similarity(own[p], others[p * len(voices) + v]) for p in range(len(parts)))
        for v in range(len(voices))
    ]


def disguise(
    samples: np.ndarray,
    rate: int,
    mono: np.ndarray,
    speech: Sequence[Span],
    count: int = 3,
    seconds: float = sel.EXCERPT_SECONDS,
    candidates: int = 4,  # as measured (docs/voices.md), not select.CANDIDATES, which has moved on since
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """As select.disguise, the candidates tried on `count` excerpts spread over the speech (`rng`: the bench)."""
    found = dg.profile(samples, rate)
    parts = [p for p in excerpts(mono, speech, count, seconds) if p.size >= sel.MIN_SECONDS * RATE]
    voices = [dg.draw(r, found) for r in sel.generators(candidates if parts else 1, rng)]
    chosen = voices[int(np.argmin(worst(parts, voices)))] if len(voices) > 1 else voices[0]
    return dg.transform(samples, rate, chosen)
