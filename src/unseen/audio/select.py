"""Farthest of K: several random voices drawn for a file, the one that sounds least like the speaker kept.

The VoicePrivacy Challenge's own baseline chooses its pseudo-speaker this way (the candidate x-vector farthest from
the source's). Here each candidate is a full draw of the disguise's parameters (disguise.draw, every one from its
own cryptographic seed); an excerpt of the file's speech is disguised with each, and two speaker models of
different kinds embed every result: the voice check's GE2E LSTM (speaker.py) and an SE-Res2Net-50 CNN (res2net.py).
Each model's cosine distances from the excerpt are standardised over the candidates and added, GE2E's weighed
GE2E_WEIGHT; the draw farthest by the sum disguises the file. One model alone chooses draws that fool it more than
they fool a network of another kind (docs/voices.md, "Choosing with two speaker models"): two models of different
kinds must agree, so what is chosen is less one model's blind spot. The candidates and the choice live only inside
the call: nothing is stored, and another run draws other candidates.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from unseen.audio import disguise as dg
from unseen.audio import res2net, speaker
from unseen.audio.vad import Span

RATE = speaker.RATE  # the excerpt is heard, disguised and embedded as mono at 16 kHz: all the model hears
# Voices drawn per file. On one pool of eight draws for each of 200 dev speakers' halves (bench/voice_choice_pool.py,
# docs/voices.md "More draws"), the networks in no choice read more the more draws were chosen among: CAM++ 43.2,
# 43.8, 45.2% and ECAPA 41.0, 42.3, 43.4% ignorant EER with 4, 6, 8 (paired). Ten through the full bench, on other
# draws, read 43.0 and 43.1% (six: 44.0 and 43.2), so the gain is not certain. Ten cost 25-26x real time on two idle
# cores (six: 28-31x).
CANDIDATES = 10
# How much the GE2E model's standardised distance counts against the SE-Res2Net's 1: with equal weights the choice
# favoured the Res2Net (200 dev speakers: GE2E 44.0%, Res2Net 45.8% ignorant EER); 1.5 with six draws gave 45.8, 46.3.
GE2E_WEIGHT = 1.5
# Seconds of speech the candidates are tried on. On 48 dev speakers, two draws of the bench each, choosing on the
# first 3, 5 or 10 s gave the same gain (neural ignorant EER 46.1/46.0, 46.8, 46.8/45.8%: docs/voices.md); 3 s costs
# 0.4 s of wall time per file, 10 s 1.3 s, which took a 30-s track's disguise from 24x to 13x real time.
EXCERPT_SECONDS = 3.0
MIN_SECONDS = 1.0  # less speech heard than this: embeddings are unreliable, the first draw is used as it is

DESCRIPTION = (
    f"{dg.DESCRIPTION}; {CANDIDATES} such draws per file, the one kept whose output two speaker models of "
    "different kinds (a GE2E LSTM and an SE-Res2Net-50) together find least like the input on up to "
    f"{EXCERPT_SECONDS:g} s of its speech (the farthest of {CANDIDATES}; none stored)"
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
    """`part` (mono, RATE) disguised by each voice (`part` is speech heard only: no spans to voice within)."""
    # The candidates' disguises are independent and the FFTs release the GIL: one thread per core.
    with ThreadPoolExecutor(max_workers=max(1, min(len(voices), os.cpu_count() or 1))) as pool:
        return list(pool.map(lambda voice: dg.transform(part[None], RATE, voice)[0], voices))


def distances(part: np.ndarray, voices: Sequence[dg.Voice]) -> np.ndarray:
    """How far each voice's disguise of `part` (mono, RATE) is from it, by each speaker model: 1 - cosine,
    one row per model (GE2E, SE-Res2Net-50), one column per voice."""
    recordings = [part, *disguised(part, voices)]
    # Each model embeds the excerpt and its disguises in one batch; the two models run side by side (ONNX
    # Runtime releases the GIL), so the second costs little wall time on two cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        embedded = list(pool.map(lambda embed: embed(recordings, RATE), (speaker.embed_many, res2net.embed_many)))
    return np.array([[1.0 - speaker.similarity(own, other) for other in others] for own, *others in embedded])


def standardised(rows: np.ndarray) -> np.ndarray:
    """Each row's values as z-scores over the candidates (the last axis; a row that does not vary: zeros). The
    models' cosines have different scales; z-scores put them on one, so that each counts by its weight alone, and,
    unlike ranks, keep by how much a candidate is farther (with few candidates and two models, rank sums tie often)."""
    spread = rows.std(axis=-1, keepdims=True)
    centred = rows - rows.mean(axis=-1, keepdims=True)
    return np.divide(centred, spread, out=np.zeros_like(centred), where=spread > 0)


def totals(far: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """How far each candidate is by all models together: their standardised distances weighed and added. `far` is
    models × candidates (or files × models × candidates: the bench's pools), one weight per model. An exact tie,
    which only models that find every candidate alike leave, goes to the candidate the first model (GE2E) finds
    farther: a thousandth of its rank is added."""
    ranks = np.argsort(np.argsort(far[..., 0, :], axis=-1), axis=-1)
    return np.einsum("m,...mc->...c", np.asarray(weights, float), standardised(far)) + 1e-3 * ranks


def farthest(part: np.ndarray, voices: Sequence[dg.Voice]) -> dg.Voice:
    """The voice whose disguise of `part` both speaker models together find farthest from it (`totals`, GE2E
    weighed GE2E_WEIGHT against the SE-Res2Net's 1)."""
    if len(voices) == 1:
        return voices[0]
    return voices[int(np.argmax(totals(distances(part, voices), (GE2E_WEIGHT, 1.0))))]


def disguise(
    samples: np.ndarray,
    rate: int,
    mono: np.ndarray,
    speech: Sequence[Span],
    candidates: int = CANDIDATES,
    rng: np.random.Generator | None = None,
    seconds: float = EXCERPT_SECONDS,
    gated: bool = True,
    draw: Callable[[np.random.Generator, dg.Profile | None], dg.Voice] = dg.draw,
) -> np.ndarray:
    """`samples` (channels × n) disguised by the farthest of `candidates` voices drawn for it; `mono` is the
    file as the speaker model hears it (mono, RATE) and `speech` where a voice was heard in it (seconds): the
    excerpt is taken from it, and the synthetic source is voiced only there (dg.transform). Too little speech
    heard: one voice is drawn, as disguise.disguise does. `rng`, `seconds` (of speech to choose on), `gated`
    (False: voiced wherever the pitch track finds a period, as before 2026-12-06) and `draw` (each candidate's, from
    its generator and the file's profile: the bench's variants) only for tests and the bench."""
    found = dg.profile(samples, rate)
    part = excerpt(mono, speech, seconds)
    count = candidates if part.size >= MIN_SECONDS * RATE else 1
    voice = farthest(part, [draw(r, found) for r in generators(count, rng)])
    return dg.transform(samples, rate, voice, speech if gated else None)
