"""The candidate second detectors' decoding (tools/candidates: YuNet, the anchor-based 1 MB RetinaFace family,
Ultra-Light): anchors, box conventions and the dispatch by model name, on synthetic network outputs (no model
file needed)."""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest
from conftest import REPO

from unseen.detectors.centerface import CenterFace
from unseen.detectors.presets import Pass
from unseen.faces import Faces

sys.path.insert(0, str(REPO / "tools"))  # the candidates are not shipped: tools/candidates
from candidates import family, retinaface, yunet
from candidates.retinaface import RetinaFace, anchors
from candidates.ultralight import UltraLight, _starts
from candidates.yunet import YuNet, reshaped


def yunet_outputs(width: int, height: int) -> dict[str, np.ndarray]:
    """YuNet's outputs for a width×height input, every cell scoring nothing."""
    out = {}
    for stride in (8, 16, 32):
        cells = (width // stride) * (height // stride)
        out[f"cls_{stride}"] = np.zeros((1, cells, 1), np.float32)
        out[f"obj_{stride}"] = np.zeros((1, cells, 1), np.float32)
        out[f"bbox_{stride}"] = np.zeros((1, cells, 4), np.float32)
    return out


def test_yunet_decodes_a_cell_into_its_box_and_the_geometric_mean_of_its_scores() -> None:
    out = yunet_outputs(64, 32)
    cols = 64 // 16
    cell = 1 * cols + 2  # row 1, column 2 at stride 16
    out["cls_16"][0, cell, 0] = 0.81
    out["obj_16"][0, cell, 0] = 1.3  # clamped to 1
    out["bbox_16"][0, cell] = [0.5, 0.25, np.log(2.0), np.log(3.0)]  # centre offset, log size, in strides
    faces = yunet.decode(out, 64, 0.5)
    assert len(faces) == 1
    cx, cy, w, h = (2 + 0.5) * 16, (1 + 0.25) * 16, 2 * 16, 3 * 16
    np.testing.assert_allclose(faces.boxes[0], [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], rtol=1e-5)
    assert faces.scores[0] == pytest.approx(0.9)
    assert len(yunet.decode(out, 64, 0.95)) == 0


def test_retinaface_anchors_follow_the_networks_output_order() -> None:
    priors = anchors("retinaface_mnet", 64, 40)
    # stride 8: 5×8 cells × 2 sizes, stride 16: 3×4 × 2, stride 32: 2×2 × 2
    assert len(priors) == 5 * 8 * 2 + 3 * 4 * 2 + 2 * 2 * 2
    np.testing.assert_allclose(priors[:3], [[4, 4, 10], [4, 4, 20], [12, 4, 10]])  # a cell's sizes together
    np.testing.assert_allclose(priors[16], [4, 12, 10])  # then the next column, and row by row
    assert len(anchors("retinaface_rfb", 64, 64)) == 8 * 8 * 3 + 4 * 4 * 2 + 2 * 2 * 2 + 1 * 1 * 3


def test_retinaface_decoding_of_offsets() -> None:
    priors = np.array([[100.0, 50.0, 20.0], [10.0, 10.0, 10.0]])
    loc = np.array([[0.0, 0.0, 0.0, 0.0], [1.0, -1.0, 1.0, 0.0]], np.float32)
    conf = np.array([[0.2, 0.8], [0.6, 0.4]], np.float32)
    faces = retinaface.decode(loc, conf, priors, 0.3)
    np.testing.assert_allclose(faces.boxes[0], [90, 40, 110, 60])  # no offset: the anchor itself
    w = 10 * np.exp(0.2)
    np.testing.assert_allclose(faces.boxes[1], [11 - w / 2, 9 - 5, 11 + w / 2, 9 + 5], rtol=1e-5)
    assert len(retinaface.decode(loc, conf, priors, 0.5)) == 1


def test_reshaped_scales_about_the_centre_and_shifts_down() -> None:
    faces = Faces(np.array([[10, 20, 30, 60]], np.float32), [0.9])
    np.testing.assert_allclose(reshaped(faces, 1.0, 1.0, 0.0).boxes, faces.boxes)
    np.testing.assert_allclose(reshaped(faces, 1.5, 0.5, 0.25).boxes, [[5, 40, 35, 60]])


def test_ultralight_windows_cover_the_side_and_overlap() -> None:
    assert _starts(480, 640) == [0]
    starts = _starts(1280, 640)
    assert starts[0] == 0 and starts[-1] == 1280 - 640
    assert all(b - a <= 640 * 3 / 4 for a, b in itertools.pairwise(starts))


@pytest.mark.parametrize(
    ("model", "kind"),
    [
        ("centerface", CenterFace),
        ("centerface_int8", CenterFace),
        ("yunet_n", YuNet),
        ("retinaface_mnet", RetinaFace),
        ("ultralight_640", UltraLight),
    ],
)
def test_a_pass_runs_its_models_family(model: str, kind: type) -> None:
    assert family(model) is kind
    assert Pass(1.0, model=model).key().startswith(model)
