"""The benchmark's own arithmetic: faces follow their image when bench/protect.py --turn turns it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from PIL import Image

sys.path.insert(0, str(REPO / "bench"))

from metrics import GTImage
from protect import convert_to_png, turned_truth


@pytest.mark.parametrize("turn", [0, 90, 180, 270])
def test_turned_truth_boxes_cover_the_turned_face(tmp_path: Path, turn: int) -> None:
    data = tmp_path / "data"
    (data / "images" / "e").mkdir(parents=True)
    pixels = np.zeros((48, 80, 3), np.uint8)
    pixels[6:30, 50:62] = 255  # a 12 × 24 "face", away from every edge and corner
    Image.fromarray(pixels).save(data / "images" / "e" / "a.png")
    sizes = convert_to_png(data, ["e/a.png"], tmp_path / "png", turn)
    assert sizes == {"e/a.png": (80, 48)}
    truth = GTImage("e/a.png", np.array([[50, 6, 12, 24]]), {}, None)
    x, y, w, h = turned_truth(truth, sizes["e/a.png"], turn).boxes[0]
    turned = np.asarray(Image.open(tmp_path / "png" / "e" / "a.png"))
    white = np.argwhere(turned[..., 0] == 255)
    assert (white.min(axis=0).tolist(), white.max(axis=0).tolist()) == ([y, x], [y + h - 1, x + w - 1])
    assert turned_truth(truth, sizes["e/a.png"], turn).heights.tolist() == [24]  # buckets by the face's height
