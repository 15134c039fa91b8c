"""How often the voice check flags a disguised stretch: the same stretch, before and after, by the speaker model.

Four development voices (../shared/data/voices: every 7th recording, 6 s of it from 1 s into an 8-s clip, over
the tests' tone-and-noise background), each disguised 8 times (fresh parameters every time, as a run
does); every stretch the check would compare is scored with audio/speaker.py. Printed: the similarity's mean,
lowest and highest, and the share of stretches at or above MATCH_THRESHOLD (a residual in a run).

    .venv/bin/python bench/voice_check_rate.py     # about a minute on 2 busy cores
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from voice_clips import talking  # noqa: E402

from unseen.audio import check, speaker, vad  # noqa: E402
from unseen.audio.disguise import disguise  # noqa: E402
from unseen.audio.streams import mono16k  # noqa: E402


def main() -> None:
    scores: list[float] = []
    for which in range(4):
        sound = talking(8.0, which * 7)
        before = mono16k(sound, 48000)
        heard = vad.hear(before).spans
        for _ in range(8):
            after = mono16k(disguise(sound, 48000), 48000)
            for group in check.stretches(heard):
                a, b = check._voiced(before, group), check._voiced(after, group)
                scores.append(speaker.similarity(speaker.embed(a, 16000), speaker.embed(b, 16000)))
    s = np.array(scores)
    print(
        f"{s.size} stretches: similarity mean {s.mean():.3f}, lowest {s.min():.3f}, highest {s.max():.3f}; "
        f"at or above MATCH_THRESHOLD {speaker.MATCH_THRESHOLD}: {(s >= speaker.MATCH_THRESHOLD).mean():.0%}"
    )


if __name__ == "__main__":
    main()
