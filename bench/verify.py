"""Verification benchmark: the residual check and the re-identification check on the WIDER FACE dev subset.

Runs unseen's default pipeline in-process on every image (balanced preset, solid fill, written as the input's
format and read back), then:

* the residual check on each default output: how many outputs it flags, and whether what it flags is a
  ground-truth face the default run left unprotected or something else; and, to show it does flag a face
  left visible, the same check on the untouched image (nothing obscured);
* for every ground-truth face at least 48 px tall that the default run obscured, dlib's re-identification
  distance between the original and the default output (solid), and between the original and a weak blur
  (Gaussian, 15-pixel kernel, over the same regions);
* the time each check adds per image, beside the time of the pipeline itself.

Outputs go under bench/.work/verify/out (git-ignored) and are deleted at the end unless --keep is given; the
figures stay in bench/.work/verify/result.json. WIDER FACE is non-commercial research data: nothing made
from it is committed. No numbers here are asserted anywhere.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from metrics import load_ground_truth

from unseen.detectors.merge import iou_matrix
from unseen.detectors.presets import Quality, build_detector
from unseen.faces import Faces
from unseen.media.image import read_image, write_image
from unseen.obscure import obscure, region_mask
from unseen.verify.reid import MIN_HEIGHT, SAME_PERSON, ReidResult, reidentify
from unseen.verify.residual import SCALES, THRESHOLD, covered_share, residual_detector, residuals

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_DATA = BENCH_DIR.parent.parent / "shared" / "data" / "wider_val_subset"
PROTECTED = 0.7  # a ground-truth face counts as protected when this share of its box is inside the regions
MATCH_IOU = 0.3  # a residual lies on a ground-truth face when their boxes overlap this much
LEFT_VISIBLE_MIN = 32  # faces this tall or more are counted when nothing is obscured


@dataclass
class Totals:
    images: int = 0
    pipeline_s: float = 0.0
    residual_s: float = 0.0
    reid_s: float = 0.0
    flagged_images: int = 0
    residuals: int = 0
    on_unprotected: int = 0
    on_protected: int = 0
    elsewhere: int = 0
    unprotected_faces: int = 0
    unprotected_flagged: int = 0
    visible_faces: int = 0
    visible_flagged: int = 0
    visible_images: int = 0
    visible_images_flagged: int = 0
    solid: list[ReidResult] = field(default_factory=list)
    blur: list[ReidResult] = field(default_factory=list)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="WIDER subset folder (default: %(default)s)")
    p.add_argument("--limit", type=int, help="only the first N images")
    p.add_argument("--no-reid", action="store_true", help="skip the re-identification part")
    p.add_argument("--keep", action="store_true", help="keep the outputs (bench/.work/verify/out) afterwards")
    return p.parse_args(argv)


def weak_blur(image: np.ndarray, faces: Faces) -> np.ndarray:
    """A Gaussian blur with a 15-pixel kernel over each face's region."""
    out = image.copy()
    mask = region_mask(faces, image.shape[1], image.shape[0])
    out[mask] = cv2.GaussianBlur(image, (15, 15), 0)[mask]
    return out


def as_written(image: np.ndarray, fmt: str) -> np.ndarray:
    """The image as a reader sees it after writing it in `fmt` (the default output's encoding)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("RGB"))


def gt_faces(boxes: np.ndarray) -> Faces:
    xywh = boxes.astype(np.float32)
    return Faces(np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1), np.ones(len(xywh)))


def run_image(path: Path, boxes: np.ndarray, out: Path, totals: Totals, detector, check, reid: bool) -> None:
    started = time.perf_counter()
    decoded = read_image(path)
    pixels = decoded.pixels
    faces = detector(pixels)
    written = obscure(pixels, faces)
    write_image(decoded, written, out, decoded.format, overwrite=True)
    totals.pipeline_s += time.perf_counter() - started

    started = time.perf_counter()
    found = residuals(read_image(out).pixels, faces, check)
    totals.residual_s += time.perf_counter() - started

    truth = gt_faces(boxes)
    mask = region_mask(faces, pixels.shape[1], pixels.shape[0])
    protected = np.array([covered_share(mask, b) >= PROTECTED for b in truth.boxes], bool)
    count_residuals(found, truth, protected, totals)
    count_left_visible(pixels, truth, check, totals)
    if reid:
        count_reid(pixels, read_image(out).pixels, faces, truth[protected], decoded.format, totals)


def count_residuals(found: Faces, truth: Faces, protected: np.ndarray, totals: Totals) -> None:
    totals.images += 1
    totals.flagged_images += bool(len(found))
    totals.residuals += len(found)
    iou = iou_matrix(found.boxes, truth.boxes) if len(found) and len(truth) else np.zeros((len(found), 0))
    for row in iou:
        best = int(row.argmax()) if row.size else -1
        if best < 0 or row[best] < MATCH_IOU:
            totals.elsewhere += 1
        elif protected[best]:
            totals.on_protected += 1
        else:
            totals.on_unprotected += 1
    totals.unprotected_faces += int((~protected).sum())
    if len(found) and len(truth):
        caught = (iou_matrix(truth.boxes, found.boxes) >= MATCH_IOU).any(axis=1)
        totals.unprotected_flagged += int((caught & ~protected).sum())


def count_left_visible(pixels: np.ndarray, truth: Faces, check, totals: Totals) -> None:
    """The check on the untouched image: every face is left visible; how many does it flag?"""
    tall = truth[(truth.boxes[:, 3] - truth.boxes[:, 1]) >= LEFT_VISIBLE_MIN]
    if not len(tall):
        return
    found = residuals(pixels, Faces(), check)
    caught = (iou_matrix(tall.boxes, found.boxes) >= MATCH_IOU).any(axis=1) if len(found) else np.zeros(len(tall))
    totals.visible_faces += len(tall)
    totals.visible_flagged += int(caught.sum())
    totals.visible_images += 1
    totals.visible_images_flagged += bool(caught.any())


def count_reid(
    original: np.ndarray, solid: np.ndarray, faces: Faces, obscured: Faces, fmt: str, totals: Totals
) -> None:
    tall = obscured[(obscured.boxes[:, 3] - obscured.boxes[:, 1]) >= MIN_HEIGHT]
    if not len(tall):
        return
    started = time.perf_counter()
    totals.solid += reidentify(original, solid, tall)
    totals.reid_s += time.perf_counter() - started
    blurred = as_written(weak_blur(original[..., :3], faces), fmt)
    totals.blur += reidentify(original, blurred, tall)


def distances(results: list[ReidResult]) -> dict[str, object]:
    """Distances under dlib's threshold alone, and the check's verdict (which also asks for more than a
    featureless crop gives)."""
    if not results:
        return {"faces": 0}
    a = np.asarray([r.distance for r in results])
    below = int((a < SAME_PERSON).sum())
    failed = sum(not r.passed for r in results)
    return {
        "faces": len(a),
        "below_0.6": below,
        "share_below": round(below / len(a), 4),
        "failed_check": failed,
        "share_failed": round(failed / len(a), 4),
        "min": round(float(a.min()), 3),
        "median": round(float(np.median(a)), 3),
        "max": round(float(a.max()), 3),
    }


def machine() -> dict[str, object]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"cpu": cpu, "nproc": len(os.sched_getaffinity(0)), "platform": platform.platform()}


def summary(t: Totals) -> dict[str, object]:
    n = max(t.images, 1)
    return {
        "images": t.images,
        "residual_check": {"scales": SCALES, "flip": True, "threshold": THRESHOLD},
        "residual_rate": round(t.flagged_images / n, 4),
        "flagged_images": t.flagged_images,
        "residuals": t.residuals,
        "residuals_per_image": round(t.residuals / n, 4),
        "on_unprotected_gt_face": t.on_unprotected,
        "on_protected_gt_face": t.on_protected,
        "elsewhere": t.elsewhere,
        "unprotected_gt_faces": t.unprotected_faces,
        "unprotected_gt_faces_flagged": t.unprotected_flagged,
        f"left_visible_gt_faces_ge_{LEFT_VISIBLE_MIN}px": t.visible_faces,
        "left_visible_flagged": t.visible_flagged,
        "left_visible_images": t.visible_images,
        "left_visible_images_flagged": t.visible_images_flagged,
        "pipeline_s_per_image": round(t.pipeline_s / n, 4),
        "residual_check_s_per_image": round(t.residual_s / n, 4),
        "residual_check_extra": round(t.residual_s / max(t.pipeline_s, 1e-9), 4),
        "reid_s_per_image": round(t.reid_s / n, 4),
        "reid_solid": distances(t.solid),
        "reid_weak_blur": distances(t.blur),
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    gt = load_ground_truth(args.data)
    names = list(gt)[: args.limit] if args.limit else list(gt)
    work = BENCH_DIR / ".work" / "verify"
    detector, check = build_detector(Quality.BALANCED), residual_detector()
    totals = Totals()
    try:
        for i, name in enumerate(names, 1):
            out = work / "out" / name
            run_image(args.data / "images" / name, gt[name].boxes, out, totals, detector, check, not args.no_reid)
            if i % 25 == 0:
                print(f"{i}/{len(names)}", file=sys.stderr, flush=True)
    finally:  # the outputs are drawn from WIDER FACE: they do not outlive the run unless asked for
        if not args.keep:
            shutil.rmtree(work / "out", ignore_errors=True)
    result = summary(totals)
    (work / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
