"""Choice rules compared on one pool of candidates: which speaker models should choose among the draws?

`bench/voice.py` measures one rule per run, and every run draws its own candidates, so two rules differ by
their draws as well as by their rule. Here every test half gets one pool of K draws of the shipped disguise
(`select.disguise`'s way: the speech heard by unseen's detector, the excerpt of its first 3 s, the synthetic
source voiced only within it); each draw disguises the excerpt (what a chooser hears) and the whole half (what a
verifier hears, through AAC). Four speaker models embed both: GE2E and the SE-Res2Net-50 (unseen's), CAM++
(`--third`'s) and ECAPA-TDNN (`--fourth`'s). `pool` writes their distances and embeddings to an .npz per chunk of
speakers; `rules` reads the chunks and gives, for each rule (which models choose, their weights, how many of
the K draws), every verifier's ignorant EER over the same trials as bench/voice.py's, so the rules differ only
by the candidate they keep. A verifier that takes part in a rule's choice is marked: its figure is optimistic.

    PYTHONPATH=src:bench python bench/voice_choice_pool.py pool --first 0 --count 50 --out /tmp/pool-0.npz
    PYTHONPATH=src:bench python bench/voice_choice_pool.py rules /tmp/pool-*.npz

Changes of the disguise itself are judged the same way: `pool --arms shipped,smooth,...` disguises every
half with the same draws changed by each arm (`ARMS`) and writes each arm's chunk to a folder of its name beside
--out; an arm added later with the same seed and speakers draws the same voices, so it pairs with the arms already
there. `arms FOLDER` gives each arm's EERs with the shipped rule against the shipped arm's, paired.

    PYTHONPATH=src:bench python bench/voice_choice_pool.py pool --arms shipped,smooth --out /tmp/a/p0.npz
    PYTHONPATH=src:bench python bench/voice_choice_pool.py arms /tmp/a

Lazy-informed comes from two runs of four draws from one pool (`runs`, `arms`: draws 0-3 and 4-7); the classical
verifier and words are not measured here: run the chosen rule or change through bench/voice.py for them.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from unittest.mock import patch

import numpy as np
import voice_metrics as vm
from voice import BEFORE, VOICES, aac_round_trip, utterances

from unseen.audio import disguise as dg
from unseen.audio import excitation as ex
from unseen.audio import res2net, speaker, vad
from unseen.audio import select as sel

MODELS = ("ge2e", "res2net", "campp", "ecapa")


def _embedders() -> dict:
    from voice_fourth_verifier import EcapaVerifier
    from voice_third_verifier import CamPlusVerifier

    campp, ecapa = CamPlusVerifier(), EcapaVerifier()
    return {
        "ge2e": lambda xs: speaker.embed_many(xs, sel.RATE),
        "res2net": lambda xs: res2net.embed_many(xs, sel.RATE),
        "campp": lambda xs: [campp.embed(x, sel.RATE) for x in xs],
        "ecapa": lambda xs: [ecapa.embed(x, sel.RATE) for x in xs],
    }


# Changes of the disguise judged against the shipped one on the same draws (`pool --arms`): each arm changes
# every candidate's drawn voice and the envelope's lifter (seconds of quefrency kept; the shipped 1.5 ms) for the
# transform alone, so the draws, the profile and the speakers are the same in every arm. "shipped" is the disguise
# as shipped until 2026-12-06 19:35 UTC (bench/voice.py's BEFORE: `pool` runs with it, so that the arms measured
# then pair with any added later); formant-wide-smooth is what unseen ships since.
_LIFTER = BEFORE["ENVELOPE_LIFTER_SECONDS"]
ARMS: dict[str, tuple[Callable[[dg.Voice], dg.Voice], float]] = {
    "shipped": (lambda v: v, _LIFTER),
    "smooth": (lambda v: v, 0.001),  # the 1-ms lifter of bench/voice.py's band-smooth (the profile keeps 1.5)
    "low": (lambda v: replace(v, split_hz=v.split_hz - 500.0), _LIFTER),  # the band's split in 2-3 kHz
    "smooth-low": (lambda v: replace(v, split_hz=v.split_hz - 500.0), 0.001),
    # farther from the speaker's own voice: the drawn log pitch ratio (at most an octave) or formant scale 1.5x
    "pitch-wide": (lambda v: replace(v, pitch=_power(v.pitch, 1.5, 2.0)), _LIFTER),
    "formant-wide": (lambda v: replace(v, formant=_power(v.formant, 1.5, 2.0)), _LIFTER),
    "formant-1.25": (lambda v: replace(v, formant=_power(v.formant, 1.25, 2.0)), _LIFTER),
    "formant-wide-smooth": (lambda v: replace(v, formant=_power(v.formant, 1.5, 2.0)), 0.001),
    "both-wide": (
        lambda v: replace(v, pitch=_power(v.pitch, 1.5, 2.0), formant=_power(v.formant, 1.5, 2.0)),
        _LIFTER,
    ),
    # Screened first on two draws without a choice (`pool --use 2`, `arms`' "each draw" rows): what CAM++, which
    # no change of the envelope's reach or detail moved, may still read. The source's intonation narrower (or
    # none), its level's accents evened, more of it noise, harmonics only up to 2.4-3.6 kHz; the envelope warped
    # farther from a monotone map (McAdams, bends), sharper or flatter formants, or smoothed over 5 frames (62 ms
    # at 16 kHz: a speaker's own speed of articulation).
    "range-low": (lambda v: _sourced(v, lambda s: replace(s, range=s.range * 0.35)), _LIFTER),
    "monotone": (lambda v: _sourced(v, lambda s: replace(s, range=0.0)), _LIFTER),
    "dynamics": (lambda v: _sourced(v, lambda s: replace(s, dynamics=0.5)), _LIFTER),
    "breath-more": (lambda v: _sourced(v, lambda s: replace(s, breath=s.breath + 0.2)), _LIFTER),
    "voiced-low": (lambda v: _sourced(v, lambda s: replace(s, voiced_hz=s.voiced_hz * 0.6)), _LIFTER),
    "alpha-wide": (lambda v: replace(v, alpha=2 * v.alpha - 1), _LIFTER),
    "bends-wide": (lambda v: replace(v, bends=tuple(3 * b for b in v.bends)), _LIFTER),
    "contrast": (lambda v: replace(v, reshape=_contrast(v.seed)), _LIFTER),
    "time-smooth": (lambda v: replace(v, reshape=_over_frames(5)), _LIFTER),
    # what the screen found CAM++ reads, together (then chosen among, eight draws)
    "smooth-time": (lambda v: replace(v, reshape=_over_frames(5)), 0.001),
    "fws-time": (lambda v: replace(v, formant=_power(v.formant, 1.5, 2.0), reshape=_over_frames(5)), 0.001),
    "fws-time-alpha": (
        lambda v: replace(v, formant=_power(v.formant, 1.5, 2.0), alpha=2 * v.alpha - 1, reshape=_over_frames(5)),
        0.001,
    ),
}


def _sourced(voice: dg.Voice, change: Callable[[ex.Source], ex.Source]) -> dg.Voice:
    """`voice` with its synthetic source changed (a voice without one, where no voice was profiled, as it is)."""
    return voice if voice.source is None else replace(voice, source=change(voice.source))


def _contrast(seed: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """bench/voice.py's `bw`: the formants' contrast drawn in 0.6-1.4 (from the voice's own seed, so each draw has
    its own and every run the same)."""
    from candidates import structure as st

    contrast = float(np.random.default_rng([seed, 7]).uniform(0.6, 1.4))
    return st.reshaper(st.Structure(contrast=(contrast,)))


def _over_frames(frames: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The warped log envelope averaged over `frames` frames (time), every frequency alike: `dg.over_time` as a
    reshape (what `ENVELOPE_FRAMES` does, where the arms' BEFORE keeps it at 1)."""
    return lambda env, _freqs: dg.over_time(env, frames)


def _power(ratio: float, power: float, most: float) -> float:
    """`ratio` ** `power`, within 1/`most`..`most`."""
    return float(np.clip(ratio**power, 1 / most, most))


def pool(args: argparse.Namespace) -> None:
    from pystoi import stoi

    files = sorted(VOICES.glob("*.flac"))[args.first : args.first + args.count]
    test, speakers, rate = utterances(files, aac=True)
    assert rate == sel.RATE
    embed = _embedders()
    rng = np.random.default_rng(args.seed + args.first)
    arms = args.arms.split(",")
    records = {arm: _record(speakers) for arm in arms}
    started = time.perf_counter()
    with patch.multiple(dg, **BEFORE):  # the disguise the arms change: as shipped until 2026-12-06 19:35 UTC
        for i, x in enumerate(test):
            speech = vad.hear(x).spans
            found = dg.profile(x[None], rate)
            part = sel.excerpt(x, speech)
            drawn = [dg.draw(rng, found) for _ in range(args.candidates)]
            originals = {m: embed[m]([x])[0] for m in MODELS}
            own = {m: embed[m]([part])[0] for m in MODELS} if part.size >= sel.MIN_SECONDS * rate else {}
            for arm in arms:
                change, lifter = ARMS[arm]
                voices = [change(v) for v in drawn[: args.use or None]]
                with patch.object(dg, "ENVELOPE_LIFTER_SECONDS", lifter):
                    heard = sel.disguised(part, voices)
                    outs = [aac_round_trip(dg.transform(x[None], rate, v, speech)[0], rate) for v in voices]
                record = records[arm]
                record["stoi"].append([stoi(x, out, rate) for out in outs])
                for m in MODELS:
                    if not own:  # unseen keeps its first draw then: every rule does here
                        record[f"dist_{m}"].append([1.0] + [0.0] * (len(voices) - 1))
                    else:
                        record[f"dist_{m}"].append([1.0 - speaker.similarity(own[m], o) for o in embed[m](heard)])
                    record[f"out_{m}"].append(np.array(embed[m](outs)))
                    record[f"orig_{m}"].append(originals[m])
            if i % 10 == 9:
                print(
                    f"{i + 1}/{len(test)} halves, {time.perf_counter() - started:.0f} s, load {os.getloadavg()[0]:.1f}"
                )
    for arm, record in records.items():
        # the shipped disguise alone where it is written to --out itself; every arm in a folder of its name beside it
        path = args.out if arms == ["shipped"] else args.out.parent / arm / args.out.name
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **{k: np.concatenate(v) if k == "speakers" else np.array(v) for k, v in record.items()})


def _record(speakers: np.ndarray) -> dict[str, list]:
    record: dict[str, list] = {"speakers": [speakers], "stoi": [], **{f"orig_{m}": [] for m in MODELS}}
    return record | {f"dist_{m}": [] for m in MODELS} | {f"out_{m}": [] for m in MODELS}


def _load(paths: list[Path]) -> dict[str, np.ndarray]:
    parts = [dict(np.load(p)) for p in paths]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _total(data: dict[str, np.ndarray], weights: dict[str, float], count: int) -> np.ndarray:
    """Per half, each of the first `count` draws' total by the shipped way of adding (select.totals; GE2E's rank
    breaks ties, whether GE2E chooses or not)."""
    models = ["ge2e", *(m for m in weights if m != "ge2e")]
    far = np.stack([data[f"dist_{m}"][:, :count] for m in models], axis=1)
    return sel.totals(far, [weights.get(m, 0.0) for m in models])


def choose(data: dict[str, np.ndarray], weights: dict[str, float], count: int) -> np.ndarray:
    """Per half, the index of the draw (among the first `count`) farthest by the weighted z-scores; a weight
    named "top" (n) lets the shipped rule keep its n farthest first and the rest of `weights` choose among them
    (what a slow third model would cost on n excerpts instead of `count`)."""
    weights = dict(weights)
    top = int(weights.pop("top", 0))
    if not top:
        return np.argmax(_total(data, weights, count), axis=1)
    shortlist = np.argsort(-_total(data, SHIPPED, count), axis=1)[:, :top]
    total = _total(data, weights, count)
    return shortlist[np.arange(len(shortlist)), np.argmax(np.take_along_axis(total, shortlist, axis=1), axis=1)]


def ignorant(data: dict[str, np.ndarray], picked: np.ndarray, model: str) -> float:
    test = data[f"out_{model}"][np.arange(len(picked)), picked]
    return vm.trial_eer(data[f"orig_{model}"] @ test.T, data["speakers"])


SHIPPED = {"ge2e": sel.GE2E_WEIGHT, "res2net": 1.0}
RULES: dict[str, dict[str, float]] = {
    "first draw": {},
    "shipped (GE2E 1.5, Res2Net 1)": SHIPPED,
    "shipped's 3 farthest, then + ECAPA 1": {"ge2e": 1.5, "res2net": 1.0, "ecapa": 1.0, "top": 3},
    "shipped's 2 farthest, then ECAPA": {"ecapa": 1.0, "top": 2},
    "GE2E 1, Res2Net 1": {"ge2e": 1.0, "res2net": 1.0},
    "GE2E 2, Res2Net 1": {"ge2e": 2.0, "res2net": 1.0},
    "GE2E alone": {"ge2e": 1.0},
    "Res2Net alone": {"res2net": 1.0},
    "+ ECAPA 1": {"ge2e": 1.5, "res2net": 1.0, "ecapa": 1.0},
    "+ ECAPA 1.5": {"ge2e": 1.5, "res2net": 1.0, "ecapa": 1.5},
    "+ CAM++ 1": {"ge2e": 1.5, "res2net": 1.0, "campp": 1.0},
    "GE2E 1, Res2Net 1, ECAPA 1": {"ge2e": 1.0, "res2net": 1.0, "ecapa": 1.0},
    "ECAPA alone": {"ecapa": 1.0},
    "CAM++ alone": {"campp": 1.0},
}


def rules(args: argparse.Namespace) -> None:
    data = _load(args.paths)
    n = len(data["speakers"])
    k = data["dist_ge2e"].shape[1]
    print(f"{len(np.unique(data['speakers']))} speakers, {n} halves, {k} draws each; load {os.getloadavg()[0]:.1f}")
    originals = {m: vm.trial_eer(data[f"orig_{m}"] @ data[f"orig_{m}"].T, data["speakers"]) for m in MODELS}
    print("originals: " + ", ".join(f"{m} {100 * eer:.1f}" for m, eer in originals.items()))
    print("| rule | draws | " + " | ".join(MODELS) + " |")
    for (name, weights), count in itertools.product(RULES.items(), sorted({4, 6, k})):
        if not weights and count != k:
            continue
        picked = np.zeros(n, dtype=int) if not weights else choose(data, weights, count)
        cells = []
        for m in MODELS:
            mark = "*" if m in weights or ("top" in weights and m in SHIPPED) else ""
            cells.append(f"{100 * ignorant(data, picked, m):.1f}{mark}")
        print(f"| {name} | {count if weights else 1} | " + " | ".join(cells) + " |", flush=True)
    if args.intervals:
        base = choose(data, SHIPPED, 6)
        for name in ("+ ECAPA 1", "+ CAM++ 1"):
            picked = choose(data, RULES[name], 6)
            for m in MODELS:
                low, high = _paired(data, base, data, picked, m)
                print(f"{name} against shipped, {m}: 90% [{low:+.1f}, {high:+.1f}] (half the speakers resampled)")


def _features(voice: dg.Voice) -> dict[str, float]:
    """The drawn parameters of one candidate, as numbers (logs where the disguise works in logs)."""
    # Only what varies between a file's draws: the target F0 is the pitch ratio times the file's own F0 (the same
    # within a file, so centred it reads as the ratio), and the drifts' depths are constants.
    source = voice.source or ex.Source()
    return {
        "log pitch ratio": np.log(voice.pitch),
        "|log pitch ratio|": abs(np.log(voice.pitch)),
        "log formant": np.log(voice.formant),
        "|log formant|": abs(np.log(voice.formant)),
        "alpha": voice.alpha,
        "|alpha - 1|": abs(voice.alpha - 1),
        "bends (rms)": float(np.sqrt(np.mean(np.square(voice.bends)))) if voice.bends else 0.0,
        "colour (rms dB)": float(np.sqrt(np.mean(np.square(voice.colour)))) if voice.colour else 0.0,
        "split Hz": voice.split_hz,
        "range": source.range,
        "tilt": source.tilt,
        "breath": source.breath,
        "voiced Hz": source.voiced_hz,
        "jitter": source.jitter,
        "|spread|": abs(source.spread),
    }


def _replayed(paths: list[Path], count: int, seed: int) -> list[list[dict[str, float]]]:
    """Each half's draws' parameters, replayed from its chunk's seed as `pool` drew them (halves × draws)."""
    out = []
    for path in paths:
        first = int(path.stem.removeprefix("p"))
        k = np.load(path)["dist_ge2e"].shape[1]
        files = sorted(VOICES.glob("*.flac"))[first : first + count]
        test, _, rate = utterances(files, aac=True)
        rng = np.random.default_rng(seed + first)
        for x in test:
            found = dg.profile(x[None], rate)
            out.append([_features(dg.draw(rng, found)) for _ in range(k)])
    return out


FILTERS = {
    "any draw (shipped)": lambda f: True,
    "formants up only": lambda f: f["log formant"] > 0,
    "formants down only": lambda f: f["log formant"] < 0,
    "pitch down only": lambda f: f["log pitch ratio"] < 0,
    "formants up, pitch down": lambda f: f["log formant"] > 0 and f["log pitch ratio"] < 0,
}


def runs(args: argparse.Namespace) -> None:
    """Two runs from one pool: the first chooses among draws 0-3, the second among 4-7 (the shipped rule, among
    those a filter of the drawn parameters lets through; all four where none passes), so that lazy-informed
    (enrolment: the second run's output of the other half) is measured beside ignorant."""
    data = _load(args.paths)
    found = _replayed(args.paths, args.count, args.seed)
    n = len(data["speakers"])
    speakers = len(np.unique(data["speakers"]))
    print(f"{speakers} speakers, {n} halves; two runs of four draws; load {os.getloadavg()[0]:.1f}")
    print("| draws kept | passing | " + " | ".join(f"{m} ignorant / lazy" for m in MODELS) + " |")
    for name, keep in FILTERS.items():
        passing = np.array([[keep(f) for f in half] for half in found])
        picks = _two_runs(data, passing)
        cells = [f"{100 * ignorant(data, picks[0], m):.1f} / {100 * _lazy(data, picks, m):.1f}" for m in MODELS]
        print(f"| {name} | {passing.mean():.0%} | " + " | ".join(cells) + " |", flush=True)


def params(args: argparse.Namespace) -> None:
    """Which drawn parameters go with a candidate that a network in no choice finds far: each chunk's draws
    replayed from its seed, each candidate's cosine to the *other* half's original (the same-speaker trial the
    ignorant attacker scores), centred within the file, correlated with each parameter (centred so too)."""
    rows = [f for half in _replayed(args.paths, args.count, args.seed) for f in half]
    data = _load(args.paths)
    close = {m: [] for m in MODELS}
    for i in range(len(data["speakers"])):
        other = i + 1 if i % 2 == 0 else i - 1
        for m in MODELS:
            cos = data[f"out_{m}"][i] @ data[f"orig_{m}"][other]
            close[m].extend(cos - cos.mean())
    names = list(rows[0])
    values = np.array([[r[n] for r in rows] for n in names])
    k = data["dist_ge2e"].shape[1]
    values = values - values.reshape(len(names), -1, k).mean(axis=2).repeat(k, axis=1)
    print(f"{values.shape[1] // k} halves x {k} draws; correlation within the file with closeness to the other half")
    print("| parameter | " + " | ".join(MODELS) + " |")
    for n, v in zip(names, values, strict=True):
        cells = [f"{np.corrcoef(v, close[m])[0, 1]:+.2f}" if v.std() > 0 else "–" for m in MODELS]
        print(f"| {n} | " + " | ".join(cells) + " |")


def _two_runs(data: dict[str, np.ndarray], passing: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per half, the draws two runs of unseen keep: the shipped rule among draws 0-3 (the first run) and among 4-7
    (the second), among those `passing` lets through (all four where none passes)."""
    picks = []
    for run in (slice(0, 4), slice(4, 8)):
        total = _total({k: v[:, run] if k.startswith("dist_") else v for k, v in data.items()}, SHIPPED, 4)
        if passing is not None:
            ok = passing[:, run].copy()  # a copy: `passing` is printed as drawn
            ok[~ok.any(axis=1)] = True
            total = np.where(ok, total, -np.inf)
        picks.append(run.start + np.argmax(total, axis=1))
    return picks[0], picks[1]


def _lazy(data: dict[str, np.ndarray], picks: tuple[np.ndarray, np.ndarray], model: str) -> float:
    """Lazy-informed EER of two runs (`_two_runs`): the first run's output tested against the second run's of
    the other half (the enrolment)."""
    rows = np.arange(len(data["speakers"]))
    first, second = (data[f"out_{model}"][rows, pick] for pick in picks)
    return vm.trial_eer(second @ first.T, data["speakers"])


def arms(args: argparse.Namespace) -> None:
    """Each arm against the shipped disguise, on the same draws of the same halves (`pool --arms`): the shipped
    rule's ignorant EER per verifier with 4, 6 and 8 draws, the difference with a 90% interval (speakers
    resampled, the same in both), lazy-informed (two runs of four draws) and the chosen outputs' mean STOI."""
    names = sorted(p.name for p in (args.folder / "shipped").glob("p*.npz"))
    base = _load([args.folder / "shipped" / n for n in names])
    k = base["dist_ge2e"].shape[1]
    print(
        f"{len(np.unique(base['speakers']))} speakers, {len(base['speakers'])} halves, {k} draws each; load "
        f"{os.getloadavg()[0]:.1f}"
    )
    for count in sorted({4, 6, k}):
        a = choose(base, SHIPPED, count)
        cells = [f"{100 * ignorant(base, a, m):.1f}{'*' if m in SHIPPED else ''}" for m in MODELS]
        stoi = base["stoi"][np.arange(len(a)), a].mean()
        print(f"| shipped | {count} | " + " | ".join(cells) + f" | {stoi:.3f} |", flush=True)
    if k >= 8:
        picks = _two_runs(base)
        lazy = {m: _lazy(base, picks, m) for m in MODELS}
        print("| shipped lazy (4+4) | " + " | ".join(f"{100 * lazy[m]:.1f}" for m in MODELS) + " |")
    for arm in [a for a in ARMS if a != "shipped" and (args.folder / a).is_dir()]:
        data = _load([args.folder / arm / n for n in names])
        assert np.array_equal(data["speakers"], base["speakers"])
        if data["dist_ge2e"].shape[1] < k:  # a screen (`pool --use N`): each draw as it is, no choice
            _screen(arm, base, data)
            continue
        for count in sorted({4, 6, k}):
            a, b = choose(base, SHIPPED, count), choose(data, SHIPPED, count)
            rows = np.arange(len(a))
            cells = []
            for m in MODELS:
                low, high = _paired(base, a, data, b, m)
                eer = ignorant(data, b, m)
                diff = eer - ignorant(base, a, m)
                mark = "*" if m in SHIPPED else ""
                cells.append(f"{100 * eer:.1f}{mark} ({100 * diff:+.1f} [{low:+.1f}, {high:+.1f}])")
            stoi = f"{data['stoi'][rows, b].mean():.3f} vs {base['stoi'][rows, a].mean():.3f}"
            print(f"| {arm} | {count} | " + " | ".join(cells) + f" | {stoi} |", flush=True)
        if k >= 8:
            picks = _two_runs(data)
            cells = [f"{100 * _lazy(data, picks, m):.1f} vs {100 * lazy[m]:.1f}" for m in MODELS]
            print(f"| {arm} lazy (4+4) | " + " | ".join(cells) + " |", flush=True)


def _screen(arm: str, base: dict, data: dict) -> None:
    """An arm measured on the first few draws only, each kept as it is (no choice), against the shipped arm's same
    draws: per network, the mean of each draw's ignorant EER and how far the speaker's own trial lies above the
    others (z, below), with the difference and a 90% interval over speakers; the outputs' mean STOI."""
    draws = data["dist_ge2e"].shape[1]
    cells = []
    for m in MODELS:
        eers = [ignorant(d, np.full(len(d["speakers"]), j), m) for d in (base, data) for j in range(draws)]
        before, after = np.mean(eers[:draws]), np.mean(eers[draws:])
        diff = _by_speaker(_closeness(data, m, draws) - _closeness(base, m, draws), data["speakers"])
        half = 1.645 * diff.std(ddof=1) / np.sqrt(len(diff))
        cells.append(f"{100 * after:.1f} ({100 * (after - before):+.1f}); z {diff.mean():+.2f} ± {half:.2f}")
    stoi = f"{data['stoi'].mean():.3f} vs {base['stoi'][:, :draws].mean():.3f}"
    print(f"| {arm} (each of {draws} draws) | " + " | ".join(cells) + f" | {stoi} |", flush=True)


def _closeness(data: dict, model: str, draws: int) -> np.ndarray:
    """Per half, the mean over its first `draws` outputs of the ignorant attacker's same-speaker score as a z-score
    among that output's different-speaker scores: lower is farther from the speaker (what raises the EER)."""
    speakers, out = data["speakers"], data[f"out_{model}"][:, :draws]
    scores = np.einsum("ijd,kd->ijk", out, data[f"orig_{model}"])  # half, draw, original
    same = speakers[:, None] == speakers[None, :]
    other = same & ~np.eye(len(speakers), dtype=bool)
    z = np.empty(len(speakers))
    for i in range(len(speakers)):
        rest = scores[i][:, ~same[i]]
        z[i] = np.mean((scores[i][:, other[i]].mean(axis=1) - rest.mean(axis=1)) / rest.std(axis=1))
    return z


def _by_speaker(values: np.ndarray, speakers: np.ndarray) -> np.ndarray:
    """`values` (per half) averaged per speaker: the halves of one speaker are not independent."""
    return np.array([values[speakers == s].mean() for s in np.unique(speakers)])


def _paired(base: dict, a: np.ndarray, data: dict, b: np.ndarray, model: str, n: int = 200) -> tuple:
    """A 90% interval of EER(data, b) - EER(base, a) by resampling half the speakers, the same in both."""
    names = np.unique(base["speakers"])
    rng, diffs = np.random.default_rng(0), []
    for _ in range(n):
        keep = np.isin(base["speakers"], rng.choice(names, len(names) // 2, replace=False))
        one = ignorant({k: v[keep] for k, v in base.items()}, a[keep], model)
        two = ignorant({k: v[keep] for k, v in data.items()}, b[keep], model)
        diffs.append(two - one)
    return tuple(100 * np.percentile(diffs, [5, 95]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pool", help="draw and embed the candidates of a chunk of test speakers")
    p.add_argument("--first", type=int, default=0, help="the first test speaker (sorted)")
    p.add_argument("--count", type=int, default=50)
    p.add_argument("--candidates", type=int, default=8)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--use", type=int, default=0, help="disguise only the first N draws (all are drawn: they pair)")
    p.add_argument("--arms", default="shipped", help=f"changes of the disguise, on the same draws: {', '.join(ARMS)}")
    r = sub.add_parser("rules", help="every rule's ignorant EERs from the chunks")
    r.add_argument("paths", nargs="+", type=Path)
    r.add_argument("--intervals", action="store_true", help="bootstrap intervals of two rules against the shipped")
    q = sub.add_parser("params", help="which drawn parameters go with a far candidate (draws replayed)")
    q.add_argument("paths", nargs="+", type=Path)
    q.add_argument("--count", type=int, default=50, help="speakers per chunk, as pooled")
    q.add_argument("--seed", type=int, default=2026)
    t = sub.add_parser("runs", help="two runs of four draws: ignorant and lazy, with filters of the draws")
    t.add_argument("paths", nargs="+", type=Path)
    t.add_argument("--count", type=int, default=50, help="speakers per chunk, as pooled")
    t.add_argument("--seed", type=int, default=2026)
    c = sub.add_parser("arms", help="each arm of `pool --arms` against the shipped disguise, paired")
    c.add_argument("folder", type=Path, help="the folder holding the arms' folders (shipped/, ...)")
    args = parser.parse_args()
    {"arms": arms, "pool": pool, "rules": rules, "params": params, "runs": runs}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
