"""Farthest of K (unseen.audio.select): the draw kept is the one whose output sounds least like the input."""

from __future__ import annotations

import numpy as np
import pytest
from test_voice_disguise import first_voice, vowel

from unseen.audio import disguise as dg
from unseen.audio import res2net, select, speaker


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """Four seconds of a development voice, mono at 16 kHz (the dev voices' own rate)."""
    return first_voice(4.0)


def test_excerpt_joins_spans_in_order_up_to_its_length() -> None:
    mono = np.arange(10 * select.RATE, dtype=np.float32)
    part = select.excerpt(mono, [(1.0, 2.0), (4.0, 7.0), (8.0, 9.0)], seconds=2.5)
    np.testing.assert_array_equal(part[: select.RATE], mono[select.RATE : 2 * select.RATE])
    np.testing.assert_array_equal(part[select.RATE :], mono[4 * select.RATE : round(5.5 * select.RATE)])
    assert select.excerpt(mono, []).size == 0


def test_the_draw_kept_is_the_farthest_by_both_models_together(speech: np.ndarray) -> None:
    x = speech[None]
    found = dg.profile(x, select.RATE)
    again = np.random.default_rng(3)  # the same draws as the call below makes from its generator
    voices = [dg.draw(again, found) for _ in range(4)]
    part = speech[: round(select.EXCERPT_SECONDS * select.RATE)]  # what the choice hears of the 4 s of speech
    assert np.array_equal(select.excerpt(speech, [(0.0, 4.0)]), part)
    far = select.distances(part, voices)
    assert far.shape == (2, 4)
    assert np.ptp(far, axis=1).min() > 0.005  # both models see the candidates differ, so the choice matters
    z = (far - far.mean(axis=1, keepdims=True)) / far.std(axis=1, keepdims=True)
    kept = int(np.argmax(select.GE2E_WEIGHT * z[0] + z[1]))
    out = select.disguise(x, select.RATE, speech, [(0.0, 4.0)], 4, np.random.default_rng(3))
    np.testing.assert_array_equal(out, dg.transform(x, select.RATE, voices[kept]))
    # each row is what that model says of the excerpt's disguise by the voice kept, measured on its own
    heard_part = dg.transform(part[None], select.RATE, voices[kept])[0]
    for row, model in enumerate((speaker, res2net)):
        own, heard = model.embed(part, select.RATE), model.embed(heard_part, select.RATE)
        assert 1.0 - speaker.similarity(own, heard) == pytest.approx(far[row, kept], abs=1e-4)


def test_each_model_counts_by_its_weight_not_its_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    """Standardised, a model's distances count by the model's weight whatever their spread: GE2E's scaled by
    ten keeps the same choice; where GE2E barely prefers one draw and the Res2Net strongly another, the Res2Net's
    is kept; two draws the models disagree on go to GE2E's farther (its weight is the larger)."""
    assert select.GE2E_WEIGHT > 1.0
    voices = [dg.draw(np.random.default_rng(i)) for i in range(4)]
    ge2e, res = np.array([0.30, 0.31, 0.29, 0.30]), np.array([0.02, 0.0, 0.01, 0.30])
    cases = [
        (np.stack([ge2e, res]), 3),  # GE2E's 1 against the Res2Net's 3, which stands far out
        (np.stack([10 * ge2e, res]), 3),  # the same at ten times GE2E's scale
        (np.array([[0.1, 0.3], [0.3, 0.1]]), 1),  # a disagreement between two: GE2E's
    ]
    for rows, chosen in cases:
        monkeypatch.setattr(select, "distances", lambda _part, _voices, rows=rows: rows)
        pool = voices[: rows.shape[1]]
        assert select.farthest(np.zeros(select.RATE, np.float32), pool) is pool[chosen], rows


def test_totals_of_a_batch_are_each_files_own_and_ties_go_to_the_first_model() -> None:
    """The bench's pools add many files' distances at once: each file's totals must be those of the file alone
    (the z-scores taken over its own candidates), and a tie of the sums goes to the first model's farther."""
    rng = np.random.default_rng(3)
    batch = rng.uniform(0.1, 0.5, (5, 2, 6))
    together = select.totals(batch, (select.GE2E_WEIGHT, 1.0))
    for one, total in zip(batch, together, strict=True):
        np.testing.assert_allclose(select.totals(one, (select.GE2E_WEIGHT, 1.0)), total)
    flat = np.array([[0.2, 0.3, 0.1], [0.4, 0.4, 0.4]])  # the second model finds every candidate alike
    assert int(np.argmax(select.totals(flat, (0.0, 1.0)))) == 1  # nothing weighed: the first model's farther


def test_embeddings_in_one_batch_are_each_ones_own(speech: np.ndarray) -> None:
    """The choice embeds its five excerpts in one call of the model: each must be what `embed` gives alone,
    whatever the recordings' lengths (their partials are split back by count)."""
    parts = [speech, speech[: 2 * select.RATE], speech[::-1].copy(), speech[select.RATE :]]
    batch = speaker.embed_many(parts, select.RATE)
    assert len(batch) == len(parts)
    for part, batched in zip(parts, batch, strict=True):
        np.testing.assert_allclose(batched, speaker.embed(part, select.RATE), atol=1e-5)
    assert speaker.similarity(*speaker.embed_many(parts[:2], select.RATE)) < 1.0  # not one mean for all


def test_two_runs_differ_and_keep_shape_dtype_and_length(speech: np.ndarray) -> None:
    stereo = np.stack([speech, 0.5 * speech])
    first = select.disguise(stereo, select.RATE, speech, [(0.0, 4.0)])
    second = select.disguise(stereo, select.RATE, speech, [(0.0, 4.0)])
    assert first.shape == stereo.shape and first.dtype == np.float32
    assert not np.allclose(first, second, atol=1e-3)


def test_without_speech_heard_one_voice_is_drawn_and_nothing_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> list[np.ndarray]:
        raise AssertionError("no speech: the speaker models must not be asked")

    for model in (speaker, res2net):
        monkeypatch.setattr(model, "embed_many", refuse)
    x = vowel(2.0)
    mono = x.mean(axis=0)[::3]
    for heard in ([], [(0.0, 0.5)]):  # nothing heard, or less than select.MIN_SECONDS
        out = select.disguise(x, 48000, mono, heard, rng=np.random.default_rng(5))
        # one draw, as disguise.disguise makes it, voiced within the speech heard alike (nothing heard: noise)
        np.testing.assert_array_equal(out, dg.disguise(x, 48000, np.random.default_rng(5), heard))


def test_the_report_names_the_choice_and_no_value_drawn() -> None:
    from unseen.audio.voice import describe
    from unseen.config import Voice

    described = describe(Voice.DISGUISE)["disguise"]
    assert described == select.DESCRIPTION and described.startswith(dg.DESCRIPTION)
    assert f"farthest of {select.CANDIDATES}" in described and "none stored" in described
