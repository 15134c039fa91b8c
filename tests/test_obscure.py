"""Obscuring: the mask's shape and size, and that every method changes the face region."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE, SAMPLE_FACE, changed_share, load_rgb
from hypothesis import given, settings
from hypothesis import strategies as st

from unseen.faces import Faces
from unseen.obscure import (
    CONFIDENT,
    DEFAULT_GROW,
    Method,
    face_boxes_covering,
    head_boxes,
    obscure,
    region_mask,
)

BOX = (40.0, 50.0, 80.0, 100.0)  # 40 wide, 50 tall


def mask_of(score: float, grow: float = DEFAULT_GROW, box: tuple[float, ...] = BOX) -> np.ndarray:
    return region_mask(Faces([box], [score]), 200, 200, grow)


def test_mask_covers_the_whole_box() -> None:
    x1, y1, x2, y2 = map(int, BOX)
    assert mask_of(0.1)[y1:y2, x1:x2].all()


def test_mask_reaches_further_up_than_down_and_is_taller_than_the_box_is_wider() -> None:
    rows = np.nonzero(mask_of(0.1).any(axis=1))[0]
    cols = np.nonzero(mask_of(0.1).any(axis=0))[0]
    above, below = BOX[1] - rows.min(), rows.max() + 1 - BOX[3]
    assert above > below > 0
    assert (rows.max() + 1 - rows.min()) / 50 > (cols.max() + 1 - cols.min()) / 40


def test_confident_faces_get_larger_masks() -> None:
    unsure, sure = mask_of(CONFIDENT - 0.01).sum(), mask_of(CONFIDENT).sum()
    assert sure > 1.4 * unsure  # 1.25² in area


def test_grow_scales_the_mask() -> None:
    assert mask_of(0.1, grow=2.0).sum() > mask_of(0.1, grow=1.2).sum()


def test_a_one_pixel_face_gets_a_mask() -> None:
    assert mask_of(0.1, box=(10.0, 10.0, 11.0, 11.0)).any()


@pytest.mark.parametrize("score", [0.1, 0.9])
@pytest.mark.parametrize("box", [BOX, (0.0, 0.0, 30.0, 30.0), (180.0, 170.0, 200.0, 200.0), (2.0, 5.0, 3.0, 6.0)])
def test_head_boxes_hold_the_whole_mask(score: float, box: tuple[float, ...]) -> None:
    # video.py paints inside head_boxes only: any mask pixel outside them would stay unpainted.
    faces = Faces([box], [score])
    mask = region_mask(faces, 200, 200)
    x1, y1, x2, y2 = head_boxes(faces, 200, 200)[0]
    inside = np.zeros_like(mask)
    inside[y1:y2, x1:x2] = True
    assert mask.any()
    assert not (mask & ~inside).any()


@pytest.mark.parametrize("method", list(Method))
def test_every_method_changes_the_face_and_leaves_the_rest(method: Method) -> None:
    image = load_rgb(SAMPLE)
    faces = Faces([SAMPLE_FACE], [0.9])
    out = obscure(image, faces, method, seed=1)
    assert changed_share(image, out, SAMPLE_FACE) >= 0.7
    outside = ~region_mask(faces, image.shape[1], image.shape[0])
    np.testing.assert_array_equal(out[outside], image[outside])
    assert out is not image


def test_solid_fills_black_and_keeps_alpha() -> None:
    image = np.full((60, 60, 4), 200, np.uint8)
    out = obscure(image, Faces([(20, 20, 40, 40)], [0.9]), Method.SOLID)
    assert (out[30, 30, :3] == 0).all()
    assert (out[..., 3] == 200).all()


def test_no_faces_returns_an_equal_copy() -> None:
    image = np.full((10, 10, 3), 7, np.uint8)
    out = obscure(image, Faces(), Method.SOLID)
    np.testing.assert_array_equal(out, image)
    assert out is not image


def test_strength_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="strength"):
        obscure(np.zeros((10, 10, 3), np.uint8), Faces(), Method.BLUR, strength=0.0)


@settings(max_examples=500, deadline=None)
@given(
    x=st.floats(0, 300),
    y=st.floats(0, 300),
    w=st.floats(1, 250),
    h=st.floats(1, 250),
    score=st.sampled_from([0.2, 1.0]),
    grow=st.floats(1, 4),
)
def test_a_drawn_box_is_covered_to_its_corners_whatever_the_grow(
    x: float, y: float, w: float, h: float, score: float, grow: float
) -> None:
    """A person's region (regions file, review page) is the area to cover: every pixel the box touches."""
    rect = np.array([[x, y, x + w, y + h]])
    face = face_boxes_covering(rect, np.array([score]), grow)
    mask = region_mask(Faces(face, [score]), 600, 600, grow)
    x1, y1, x2, y2 = int(np.floor(x)), int(np.floor(y)), int(np.ceil(x + w)), int(np.ceil(y + h))
    assert mask[y1:y2, x1:x2].all()
    assert mask.sum() <= 1.8 * (x2 - x1 + 4) * (y2 - y1 + 4)  # the ellipse through the corners, not much more
