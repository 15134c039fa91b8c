"""The two speaker models side by side: GE2E (speaker.py) and SE-Res2Net-50 (res2net.py), in one run.

    PYTHONPATH=src python bench/speaker_models.py [--files 4] [--repeats 12] [--sessions]

- speed: `embed_many` of what the farthest-of-four choice embeds (a recording's first 3 s and four disguises of
  it, 16 kHz) and of eight such excerpts, each model's median over --repeats calls, the two interleaved so that
  the machine's load falls on both alike; the Res2Net/GE2E ratio;
- where Res2Net's time goes: its MFCC front end, and the ONNX session alone on one batch of five at 1 and 2
  threads, basic and full graph optimisation, with and without spinning (--sessions);
- EER of each on the originals' halves of the first 24 and 48 dev speakers (bench/voice.py's trials).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import voice_metrics as vm
from voice import VOICES, load, utterances

from unseen import device
from unseen.audio import disguise as dg
from unseen.audio import res2net, speaker
from unseen.audio import select as sel

Embed = Callable[[Sequence[np.ndarray], int], list[np.ndarray]]


def choice_excerpts(path: Path, rng: np.random.Generator) -> list[np.ndarray]:
    x, rate = load(path)
    part = x[: round(sel.EXCERPT_SECONDS * rate)].astype(np.float64)
    voices = [dg.draw(r, dg.profile(x[None], rate)) for r in sel.generators(sel.CANDIDATES, rng)]
    return [part, *sel.disguised(part, voices)]


def interleaved(models: dict[str, Embed], batch: list[np.ndarray], repeats: int) -> dict[str, float]:
    """Each model's median seconds for one embed_many of `batch`, the models taking turns."""
    times: dict[str, list[float]] = {name: [] for name in models}
    for embed in models.values():
        embed(batch, sel.RATE)  # sessions made, caches warm
    for _ in range(repeats):
        for name, embed in models.items():
            start = time.perf_counter()
            embed(batch, sel.RATE)
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def sessions(batch: list[np.ndarray], repeats: int) -> None:
    import onnxruntime as ort

    features = np.stack([res2net.mfcc(x) for x in batch])[:, None]
    levels = {"basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC, "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}
    for threads in (1, 2):
        for level, value in levels.items():
            for spin in ("0", "1"):
                options = ort.SessionOptions()
                options.intra_op_num_threads, options.graph_optimization_level = threads, value
                options.add_session_config_entry("session.intra_op.allow_spinning", spin)
                path = str(device.model_path(res2net.MODEL_NAME))
                runner = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
                runner.run(None, {"mfcc": features})
                spent = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    runner.run(None, {"mfcc": features})
                    spent.append(time.perf_counter() - start)
                print(
                    f"  session alone, {threads} thread(s), {level} optimisation, spinning {spin}: "
                    f"{1000 * np.median(spent):.0f} ms"
                )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=4, help="dev recordings whose excerpts are timed")
    parser.add_argument("--repeats", type=int, default=12)
    parser.add_argument("--sessions", action="store_true", help="also the Res2Net session's thread/optimisation grid")
    args = parser.parse_args()
    files = sorted(VOICES.glob("*.flac"))
    print(f"{os.cpu_count()} cores, session threads as unseen sets them; load {os.getloadavg()[0]:.1f}")
    rng = np.random.default_rng(3)
    sets = [choice_excerpts(path, rng) for path in files[: args.files]]
    models: dict[str, Embed] = {"GE2E": speaker.embed_many, "Res2Net": res2net.embed_many}
    for label, batches in (
        ("5 excerpts of 3 s", sets),
        ("8 excerpts of 3 s", [a + b[:3] for a, b in pairwise(sets)]),
    ):
        medians = [interleaved(models, batch, args.repeats) for batch in batches]
        ge2e, other = (float(np.mean([m[name] for m in medians])) for name in models)
        print(
            f"{label}: GE2E {1000 * ge2e:.0f} ms, Res2Net {1000 * other:.0f} ms, ratio {other / ge2e:.2f} "
            f"(mean of {len(batches)} batches' medians; load {os.getloadavg()[0]:.1f})"
        )
    start = time.perf_counter()
    for _ in range(args.repeats):
        [res2net.mfcc(x) for x in sets[0]]
    print(f"Res2Net's MFCC front end for 5: {1000 * (time.perf_counter() - start) / args.repeats:.0f} ms")
    if args.sessions:
        sessions(sets[0], args.repeats)
    for count in (24, 48):
        halves, speakers, rate = utterances(files[:count], aac=False)
        for name, embed in models.items():
            e = np.array(embed(halves, rate))
            print(
                f"{name}: EER {100 * vm.trial_eer(e @ e.T, speakers):.2f}% on the originals' halves of {count} speakers"
            )
    print(f"load at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
