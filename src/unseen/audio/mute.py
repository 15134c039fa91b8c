"""`--voice mute` and the spans a person marked: silence where a voice is heard, every other sound untouched.

Silence, not a tone: a tone over every word would mark exactly where someone spoke and how long (as silence
does), but also cover the other sounds of those moments for no gain, and a steady beep is harder to listen
through than a gap. The silenced stretch is each span heard as speech widened by MARGIN on both sides, with a
short FADE outside it so that no click is added where the sound stops and starts again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from unseen.audio import vad
from unseen.audio.vad import Span

# Seconds added before and after each span the detector hears: its frames are 32 ms and its hysteresis enters
# speech only once a frame is confidently voiced, so the soft start of a first word (an unvoiced consonant, a
# breath) and a voice's tail in a reverberant room fall outside the frames it marks; 0.2 s covers a syllable.
MARGIN = 0.2
FADE = 0.01  # seconds of raised-cosine ramp outside each silenced span: no click where the sound stops
# `mute` decides on a lower threshold than the one speech is counted at, and counts a stretch of any length:
# a short word is still a voice. The check afterwards listens at vad.THRESHOLD.
MUTE_THRESHOLD = 0.3
_PASSES = 3  # listen again to what is left after muting, and mute what is still heard, at most this many times


def merged(spans: Iterable[Span], margin: float = 0.0, end: float | None = None) -> list[Span]:
    """Spans widened by `margin` (clipped to 0..end), sorted, the overlapping ones joined."""
    out: list[list[float]] = []
    widened = ((max(0.0, a - margin), b + margin if end is None else min(end, b + margin)) for a, b in spans)
    for start, stop in sorted(widened):
        if stop <= start:
            continue
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], stop)
        else:
            out.append([start, stop])
    return [(a, b) for a, b in out]


def silence(samples: np.ndarray, rate: int, spans: Iterable[Span]) -> np.ndarray:
    """A copy of (channels, n) `samples` with each span (seconds from the first sample) silent, faded in and
    out over FADE outside it; everything else unchanged, sample for sample."""
    out = np.array(samples, np.float32, copy=True)
    silence_in_place(out, rate, spans)
    return out


def silence_in_place(out: np.ndarray, rate: int, spans: Iterable[Span]) -> None:
    """Silence each span of `out` (no copy: a long stream's sound is held once), with the fades outside it."""
    n = out.shape[1]
    fade = max(1, round(FADE * rate))
    ramp = (0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, fade + 2, dtype=np.float32)[1:-1])).astype(np.float32)
    for start, stop in spans:
        a, b = max(0, int(np.floor(start * rate))), min(n, int(np.ceil(stop * rate)))
        if b <= a:
            continue
        out[:, a:b] = 0.0
        before = out[:, max(0, a - fade) : a]  # 1 → 0 towards the span
        before *= ramp[fade - before.shape[1] :]
        after = out[:, b : b + fade]  # 0 → 1 away from it
        after *= ramp[::-1][: after.shape[1]]


def mute_speech(
    samples: np.ndarray,
    rate: int,
    mono16k_of: Callable[[np.ndarray], np.ndarray],
    first_heard: list[Span],
    in_place: bool = False,
) -> tuple[np.ndarray, list[Span]]:
    """`samples` with every stretch of speech silenced, and the silenced spans (margins included).

    `first_heard` is what the detector heard at MUTE_THRESHOLD in the input; what it still hears after
    silencing (speech beside a margin, a voice it took up only once the louder one next to it was gone) is
    silenced too, up to _PASSES times. `mono16k_of` makes the detector's input from (channels, n) samples.
    `in_place`: `samples` itself is silenced (a decoded stream nobody else holds: no second copy of it).
    """
    end = samples.shape[1] / rate
    spans = merged(first_heard, MARGIN, end)
    out = samples if in_place else np.array(samples, np.float32, copy=True)
    silence_in_place(out, rate, spans)
    for _ in range(_PASSES):
        more = vad.hear(mono16k_of(out), MUTE_THRESHOLD, 0.0).spans
        fresh = merged([s for s in more if not any(a <= s[0] and s[1] <= b for a, b in spans)], MARGIN, end)
        if not fresh:
            break
        silence_in_place(out, rate, fresh)
        spans = merged([*spans, *fresh], 0.0, end)
    return out, spans
