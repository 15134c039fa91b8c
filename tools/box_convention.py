"""How a detector's boxes sit on the annotated faces of the dev set, beside CenterFace's.

Run by a maintainer, never at run time, with unseen's own venv:

    .venv/bin/python tools/box_convention.py yunet_n:1.0 --reference centerface:1.0

obscure.py draws its mask about a face box with a geometry measured on CenterFace's boxes (an ellipse grown
1.6×, taller than wide, raised). A detector whose boxes are tighter or placed otherwise would get a mask that
covers less of the head. For every detection scoring at least --score that overlaps an annotated face of
--min-height px or more (IoU ≥ 0.4, the best such face), this prints the median of the box's width and height
over the annotated ones and of its centre's offset (in annotated widths and heights), per face size, for the
pass asked about and the reference. A wrapper makes its model's boxes CenterFace-like with the ratios of
the two (tools/candidates/yunet.py: BOX_WIDTH, BOX_HEIGHT, BOX_SHIFT). Detections come from tools/calibrate_fusion.py's
pass cache. Only these medians leave the tool, never images or anything drawn from them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibrate_fusion import DATA, load_truth, parse_pass, run_pass

from unseen.detectors.merge import iou_matrix

SIZES = ((16, 32), (32, 64), (64, 10**9), (16, 10**9))


def geometry(found, truth, names, score: float, min_height: int) -> np.ndarray:
    """Rows of (annotated height, width ratio, height ratio, centre dx / width, centre dy / height)."""
    rows = []
    for name in names:
        faces = found[name][found[name].scores >= score]
        gt = truth[name]
        gt = gt[gt[:, 3] >= min_height]
        if not len(faces) or not len(gt):
            continue
        gt_boxes = np.column_stack([gt[:, 0], gt[:, 1], gt[:, 0] + gt[:, 2], gt[:, 1] + gt[:, 3]]).astype(np.float32)
        iou = iou_matrix(faces.boxes, gt_boxes)
        for i, j in enumerate(iou.argmax(axis=1)):
            if iou[i, j] < 0.4:
                continue
            x1, y1, x2, y2 = faces.boxes[i]
            gx, gy, gw, gh = gt[j]
            rows.append(
                (
                    gh,
                    (x2 - x1) / gw,
                    (y2 - y1) / gh,
                    ((x1 + x2) / 2 - (gx + gw / 2)) / gw,
                    ((y1 + y2) / 2 - (gy + gh / 2)) / gh,
                )
            )
    return np.array(rows, np.float64).reshape(-1, 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("passes", nargs="+", metavar="MODEL:SCALE[:flip]")
    parser.add_argument("--reference", default="centerface:1.0", metavar="MODEL:SCALE[:flip]")
    parser.add_argument("--score", type=float, default=0.5)
    parser.add_argument("--min-height", type=int, default=16)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/unseen-calibration"))
    args = parser.parse_args()
    truth = load_truth(args.data)
    names = sorted(truth)
    print("pass                     faces  size      width  height  centre dx  centre dy  (medians, of annotated)")
    for spec in [args.reference, *args.passes]:
        spec_pass = parse_pass(spec)
        rows = geometry(run_pass(spec_pass, names, args.data, args.cache), truth, names, args.score, args.min_height)
        for lo, hi in SIZES:
            part = rows[(rows[:, 0] >= lo) & (rows[:, 0] < hi)]
            if not len(part):
                continue
            size = f"{lo}+" if hi > 10**8 else f"{lo}-{hi}"
            w, h, dx, dy = np.median(part[:, 1:], axis=0)
            print(f"{spec_pass.key():24s} {len(part):5d}  {size:8s} {w:6.3f}  {h:6.3f}  {dx:+9.3f}  {dy:+9.3f}")


if __name__ == "__main__":
    main()
