"""The voice bench's measures (bench/voice_metrics.py): EER, the GMM-UBM verifier's scoring, word errors; the
candidate pools' readers (bench/voice_choice_pool.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))

import voice_choice_pool as vcp
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


def _pool(rng: np.random.Generator, speakers: int, away: float) -> dict[str, np.ndarray]:
    """A synthetic pool: per speaker two halves, eight draws each; every draw's output embedding is the speaker's
    voice plus `away` times a random direction (the disguise's distance), its chooser distances random."""
    names = np.repeat([f"s{i}" for i in range(speakers)], 2)
    voices = rng.standard_normal((speakers, 32))[np.arange(2 * speakers) // 2]
    data: dict[str, np.ndarray] = {"speakers": names, "stoi": rng.uniform(0.6, 0.7, (2 * speakers, 8))}
    for m in vcp.MODELS:
        orig = voices + 0.3 * rng.standard_normal(voices.shape)
        out = voices[:, None] + away * rng.standard_normal((2 * speakers, 8, 32))
        data[f"orig_{m}"] = orig / np.linalg.norm(orig, axis=1, keepdims=True)
        data[f"out_{m}"] = out / np.linalg.norm(out, axis=2, keepdims=True)
        data[f"dist_{m}"] = rng.uniform(0.1, 0.5, (2 * speakers, 8))
    return data


def test_pool_arms_compare_on_the_same_draws(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`arms` reads each arm against the shipped one: an arm identical to it differs by exactly nothing, and an
    arm whose outputs lie far from the speaker reads a higher ignorant EER, with an interval above zero."""
    rng = np.random.default_rng(0)
    shipped = _pool(rng, 20, away=0.5)
    far = {**shipped, **{k: v for k, v in _pool(rng, 20, away=4.0).items() if k.startswith("out_")}}
    for arm, data in {"shipped": shipped, "smooth": shipped, "low": far}.items():
        (tmp_path / arm).mkdir()
        np.savez(tmp_path / arm / "p0.npz", **data)
    vcp.arms(vcp.argparse.Namespace(folder=tmp_path))
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    rows = {line.split(" | ")[0] + line.split(" | ")[1]: line for line in lines}
    assert "(+0.0 [+0.0, +0.0])" in rows["| smooth8"] and "+nan" not in rows["| smooth8"]
    low = rows["| low8"].split(" | ")[2]  # GE2E's cell: "EER* (diff [low, high])"
    assert float(low.split("[")[1].split(",")[0]) > 0, low
    assert vcp.ignorant(far, np.zeros(40, int), "ge2e") > vcp.ignorant(shipped, np.zeros(40, int), "ge2e") + 0.1
    lazy = [line for line in rows.values() if line.startswith("| low lazy (4+4) |")]
    assert len(lazy) == 1 and lazy[0].count(" vs ") == len(vcp.MODELS) and "nan" not in lazy[0]


def test_pool_total_is_the_shipped_choice() -> None:
    """The pool's rule adds distances as unseen does: per half, the shipped weights pick what select.totals picks."""
    data = _pool(np.random.default_rng(1), 5, away=1.0)
    picked = vcp.choose(data, vcp.SHIPPED, 6)
    for i, pick in enumerate(picked):
        rows = np.stack([data["dist_ge2e"][i, :6], data["dist_res2net"][i, :6]])
        assert pick == int(np.argmax(vcp.sel.totals(rows, (vcp.sel.GE2E_WEIGHT, 1.0))))
    assert vcp.SHIPPED == {"ge2e": vcp.sel.GE2E_WEIGHT, "res2net": 1.0}


def test_a_screen_of_two_draws_reads_each_draw_without_a_choice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`pool --use 2` arms are read draw by draw against the shipped arm's same two draws: an identical arm moves
    nothing, and one whose outputs lie farther from the speaker lowers the speaker's own trials' z-score."""
    rng = np.random.default_rng(2)
    shipped = _pool(rng, 20, away=0.5)
    far = {**shipped, **{k: v for k, v in _pool(rng, 20, away=4.0).items() if k.startswith("out_")}}

    def first_two(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {k: v[:, :2] if k.startswith(("dist_", "out_", "stoi")) else v for k, v in data.items()}

    for arm, data in {"shipped": shipped, "range-low": first_two(shipped), "monotone": first_two(far)}.items():
        (tmp_path / arm).mkdir()
        np.savez(tmp_path / arm / "p0.npz", **data)
    vcp.arms(vcp.argparse.Namespace(folder=tmp_path))
    rows = {line.split(" | ")[0]: line for line in capsys.readouterr().out.splitlines() if "each of 2 draws" in line}
    same, farther = rows["| range-low (each of 2 draws)"], rows["| monotone (each of 2 draws)"]
    assert same.count("(+0.0); z +0.00 ± 0.00") == len(vcp.MODELS), same
    zs = [float(cell.split("z ")[1].split(" ±")[0]) for cell in farther.split(" | ")[1:-1]]
    assert len(zs) == len(vcp.MODELS) and all(z < -1 for z in zs), farther
    assert (vcp._closeness(far, "ge2e", 2) < vcp._closeness(shipped, "ge2e", 2)).mean() > 0.9
