"""Fit a preset's score fusion on the dev set; with --write, store it in src/unseen/detectors/fusions.json.

Run by a maintainer, never at run time, with unseen's own venv:

    .venv/bin/python tools/calibrate_fusion.py balanced --collateral 1.25 --size-penalty 0.33 --write

The presets read the fusions from that file: a refit is reproduced by running the tool again with the
arguments stored beside each entry ("fitted"), with the commit it ran at and its recall estimates.

1. Every pass of the preset runs over the dev images at the raw floor (cached in --cache, one file per pass).
2. Per image, overlapping candidates of all passes are grouped (detectors/merge.py: cluster).
3. A group is labelled a face when its mask alone, drawn as obscure.py draws it, covers ≥70% of an annotated
   face box (the benchmark's rule for "protected"); a logistic model of the group's evidence is fitted.
4. The keep threshold is the one at which the kept masks cover --collateral % of the pixels farther than one
   face size from every annotated face (the benchmark's collateral), with --size-penalty as given; or
   --threshold, where bench/protect.py showed the tool's single-mask estimate to be off.

Recall per face height is printed for the fit and for a two-fold cross-validation by image (fitted on half
the images, applied to the other half): the latter is the honest figure. Both are estimates from single
masks; bench/protect.py gives the real ones. WIDER FACE is for non-commercial research: only the fitted
numbers leave this tool, never images or anything drawn from them.
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
from candidates import family
from PIL import Image

from unseen.detectors.fusion import Fusion, features
from unseen.detectors.merge import cluster
from unseen.detectors.presets import FLOOR, PRESETS, Pass, Quality
from unseen.faces import Faces
from unseen.obscure import CONFIDENT, head_boxes, region_mask

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "wider_val_subset"
FUSIONS = REPO / "src" / "unseen" / "detectors" / "fusions.json"
BUCKETS = ((0, 10), (10, 16), (16, 32), (32, 64), (64, 10**9))
CONFIDENT_SCORE = 1.0  # scores that draw each group's confident and unconfident mask
UNSURE_SCORE = 0.0


def load_truth(data: Path) -> dict[str, np.ndarray]:
    """Annotated boxes (x, y, w, h) per image, from the official WIDER FACE text file."""
    lines = (data / "wider_face_split" / "wider_face_val_bbx_gt.txt").read_text().split("\n")
    truth, i = {}, 0
    while i < len(lines) and lines[i].strip():
        name, count = lines[i].strip(), int(lines[i + 1])
        rows = [list(map(int, line.split()[:4])) for line in lines[i + 2 : i + 2 + max(count, 1)]]
        truth[name] = np.array([r for r in rows if r[2] > 0 and r[3] > 0], np.int64).reshape(-1, 4)
        i += 2 + max(count, 1)
    return truth


def run_pass(spec: Pass, names: list[str], data: Path, cache: Path) -> dict[str, Faces]:
    path = cache / f"{spec.key()}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    detect = spec.detector(FLOOR, family(spec.model))
    found = {}
    for k, name in enumerate(names):
        found[name] = detect(np.asarray(Image.open(data / "images" / name).convert("RGB")))
        print(f"\r{path.stem}: {k + 1}/{len(names)}", end="", file=sys.stderr)
    print(file=sys.stderr)
    cache.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(found))
    return found


def far_from_faces(truth: np.ndarray, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels a mask could visibly change (not already black), and those farther than one face size from
    every annotated face (the benchmark's collateral region)."""
    visible = image.max(axis=2) > 8
    far = visible.copy()
    for x, y, w, h in truth:
        s = max(w, h)
        far[max(0, y - s) : y + h + s, max(0, x - s) : x + w + s] = False
    return visible, far


def mask_effects(box: np.ndarray, score: float, truth: np.ndarray, visible: np.ndarray, far: np.ndarray):
    """One group's mask alone: pixels of collateral, and which annotated faces it protects."""
    height, width = visible.shape
    face = Faces(box[None], [score])
    x1, y1, x2, y2 = head_boxes(face, width, height)[0]
    if x2 <= x1 or y2 <= y1:
        return 0, np.zeros(len(truth), bool)
    mask = region_mask(face.shifted(-x1, -y1), x2 - x1, y2 - y1)
    changed = mask & visible[y1:y2, x1:x2]
    protects = np.zeros(len(truth), bool)
    for j, (x, y, w, h) in enumerate(truth):
        area = (min(x + w, width) - x) * (min(y + h, height) - y)  # the box clipped to the image
        inside = changed[max(y - y1, 0) : max(y + h - y1, 0), max(x - x1, 0) : max(x + w - x1, 0)]
        protects[j] = inside.sum() >= 0.7 * area
    return int((mask & far[y1:y2, x1:x2]).sum()), protects


def groups(preset_passes, names, truth, data, cache):
    found = [run_pass(spec, names, data, cache) for spec in preset_passes]
    out = {}
    for name in names:
        boxes, evidence = cluster([f[name] for f in found])
        image = np.asarray(Image.open(data / "images" / name).convert("RGB"))
        visible, far = far_from_faces(truth[name], image)
        effects = [
            [mask_effects(b, s, truth[name], visible, far) for b in boxes] for s in (UNSURE_SCORE, CONFIDENT_SCORE)
        ]
        out[name] = {
            "x": features(boxes, evidence),
            "height": boxes[:, 3] - boxes[:, 1],
            "boxes": boxes,
            "collateral": np.array([[e[0] for e in geometry] for geometry in effects]).reshape(2, -1),
            "protects": np.array([[e[1] for e in geometry] for geometry in effects]).reshape(
                2, len(boxes), len(truth[name])
            ),
            "far": int(far.sum()),
        }
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 50) -> np.ndarray:
    """Logistic regression by Newton's method; the bias is the last weight."""
    x1 = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(x1.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(x1 @ w, -30, 30)))
        hessian = (x1 * (p * (1 - p))[:, None]).T @ x1 + l2 * np.eye(len(w))
        w -= np.linalg.solve(hessian, x1.T @ (p - y) + l2 * w)
    return w


def outcome(g, names, truth, probability, fusion: Fusion) -> list[float]:
    """Estimated recall per bucket (all first) and collateral %, for the groups the fusion keeps."""
    protected, heights, collateral, far = [], [], 0, 0
    for name in names:
        d, p = g[name], probability[name]
        keep = fusion.keep(d["boxes"], p)
        confident = (p >= CONFIDENT).astype(int)
        rows = np.arange(len(p))
        collateral += d["collateral"][confident, rows][keep].sum()
        far += d["far"]
        protected.append(d["protects"][confident, rows][keep].any(axis=0))
        heights.append(truth[name][:, 3])
    hit, h = np.concatenate(protected), np.concatenate(heights)
    return [100 * hit.mean()] + [100 * hit[(h >= a) & (h < b)].mean() for a, b in BUCKETS] + [100 * collateral / far]


def threshold_for(g, names, truth, probability, size_penalty: float, collateral: float) -> float:
    """The lowest keep threshold whose collateral stays within the target (bisection)."""
    lo, hi = -20.0, 20.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if outcome(g, names, truth, probability, Fusion((), size_penalty, mid))[-1] > collateral:
            lo = mid
        else:
            hi = mid
    return hi


def probabilities(w: np.ndarray, g, names) -> dict[str, np.ndarray]:
    return {n: 1 / (1 + np.exp(-np.clip(g[n]["x"] @ w[:-1] + w[-1], -30, 30))) for n in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("quality", choices=[q.value for q in Quality])
    parser.add_argument("--collateral", type=float, default=1.0, help="target collateral, in %% (default 1.0)")
    parser.add_argument("--size-penalty", type=float, default=0.25)
    parser.add_argument("--threshold", type=float, help="keep threshold to use instead of the one --collateral gives")
    parser.add_argument("--write", action="store_true", help=f"store the fusion in {FUSIONS.relative_to(REPO)}")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/unseen-calibration"))
    parser.add_argument(
        "--add",
        action="append",
        default=[],
        metavar="MODEL:SCALE[:flip][:minN]",
        help="an extra pass to measure beside the preset's (repeatable), e.g. yunet_n:1.0 or yunet_n:0.5:flip:min32",
    )
    parser.add_argument("--only-added", action="store_true", help="fit the fusion on the --add passes alone")
    parser.add_argument(
        "--misses",
        action="store_true",
        help="also print how many faces the preset's own two-fold fusion leaves unprotected that each --add pass "
        "protects alone at raw scores 0.3 to 0.9, and what those single passes cost in collateral",
    )
    args = parser.parse_args()
    if args.write and (args.add or args.only_added):
        parser.error("--write stores the preset's own passes: set them in presets.py, not with --add")

    truth = load_truth(args.data)
    names = sorted(truth)
    added = [parse_pass(spec) for spec in args.add]
    base = PRESETS[Quality(args.quality)].passes
    passes = tuple(added) if args.only_added else (*base, *added)
    if args.misses:
        print_misses(base, added, names, truth, args.data, args.cache, args)
    g = groups(passes, names, truth, args.data, args.cache)
    held_out = two_fold(g, names)
    w = fitted(g, names)
    full = probabilities(w, g, names)
    threshold = threshold_for(g, names, truth, full, args.size_penalty, args.collateral)
    if args.threshold is not None:
        print(f"keep threshold {args.threshold} as given (the tool's: {threshold:.3f})")
        threshold = args.threshold
    fusion = Fusion(tuple(round(float(v), 4) for v in w), args.size_penalty, round(threshold, 3))
    print("                 all   <10 10–16 16–32 32–64  ≥64  collateral %")
    estimates = {}
    for label, p in (("fit", full), ("2-fold CV", held_out)):
        cv_threshold = threshold_for(g, names, truth, p, args.size_penalty, args.collateral)
        row = outcome(g, names, truth, p, Fusion((), args.size_penalty, cv_threshold))
        estimates[label] = [round(float(v), 1) for v in row[:-1]] + [round(float(row[-1]), 2)]
        print(f"{label:12s}" + "".join(f"{v:6.1f}" for v in row[:-1]) + f"  {row[-1]:.2f}")
    print(f"fusion=Fusion(weights={fusion.weights}, size_penalty={fusion.size_penalty}, threshold={fusion.threshold})")
    if args.write:
        write(args, fusion, estimates, len(names))


def fitted(g, subset: list[str]) -> np.ndarray:
    """The fusion's weights fitted on the images of `subset`."""
    labels = [g[n]["protects"][0].any(axis=1).astype(float) for n in subset]
    return fit_logistic(np.vstack([g[n]["x"] for n in subset]), np.concatenate(labels))


def two_fold(g, names: list[str]) -> dict:
    """Each image's probabilities from weights fitted on the other half (even and odd images)."""
    halves = [names[0::2], names[1::2]]
    held_out = {}
    for k in (0, 1):
        held_out.update(probabilities(fitted(g, halves[1 - k]), g, halves[k]))
    return held_out


def parse_pass(spec: str) -> Pass:
    """MODEL:SCALE[:flip][:minN] as a Pass: mirrored with flip, keeping boxes N px high or more with minN."""
    model, _, rest = spec.partition(":")
    scale, *options = rest.split(":")
    flip = "flip" in options
    floors = [float(o[3:]) for o in options if o.startswith("min")]
    if not model or not scale or len(options) != flip + len(floors) or len(floors) > 1:
        raise SystemExit(f"--add expects MODEL:SCALE[:flip][:minN], not {spec!r}")
    return Pass(float(scale), flip=flip, model=model, min_height=floors[0] if floors else 0.0)


def cross_validated(g, names, truth, size_penalty: float, collateral: float):
    """Per image, which annotated faces the two-fold fusion protects at the target collateral."""
    held_out = two_fold(g, names)
    fusion = Fusion((), size_penalty, threshold_for(g, names, truth, held_out, size_penalty, collateral))
    protected = {}
    for name in names:
        d, p = g[name], held_out[name]
        keep = fusion.keep(d["boxes"], p)
        rows = np.arange(len(p))
        protected[name] = d["protects"][(p >= CONFIDENT).astype(int), rows][keep].any(axis=0)
    return protected


SCORES = (0.3, 0.5, 0.7, 0.9)


def print_misses(base, added, names, truth, data, cache, args) -> None:
    """What each added pass, alone at a raw score, protects of the faces the preset's fusion leaves."""
    g = groups(base, names, truth, data, cache)
    protected = cross_validated(g, names, truth, args.size_penalty, args.collateral)
    heights = np.concatenate([truth[n][:, 3] for n in names])
    missed = ~np.concatenate([protected[n] for n in names])
    counts = [int((missed & (heights >= a) & (heights < b)).sum()) for a, b in BUCKETS]
    print(f"faces the preset's two-fold fusion leaves unprotected: {int(missed.sum())} (by bucket {counts})")
    far_total = 0
    found = {(spec.key(), t): [] for spec in added for t in SCORES}
    spent = {(spec.key(), t): 0 for spec in added for t in SCORES}
    results = [run_pass(spec, names, data, cache) for spec in added]
    for name in names:
        image = np.asarray(Image.open(data / "images" / name).convert("RGB"))
        visible, far = far_from_faces(truth[name], image)
        far_total += int(far.sum())
        for spec, result in zip(added, results, strict=True):
            faces = result[name]
            pairs = zip(faces.boxes, faces.scores, strict=True)
            effects = [mask_effects(b, s, truth[name], visible, far) for b, s in pairs]
            for t in SCORES:
                sure = [e for e, s in zip(effects, faces.scores, strict=True) if s >= t]
                protects = np.any([e[1] for e in sure], axis=0) if sure else np.zeros(len(truth[name]), bool)
                found[(spec.key(), t)].append(protects & ~protected[name])
                spent[(spec.key(), t)] += sum(e[0] for e in sure)
    print("pass, raw score: misses it protects alone (all, then <10 10-16 16-32 32-64 >=64), its collateral alone %")
    for (key, t), parts in found.items():
        hit = np.concatenate(parts)
        by_bucket = [int((hit & (heights >= a) & (heights < b)).sum()) for a, b in BUCKETS]
        print(f"{key:24s} {t:.1f}  {int(hit.sum()):4d} {by_bucket}  {100 * spent[(key, t)] / far_total:.2f}")


def write(args: argparse.Namespace, fusion: Fusion, estimates: dict[str, list[float]], images: int) -> None:
    """Store the fusion with what reproduces it: the tool's arguments, the commit, the dev set's size."""
    given = [args.quality, "--size-penalty", str(args.size_penalty), "--collateral", str(args.collateral)]
    given += ["--threshold", str(args.threshold)] if args.threshold is not None else []
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    data = json.loads(FUSIONS.read_text(encoding="utf-8"))
    data[args.quality] = {
        "weights": list(fusion.weights),
        "size_penalty": fusion.size_penalty,
        "threshold": fusion.threshold,
        "fitted": {"args": given, "commit": commit.stdout.strip(), "dev_images": images},
        "estimates": {
            "columns": ["all", "<10", "10-16", "16-32", "32-64", ">=64", "collateral %"],
            "fit": estimates["fit"],
            "two_fold_cv": estimates["2-fold CV"],
        },
    }
    FUSIONS.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written to {FUSIONS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
