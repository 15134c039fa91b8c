"""A video's sound on the review page: where speech is heard (for the timeline), the voice setting chosen for
the video, and the spans of time a person marked to silence, as the page sends them.

The spans are kept as the regions file keeps them (regions.VideoEntry.silence: seconds on a player's clock) and
written by the same pipeline as `unseen --regions` (kinds.Videos.apply); nothing here touches the sound itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from unseen import regions
from unseen.audio.voice import Timeline
from unseen.config import Voice

MOST_SPANS = 1000  # spans one video may hold: far more than a person marks, few enough to check at once


def view(entry: regions.VideoEntry, default: Voice, heard: Timeline | None, unheard: str | None) -> dict[str, object]:
    """The video's sound as the page shows it: the voice setting (the review's --voice until one is chosen), the
    spans to silence, and where speech is heard (None while it is being listened to)."""
    speech = None if heard is None else {"streams": heard.streams, "spans": heard.spans}
    return {
        "voice": (entry.voice or default).value,
        "silence": [[a, b] for a, b in entry.silence],
        "seconds": entry.frames / entry.fps,
        "speech": speech,
        "unheard": unheard,
    }


def voice(value: object) -> Voice:
    """A voice setting the page sent."""
    if not isinstance(value, str) or value not in [v.value for v in Voice]:
        raise ValueError(f"voice is one of {', '.join(v.value for v in Voice)}")
    return Voice(value)


def silence(value: object, entry: regions.VideoEntry) -> list[tuple[float, float]]:
    """The spans to silence as the page sends them (the whole list), to the millisecond, never shorter than
    asked (a start rounded down, an end up), checked as a regions file's are (regions.silence_spans)."""
    if not isinstance(value, list) or len(value) > MOST_SPANS:
        raise ValueError(f"silence is a list of at most {MOST_SPANS} [start, end] spans")
    seconds = entry.frames / entry.fps
    spans: list[list[float]] = []
    for span in value:
        if not (isinstance(span, list) and len(span) == 2 and all(_number(v) for v in span)):
            raise ValueError("a span to silence is [start, end] in seconds")
        start, end = float(span[0]), float(span[1])
        if not 0 <= start < end:
            raise ValueError("a span to silence ends after it starts")
        # The last frame's time may lie up to a frame past frames / fps (a video stream that starts after the
        # sound): a span marked there starts just inside the video, as the regions file requires.
        if seconds <= start < seconds + 1 / entry.fps:
            start = seconds - 0.001
        spans.append([_ms(start, math.floor), _ms(end, math.ceil)])
    return regions.silence_spans(spans, seconds)


def _ms(seconds: float, rounding: Callable[[float], int]) -> float:
    """Seconds to the millisecond, rounded by `rounding`; a value already in whole milliseconds is kept as it is
    (1.001 * 1000 is 1000.9999999999999 in floating point: a span sent back unchanged must not move)."""
    return rounding(round(seconds * 1000, 6)) / 1000


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
