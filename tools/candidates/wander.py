"""A pseudo-speaker that changes along the file: the disguise's voice moves between anchor voices (measured in
bench/voice.py's vary-* methods, not shipped: docs/voices.md).

The disguise (`disguise.py`) draws one voice per file, which drifts only slightly. A speaker verifier averages
the embeddings of short windows (GE2E: 1.6-s partials, 1.3 a second), so a file that is one consistent
pseudo-speaker gives it one consistent voice to average. Here the voice's parameters (pitch target, formant
scale, McAdams α, bends, colour, and the synthetic source's tilt, breathiness and intonation range) move
between anchor values placed along the file, eased (a raised cosine) from one to the next so nothing jumps:

- *continuously*: anchors every `spacing` seconds, the voice always gliding;
- *at pauses*: the voice is constant within a phrase and changes across each pause (in silence, so the change
  itself is not heard), at most once per `spacing` seconds.

An anchor is either a whole new draw from the disguise's ranges (`across`: the voice wanders across the whole
range, back and forth past where the speaker's own voice lies) or the file's voice moved further *away* from
the speaker's own by a random share of `AWAY` per parameter (the direction is the file's own offset's), so the
average of the windows cannot come back towards the original. `Path` holds the anchors as offsets from the
file's voice (`vector` lays a voice out as one row); `Path.at` gives the offsets per frame, which the shipped
transform applies when a `Voice` carries it as its `course` (`vary` draws one). Drawn per file, never stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from unseen.audio import disguise as dg

# One row per anchor: log pitch ratio, log formant scale, α, source tilt (dB/octave), breathiness, intonation
# range, then the warp's bends (log), then the equaliser's bands (dB).
_PITCH, _FORMANT, _ALPHA, _TILT, _BREATH, _RANGE, _FIXED = 0, 1, 2, 3, 4, 5, 6
# How far an `away` anchor moves each parameter, at most (uniformly 0 to this): 3 semitones, 10% formants...
AWAY = {_PITCH: 3 * np.log(2) / 12, _FORMANT: 0.1, _ALPHA: 0.1, _TILT: 3.0, _BREATH: 0.15, _RANGE: 0.4}
AWAY_BEND, AWAY_COLOUR_DB = 0.05, 6.0
_PAUSE_SECONDS = 0.15  # the shortest stretch of quiet 50-ms frames taken for a pause
_PAUSE_LEVEL = 0.03  # quiet: 15 dB below the loud frames (the 95th percentile of energy)


@dataclass(frozen=True)
class Path:
    """Anchor times (s, increasing) and the voice's offsets there (anchors × parameters); eased between."""

    times: np.ndarray
    values: np.ndarray
    bends: int  # how many of the columns after the fixed ones are bends (the rest: colour bands)

    def at(self, t: np.ndarray) -> dg.Offsets:
        """The offsets at times `t` (s): constant before the first anchor and after the last."""
        index = np.clip(np.searchsorted(self.times, t, side="right") - 1, 0, len(self.times) - 1)
        after = np.minimum(index + 1, len(self.times) - 1)
        span = self.times[after] - self.times[index]
        share = np.clip((t - self.times[index]) / np.where(span > 0, span, 1.0), 0.0, 1.0)
        ease = (0.5 - 0.5 * np.cos(np.pi * share))[:, None]  # no corner where one glide meets the next
        rows = self.values[index] * (1 - ease) + self.values[after] * ease
        column = [rows[:, i : i + 1] for i in range(_FIXED)]
        return dg.Offsets(*column, bends=rows[:, _FIXED : _FIXED + self.bends], colour=rows[:, _FIXED + self.bends :])


def vary(
    rng: np.random.Generator,
    samples: np.ndarray,
    rate: int,
    found: dg.Profile | None,
    targets: dg.Targets | None = None,
    mode: str = "across",
    spacing: float = 1.5,
    pauses: bool = False,
    share: float = 1.0,
) -> dg.Voice:
    """A voice drawn as `dg.draw` does, which then changes along the file: anchors every `spacing` seconds (or
    across pauses, at most that often), each a whole new draw (`mode` "across"), the file's voice moved further
    from the speaker's own ("away", by up to `share` of AWAY), or either way from the file's voice ("around",
    as far)."""
    voice = dg.draw(rng, found, targets)
    duration = samples.shape[1] / rate if samples.ndim == 2 else 0.0
    times = at_pauses(samples, rate, spacing) if pauses else steady(rng, duration, spacing)
    own, bends = vector(voice), len(voice.bends)
    if mode == "across":
        path = across(lambda: vector(dg.draw(rng, found, targets)), own, times, bends)
    else:
        path = away(rng, own, times, bends, share, around=mode == "around")
    return replace(voice, course=path.at)


def vector(voice: dg.Voice) -> np.ndarray:
    """A voice's varied parameters as one row (see the layout above); a voice without a source has a neutral one."""
    source = voice.source
    fixed = [
        np.log(voice.pitch),
        np.log(voice.formant),
        voice.alpha,
        source.tilt if source else 0.0,
        source.breath if source else 0.0,
        source.range if source else 1.0,
    ]
    return np.array(fixed + list(voice.bends) + list(voice.colour), dtype=np.float64)


def across(fresh: Callable[[], np.ndarray], own: np.ndarray, times: np.ndarray, bends: int) -> Path:
    """Each anchor a whole new draw (`fresh()`: a row as `vector`), as offsets from the file's row `own`."""
    values = np.array([fresh() - own for _ in times])
    return Path(times, values, bends)


def away(
    rng: np.random.Generator, own: np.ndarray, times: np.ndarray, bends: int, share: float = 1.0, around: bool = False
) -> Path:
    """Each anchor the file's voice moved by a random part (0 to `share`) of `furthest`'s offsets; `around`:
    from −`share` to `share` of them instead, a variation centred on the file's voice (as far on average)."""
    values = furthest(own, bends) * rng.uniform(-share if around else 0.0, share, (len(times), len(own)))
    return Path(times, values, bends)


def furthest(own: np.ndarray, bends: int) -> np.ndarray:
    """The largest offsets an `away` anchor takes: AWAY per parameter, in the direction the file's own draw
    already lies from the speaker's unchanged voice (pitch and formant ratio 1, α 1, no bend or colour, no tilt,
    breathiness 0, range 1): further from the speaker, never back towards them."""
    neutral = np.zeros_like(own)
    neutral[_ALPHA], neutral[_RANGE] = 1.0, 1.0
    direction = np.sign(own - neutral)
    direction[direction == 0] = 1.0
    widths = np.zeros_like(own)
    for column, width in AWAY.items():
        widths[column] = width
    widths[_FIXED : _FIXED + bends] = AWAY_BEND
    widths[_FIXED + bends :] = AWAY_COLOUR_DB
    return direction * widths


def steady(rng: np.random.Generator, duration: float, spacing: float) -> np.ndarray:
    """Anchor times every `spacing` seconds over `duration`, from a random phase (the first one before 0)."""
    start = -float(rng.uniform(0.0, spacing))
    return start + spacing * np.arange(int(np.ceil((duration - start) / spacing)) + 1)


def at_pauses(samples: np.ndarray, rate: int, spacing: float) -> np.ndarray:
    """Anchor times in pairs, the start and end of each pause (so the voice glides only through the quiet),
    a pause taken only `spacing` seconds or more after the last change; [0] alone where there is none."""
    quiet = _quiet_frames(samples, rate)
    frame = 0.05
    edges = np.flatnonzero(np.diff(np.concatenate(([0], quiet.astype(np.int8), [0]))))
    times: list[float] = [0.0]
    for first, end in zip(edges[::2], edges[1::2], strict=True):
        if (end - first) * frame < _PAUSE_SECONDS or first == 0 or end == len(quiet):
            continue  # too short, or the file's leading or trailing silence
        if first * frame - times[-1] >= spacing:
            times += [first * frame, end * frame]
    return np.array(times)


def _quiet_frames(samples: np.ndarray, rate: int) -> np.ndarray:
    """Per non-overlapping 50-ms frame (channels' energies summed, a channel at a time): quieter than 15 dB
    below the loud frames."""
    size = max(1, int(0.05 * rate))
    count = samples.shape[1] // size
    energy = np.zeros(count)
    for channel in samples:
        for first in range(0, count, 4096):  # a few MB at a time: an hour is never copied whole
            last = min(count, first + 4096)
            part = channel[first * size : last * size].astype(np.float64).reshape(-1, size)
            energy[first:last] += np.sum(part**2, axis=1)
    if count == 0:
        return np.zeros(0, bool)
    return energy < _PAUSE_LEVEL * np.percentile(energy, 95)
