"""Farthest of K: several random voices drawn for a file, the one that sounds least like the speaker kept.

The VoicePrivacy Challenge's own baseline chooses its pseudo-speaker this way (the candidate x-vector farthest
from the source's). Here each candidate is a full draw of the disguise's parameters (disguise.draw, every one
from its own cryptographic seed); an excerpt of the file's speech is disguised with each, the speaker model
(speaker.py, the voice check's) embeds every result, and the draw whose output is least similar to the
excerpt's own embedding disguises the file. The candidates and the choice live only inside the call: nothing
is stored, and another run draws other candidates. Measured in docs/voices.md ("Farthest of K").
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from unseen.audio import disguise as dg
from unseen.audio import speaker
from unseen.audio.vad import Span

RATE = speaker.RATE  # the excerpt is heard, disguised and embedded as mono at 16 kHz: all the model hears
CANDIDATES = 4  # voices drawn per file: 2 measured no gain, 8 none over 4 at twice the cost (docs/voices.md)
# Seconds of speech the candidates are tried on. On 48 dev speakers, two draws of the bench each, choosing on the
# first 3, 5 or 10 s gave the same gain (neural ignorant EER 46.1/46.0, 46.8, 46.8/45.8%: docs/voices.md); 3 s costs
# 0.4 s of wall time per file, 10 s 1.3 s, which took a 30-s track's disguise from 24x to 13x real time.
EXCERPT_SECONDS = 3.0
MIN_SECONDS = 1.0  # less speech heard than this: embeddings are unreliable, the first draw is used as it is

DESCRIPTION = (
    f"{dg.DESCRIPTION}; {CANDIDATES} such draws per file, the one kept whose output the speaker model finds least "
    f"like the input on up to {EXCERPT_SECONDS:g} s of its speech (the farthest of {CANDIDATES}; none stored)"
)


def excerpt(mono: np.ndarray, speech: Sequence[Span], seconds: float = EXCERPT_SECONDS) -> np.ndarray:
    """Up to `seconds` of the heard speech of `mono` (RATE), its spans joined in order from the file's start."""
    parts, left = [], round(seconds * RATE)
    for start, end in speech:
        part = mono[round(start * RATE) : round(end * RATE)][:left]
        parts.append(part)
        left -= part.size
        if left <= 0:
            break
    return np.concatenate(parts) if parts else mono[:0]


def generators(count: int, rng: np.random.Generator | None = None) -> list[np.random.Generator]:
    """One generator per candidate, each from its own cryptographic seed (`rng`: the bench's, shared)."""
    return [rng or np.random.default_rng(secrets.randbits(128)) for _ in range(count)]


def disguised(part: np.ndarray, voices: Sequence[dg.Voice]) -> list[np.ndarray]:
    """`part` (mono, RATE) disguised by each voice."""
    # The candidates' disguises are independent and the FFTs release the GIL: one thread per core.
    with ThreadPoolExecutor(max_workers=max(1, min(len(voices), os.cpu_count() or 1))) as pool:
        return list(pool.map(lambda voice: dg.transform(part[None], RATE, voice)[0], voices))


def scores(part: np.ndarray, voices: Sequence[dg.Voice]) -> list[float]:
    """How much each voice's disguise of `part` (mono, RATE) still sounds like it: the speaker model's cosine."""
    heard = disguised(part, voices)
    own, *others = speaker.embed_many([part, *heard], RATE)  # one batch: the model's calls were half the choice
    return [speaker.similarity(own, other) for other in others]


def farthest(part: np.ndarray, voices: Sequence[dg.Voice]) -> dg.Voice:
    """The voice whose disguise of `part` scores least like it."""
    return voices[int(np.argmin(scores(part, voices)))] if len(voices) > 1 else voices[0]


def disguise(
    samples: np.ndarray,
    rate: int,
    mono: np.ndarray,
    speech: Sequence[Span],
    candidates: int = CANDIDATES,
    rng: np.random.Generator | None = None,
    seconds: float = EXCERPT_SECONDS,
) -> np.ndarray:
    """`samples` (channels × n) disguised by the farthest of `candidates` voices drawn for it; `mono` is the
    file as the speaker model hears it (mono, RATE) and `speech` where a voice was heard in it (seconds). Too
    little speech heard: one voice is drawn, as disguise.disguise does. `rng` and `seconds` (of speech to
    choose on) only for tests and the bench."""
    found = dg.profile(samples, rate)
    part = excerpt(mono, speech, seconds)
    count = candidates if part.size >= MIN_SECONDS * RATE else 1
    return dg.transform(samples, rate, farthest(part, [dg.draw(r, found) for r in generators(count, rng)]))
