"""The voice bench's measures (bench/voice_metrics.py): EER, the GMM-UBM verifier's scoring, word errors."""

from __future__ import annotations

import sys

import numpy as np
from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))

import voice_metrics as vm


def test_eer_of_separated_mixed_and_reversed_scores() -> None:
    same = np.array([True, True, False, False])
    assert vm.eer(np.array([0.9, 0.8, 0.2, 0.1]), same) == 0.0
    assert vm.eer(np.array([0.1, 0.2, 0.8, 0.9]), same) == 1.0
    assert vm.eer(np.array([0.9, 0.2, 0.8, 0.1]), same) == 0.5


def test_gmm_ubm_tells_synthetic_speakers_apart() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 1, (6, 4))  # six "speakers", each a cloud of frames around its own centre

    def utterance(s: int) -> np.ndarray:
        return centres[s] + 0.5 * rng.standard_normal((300, 4))

    ubm = vm.fit_ubm(np.vstack([utterance(s) for s in range(6)]), rng, components=8, iterations=10)
    enrol, test = [utterance(s) for s in range(6)], [utterance(s) for s in range(6)]
    scores = vm.linear_scores(ubm, enrol, test)
    assert (np.argmax(scores, axis=0) == np.arange(6)).all()  # each test utterance scores its own speaker highest


def test_word_error_rate_counts_edits_over_reference_words() -> None:
    assert vm.word_error_rate("a b c", "a x c") == (1, 3)
    assert vm.word_error_rate("a b c", "a b c d") == (1, 3)
    assert vm.word_error_rate("a b", "") == (2, 2)


def test_pooled_word_error_rate_and_its_bootstrap_interval() -> None:
    edits, words = np.array([1, 3, 0, 4]), np.array([10, 10, 5, 5])
    assert vm.pooled_rate(edits, words) == 100 * 8 / 30
    low, high = vm.pooled_interval(edits, words, np.random.default_rng(0))
    assert low < vm.pooled_rate(edits, words) < high
    assert vm.pooled_interval(edits, words, np.random.default_rng(0)) == (low, high)  # seeded: reproducible
    assert vm.pooled_interval(2 * words, words, np.random.default_rng(0)) == (200.0, 200.0)  # one rate everywhere
    rng = np.random.default_rng(1)  # more utterances alike: a narrower interval
    many = vm.pooled_interval(np.tile(edits, 25), np.tile(words, 25), rng)
    assert many[1] - many[0] < high - low


def test_wer_utterances_are_spread_over_the_speakers_and_a_shift_takes_the_others() -> None:
    import voice  # the bench itself (its imports: unseen and tools/candidates)

    first = voice.wer_picks(24, 96)  # 48 speakers, two halves each: the first half of every other speaker
    assert first == list(range(0, 96, 4))
    assert sorted(first + voice.wer_picks(24, 96, shift=2)) == list(range(0, 96, 2))  # every speaker's first half
    assert voice.wer_picks(48, 48) == list(range(48))  # as many as there are: all of them
