"""The synthetic source is voiced only where speech is heard: a hum or room noise in a pause stays noise.

Before 2026-12-06 the excitation voiced every loud frame the pitch track found periodic, so a hum within 20 dB
of the speech came out of a pause as a buzz on the new pitch (docs/voices.md, "Voiced only where speech is heard").
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import REPO
from test_voice_disguise import first_voice, vowel

from unseen.audio import disguise as dg
from unseen.audio import select, vad
from unseen.audio import voice as voice_module

sys.path.insert(0, str(REPO / "bench"))
from voice_pauses import harmonicity, hum, loudness, pauses  # the measures of the pause bench, on synthetic sound here

RATE = 16000


def with_hum(speech: np.ndarray, below_db: float, seed: int = 0) -> np.ndarray:
    """`speech` with a 120-Hz hum (ten harmonics) over noise 10 dB under it added throughout, `below_db` under
    the speech's loud frames."""
    return speech + hum(speech.size, RATE, loudness(speech, RATE) * 10 ** (-below_db / 20), seed)


def level_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2)))


@pytest.fixture(scope="module")
def vowel_then_hum() -> np.ndarray:
    """1.5 s of a vowel, then a 1.5-s pause holding a hum and noise 17 dB under the vowel (1 × n)."""
    voiced = vowel(1.5, RATE, channels=1)[0]
    pause = hum(voiced.size, RATE, np.sqrt(np.mean(voiced**2)) * 10 ** (-17 / 20))
    return np.concatenate([voiced, pause]).astype(np.float32)[None]


def test_a_hum_in_a_pause_comes_out_as_noise_not_buzz(vowel_then_hum: np.ndarray) -> None:
    x = vowel_then_hum
    speech, pause = slice(RATE // 10, 14 * RATE // 10), slice(17 * RATE // 10, None)  # 0.2 s from the edge
    before = dg.disguise(x, RATE, np.random.default_rng(4))[0]  # voiced wherever the pitch track finds a period
    after = dg.disguise(x, RATE, np.random.default_rng(4), [(0.0, 1.5)])[0]
    assert harmonicity(x[0, pause], RATE) > 0.85  # the hum is periodic
    assert harmonicity(before[pause], RATE) > 0.5  # and was rebuilt as a buzz (the known limit)
    assert harmonicity(after[speech], RATE) > 0.55  # the vowel is still voiced
    assert harmonicity(after[pause], RATE) < 0.3  # the pause is noise
    assert harmonicity(after[pause], RATE) < harmonicity(before[pause], RATE) - 0.25
    # far from the pause the same output, but for the block's level (each block is brought to its input's energy)
    assert np.corrcoef(after[: RATE // 2], before[: RATE // 2])[0, 1] > 0.9999


def test_the_pause_keeps_the_level_noise_gets(vowel_then_hum: np.ndarray) -> None:
    """The pause's frames are excited by noise at their own energy, as any unvoiced frame is: its level is the
    level the method gives a pause of noise alone (about 5.5 dB under the input's, a loss older than this: the
    overlap-add of independent noise frames, docs/voices.md), and the vowel's is unchanged."""
    x = vowel_then_hum
    noise_only = x.copy()
    rng = np.random.default_rng(1)
    tail = noise_only[0, 3 * RATE // 2 :]
    tail[:] = rng.standard_normal(tail.size) * np.sqrt(np.mean(tail**2))
    pause, speech = slice(17 * RATE // 10, None), slice(RATE // 10, 14 * RATE // 10)
    after = dg.disguise(x, RATE, np.random.default_rng(4), [(0.0, 1.5)])[0]
    before = dg.disguise(x, RATE, np.random.default_rng(4))[0]
    noise = dg.disguise(noise_only, RATE, np.random.default_rng(4), [(0.0, 1.5)])[0]
    assert level_db(after[pause]) == pytest.approx(level_db(noise[pause]), abs=1.0)
    assert level_db(after[pause]) == pytest.approx(level_db(x[0, pause]) - 5.5, abs=1.5)
    assert level_db(after[speech]) == pytest.approx(level_db(before[speech]), abs=0.5)


def test_without_spans_or_with_speech_everywhere_the_output_is_as_before(vowel_then_hum: np.ndarray) -> None:
    x = np.concatenate([vowel_then_hum, vowel_then_hum * 0.5])  # two channels: each voiced by the same spans
    before = dg.disguise(x, RATE, np.random.default_rng(9))
    assert np.array_equal(dg.disguise(x, RATE, np.random.default_rng(9), None), before)
    assert np.array_equal(dg.disguise(x, RATE, np.random.default_rng(9), [(0.0, 3.0)]), before)
    assert not np.array_equal(dg.disguise(x, RATE, np.random.default_rng(9), [(0.0, 1.5)]), before)


@pytest.mark.parametrize(("rate", "channels"), [(RATE, 1), (48000, 2)])
def test_spans_are_read_on_the_file_s_clock_across_blocks(rate: int, channels: int) -> None:
    """32 s (three 15-s blocks) of hum with vowels at 3-5 s and 20-22 s, spans only there: every pause, in
    every block and across their joins, is noise where it was buzz, and both vowels are voiced (a block reading
    the spans on its own clock would voice the second block's hum at 5-7 s and not its vowel)."""
    n, voiced = 32 * rate, vowel(2.0, rate, channels=1)[0]
    x = hum(n, rate, float(np.sqrt(np.mean(voiced**2))) * 10 ** (-17 / 20))
    for start in (3, 20):
        x[start * rate : (start + 2) * rate] += voiced
    x = np.tile(x, (channels, 1))
    before = dg.disguise(x, rate, np.random.default_rng(2))[0]
    out = dg.disguise(x, rate, np.random.default_rng(2), [(3.0, 5.0), (20.0, 22.0)])
    assert out.shape == x.shape and np.isfinite(out).all()
    for start, end in ((3.2, 4.8), (20.2, 21.8)):
        assert harmonicity(out[-1, int(start * rate) : int(end * rate)], rate) > 0.55
    for start, end in ((6.0, 19.5), (22.5, 31.5)):
        pause = slice(int(start * rate), int(end * rate))
        assert harmonicity(before[pause], rate) > 0.5
        assert harmonicity(out[-1, pause], rate) < 0.3


def test_a_dev_voice_with_a_hum_is_disguised_on_the_spans_heard() -> None:
    """A development voice with a hum added 12 dB under its loud frames (its recording's own room noise makes a
    weaker hum less periodic than the pitch track voices), disguised as unseen does (the detector's spans, the
    farthest of six): same length, finite, and its pauses less periodic than with the source voiced anywhere."""
    x = with_hum(first_voice(8.0), 12.0).astype(np.float32)
    heard = vad.hear(x).spans
    assert heard
    gated = select.disguise(x[None], RATE, x, heard, rng=np.random.default_rng(5))[0]
    anywhere = select.disguise(x[None], RATE, x, heard, rng=np.random.default_rng(5), gated=False)[0]
    assert gated.shape == x.shape and np.isfinite(gated).all()
    quiet = pauses(heard, x.size / RATE, 0.2)
    assert quiet, "the first 8 s of the first dev voice have pauses"
    inside = np.concatenate([gated[int(a * RATE) : int(b * RATE)] for a, b in quiet])
    before = np.concatenate([anywhere[int(a * RATE) : int(b * RATE)] for a, b in quiet])
    assert harmonicity(inside, RATE) < harmonicity(before, RATE) - 0.1


def test_unseen_s_own_path_passes_the_spans_it_heard(monkeypatch: pytest.MonkeyPatch) -> None:
    """voice.treat_samples (the Python API, as voice.prepare does) gives the disguise the detector's spans."""
    x = np.tile(with_hum(first_voice(4.0), 17.0).astype(np.float32), (2, 1))
    seen: list[object] = []
    transform = dg.transform

    def spy(samples: np.ndarray, rate: int, chosen: dg.Voice, speech: object = None) -> np.ndarray:
        if samples.shape == x.shape:  # the file itself, not the candidates' excerpts
            seen.append(speech)
        return transform(samples, rate, chosen, speech)  # type: ignore[arg-type]

    monkeypatch.setattr(dg, "transform", spy)
    out = voice_module.treat_samples(x, RATE, "disguise")
    assert out.shape == x.shape and np.isfinite(out).all()
    assert seen and isinstance(seen[0], list) and seen[0] and all(len(span) == 2 for span in seen[0])
