"""Two speakers in one file: what the farthest-of-four choice, made on the first seconds of speech, leaves the
speaker who talks second.

    PYTHONPATH=src nice -n 10 python bench/voice_two_speakers.py --speakers 48 --methods none,disguise,select-4

The first `--speakers` recordings of ../shared/data/voices (sorted, as bench/voice.py's test speakers) are cut in
two halves. File i is speaker i's first half followed by speaker i+1's (the last followed by the first), the
whole through an MP4 with AAC audio, as a video's sound: every speaker speaks first in one file and second in
another. Each method disguises the whole file (one draw of the bench's generator per file; `select-4` is the
product's path with four draws, as measured: its speech heard by unseen's detector, audio/vad.py, the choice
made on the first 3 s of it),
the result goes through AAC again and is cut back at the join into the first speaker's part and the second's.
GE2E ignorant EER (enrol: each speaker's own second half, through AAC once; test: the disguised parts), over all
enrolment × part pairs, separately for the parts spoken first and those spoken second; beside it the mean cosine
of a part to its own speaker's enrolment (the same-speaker trials' score: lower is better hidden) and the
second-minus-first difference of that cosine per speaker, with a bootstrap 95% interval over speakers. `none`
leaves the file as it is (the verifier's EER on the originals' parts). With `--second`, the same EERs by the
independent SE-Res2Net verifier (bench/voice_second_verifier.py: unseen's ONNX conversion of it).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "tools"))  # tools/candidates: measured, not shipped
import voice_metrics as vm
from candidates import spread
from voice import VOICES, aac_round_trip, load

from unseen.audio import disguise as dg
from unseen.audio import select as sel
from unseen.audio import speaker, vad

RATE = 16000
Method = Callable[[np.ndarray, np.random.Generator], np.ndarray]  # mono 16-kHz file in, disguised file out


def _heard(x: np.ndarray) -> list[vad.Span]:
    return vad.hear(x).spans


METHODS: dict[str, Method] = {
    "none": lambda x, rng: x,
    "disguise": lambda x, rng: dg.disguise(x[None], RATE, rng)[0],
    "select-4": lambda x, rng: sel.disguise(x[None], RATE, x, _heard(x), 4, rng)[0],
    "spread-3x3": lambda x, rng: spread.disguise(x[None], RATE, x, _heard(x), 3, 3.0, rng=rng)[0],
}


def halves(files: list[Path]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each recording's first half as it is and its second half through AAC (the enrolment)."""
    first, second = [], []
    for path in files:
        x, rate = load(path)
        assert rate == RATE, f"{path.name}: {rate} Hz"
        first.append(x[: len(x) // 2])
        second.append(aac_round_trip(x[len(x) // 2 :], RATE))
    return first, second


def conversations(first: list[np.ndarray]) -> list[tuple[np.ndarray, int]]:
    """File i: speaker i's first half, then speaker i+1's, through AAC; with the sample where the second begins."""
    pairs = zip(first, first[1:] + first[:1], strict=True)
    return [(aac_round_trip(np.concatenate([a, b]), RATE), len(a)) for a, b in pairs]


def eer(enrol: np.ndarray, tests: np.ndarray) -> float:
    """EER over every enrolment × test pair; test i is enrolment i's speaker."""
    return vm.eer((enrol @ tests.T).ravel(), np.eye(len(enrol), dtype=bool).ravel())


def _interval(values: np.ndarray, seed: int, draws: int = 2000) -> tuple[float, float]:
    means = values[np.random.default_rng(seed).integers(0, len(values), (draws, len(values)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def measure(name: str, files: list[tuple[np.ndarray, int]], enrol: dict, args: argparse.Namespace) -> str:
    """One method's row: EERs and cosines for the parts spoken first and second, and its seconds per file."""
    rng, parts, spent = np.random.default_rng(args.seed), [], 0.0
    for x, join in files:
        started = time.perf_counter()
        out = METHODS[name](x, rng)
        spent += time.perf_counter() - started
        out = aac_round_trip(out, RATE)
        parts.append((out[:join], out[join:]))
    per_file = spent / len(files)
    count = len(files)
    spoke_first = [a for a, _ in parts]  # speaker i
    spoke_second = [parts[(i - 1) % count][1] for i in range(count)]  # speaker i, second in file i - 1
    ge2e = enrol["ge2e"]
    first = np.array(speaker.embed_many(spoke_first, RATE))
    second = np.array(speaker.embed_many(spoke_second, RATE))
    own_first, own_second = np.sum(ge2e * first, axis=1), np.sum(ge2e * second, axis=1)
    low, high = _interval(own_second - own_first, args.seed)
    row = (
        f"| {name} | {100 * eer(ge2e, first):.1f} | {100 * eer(ge2e, second):.1f} | {own_first.mean():.3f} "
        f"| {own_second.mean():.3f} | {np.mean(own_second - own_first):+.3f} [{low:+.3f}, {high:+.3f}] "
    )
    if "second" in enrol:
        verifier = enrol["verifier"]
        tests = [np.array([verifier.embed(p, RATE) for p in group]) for group in (spoke_first, spoke_second)]
        row += "".join(f"| {100 * eer(enrol['second'], t):.1f} " for t in tests)
    return row + f"| {per_file:.2f} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speakers", type=int, default=48, help="speakers (the first N, sorted); N files")
    parser.add_argument("--methods", default="none,disguise,select-4", help=f"comma-separated: {','.join(METHODS)}")
    parser.add_argument("--seed", type=int, default=2026, help="the bench's draws (unseen itself never takes a seed)")
    parser.add_argument("--second", action="store_true", help="also the independent SE-Res2Net verifier")
    parser.add_argument("--data", type=Path, default=VOICES)
    args = parser.parse_args()
    first, second = halves(sorted(args.data.glob("*.flac"))[: args.speakers])
    files = conversations(first)
    enrol: dict = {"ge2e": np.array(speaker.embed_many(second, RATE))}
    if args.second:
        from voice_second_verifier import Res2NetVerifier

        enrol["verifier"] = Res2NetVerifier()
        enrol["second"] = np.array([enrol["verifier"].embed(x, RATE) for x in second])
    short = sum(len(a) < sel.EXCERPT_SECONDS * RATE for a in first)
    print(f"{datetime.date.today()} · {platform.node()} · {os.cpu_count()} cores · load {os.getloadavg()[0]:.1f}")
    print(
        f"{len(files)} two-speaker files ({sum(len(x) for x, _ in files) / RATE / len(files):.1f} s on average), "
        f"seed {args.seed}; {short} first speakers' parts shorter than the choice's {sel.EXCERPT_SECONDS:g} s"
    )
    extra = " Res2Net EER first | Res2Net EER second |" if args.second else ""
    print(
        "| method | GE2E EER first | GE2E EER second | cosine first | cosine second | second − first [95%] |"
        + extra
        + " s per file (the method's wall time) |"
    )
    print("|---|---|---|---|---|---|" + ("---|---|" if args.second else "") + "---|", flush=True)
    for name in args.methods.split(","):
        print(measure(name, files, enrol, args), flush=True)
    print(f"load at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
