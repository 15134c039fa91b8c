"""The choice on excerpts spread over the speech (tools/candidates/spread.py, measured and not shipped)."""

from __future__ import annotations

import sys

import numpy as np
from conftest import REPO

sys.path.insert(0, str(REPO / "tools"))  # the candidates are not shipped: tools/candidates
from candidates import spread

RATE = spread.RATE


def test_excerpts_are_cut_in_speech_time_across_the_spans() -> None:
    mono = np.arange(10 * RATE, dtype=np.float32)  # each sample's value is its index: where a cut came from
    speech = [(1.0, 3.0), (5.0, 6.0), (8.0, 10.0)]  # 5 s of speech
    part = spread.cut(mono, speech, 1.5, 2.0)  # 0.5 s of the first span, all of the second, 0.5 s of the third
    assert part.size == 2 * RATE
    assert part[0] == 2.5 * RATE and part[RATE // 2] == 5 * RATE and part[-1] == 8.5 * RATE - 1
    first, middle, last = spread.excerpts(mono, speech, 3, 1.0)  # starts at 0, 2 and 4 s of speech
    assert first[0] == 1 * RATE and middle[0] == 5 * RATE and last[-1] == 10 * RATE - 1
    assert all(p.size == RATE for p in (first, middle, last))
    (whole,) = spread.excerpts(mono, speech, 3, 6.0)  # less speech than one excerpt: all of it, once
    assert whole.size == 5 * RATE
    assert spread.cut(mono, speech, 5.0, 1.0).size == 0  # past the speech: nothing


def test_the_kept_voice_is_the_one_whose_worst_excerpt_is_farthest(monkeypatch) -> None:
    voices = ["near everywhere", "far at the start only", "far everywhere"]
    cosines = {"near everywhere": [0.8, 0.8], "far at the start only": [0.2, 0.9], "far everywhere": [0.5, 0.6]}
    monkeypatch.setattr(spread, "worst", lambda parts, vs: [max(cosines[v]) for v in vs])
    monkeypatch.setattr(spread.dg, "draw", lambda rng, found: voices[int(rng.integers(1000)) % 3])
    kept = []
    monkeypatch.setattr(spread.dg, "transform", lambda x, rate, voice: kept.append(voice) or x)
    monkeypatch.setattr(spread.dg, "profile", lambda x, rate: None)

    class Cycle:  # the three voices in turn
        def __init__(self) -> None:
            self.n = -1

        def integers(self, high: int) -> int:
            self.n += 1
            return self.n

    mono = np.zeros(8 * RATE, np.float32)
    spread.disguise(mono[None], RATE, mono, [(0.0, 8.0)], candidates=3, rng=Cycle())  # type: ignore[arg-type]
    assert kept == ["far everywhere"]
