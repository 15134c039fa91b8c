"""The Python API: unseen.anonymize_image and unseen.detect on arrays."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from conftest import SAMPLE, SAMPLE_FACE, changed_share, load_rgb

import unseen
from unseen import Faces


@pytest.fixture(scope="module")
def sample() -> np.ndarray:
    image = load_rgb(SAMPLE)
    image.setflags(write=False)  # a write into the caller's array would raise
    return image


def overlaps_face(faces: Faces) -> bool:
    x1, y1, x2, y2 = SAMPLE_FACE
    boxes = faces.boxes
    inter_w = np.minimum(boxes[:, 2], x2) - np.maximum(boxes[:, 0], x1)
    inter_h = np.minimum(boxes[:, 3], y2) - np.maximum(boxes[:, 1], y1)
    covered = np.clip(inter_w, 0, None) * np.clip(inter_h, 0, None) / ((x2 - x1) * (y2 - y1))
    return bool((covered >= 0.5).any())


def test_anonymize_image_covers_the_face_and_leaves_the_input(sample: np.ndarray) -> None:
    before = sample.copy()
    out, faces = unseen.anonymize_image(sample)
    assert out is not sample and not np.shares_memory(out, sample)
    assert out.shape == sample.shape and out.dtype == np.uint8
    assert np.array_equal(sample, before)
    assert changed_share(sample, out, SAMPLE_FACE) >= 0.9
    assert isinstance(faces, Faces) and overlaps_face(faces)
    untouched = np.ones(sample.shape[:2], bool)
    untouched[:250, 120:330] = False  # far from the face, nothing moved
    assert np.array_equal(out[untouched], sample[untouched])


@pytest.mark.parametrize("method", ["noise", "pixelate", "blur"])
def test_anonymize_image_other_methods(sample: np.ndarray, method: str) -> None:
    out, _ = unseen.anonymize_image(sample, method=method, strength=0.5)
    assert changed_share(sample, out, SAMPLE_FACE) >= 0.5


def test_detect_finds_the_sample_face(sample: np.ndarray) -> None:
    faces = unseen.detect(sample)
    assert isinstance(faces, Faces)
    assert faces.boxes.shape == (len(faces), 4) and faces.scores.shape == (len(faces),)
    assert faces.boxes.dtype == np.float32
    assert ((faces.scores > 0) & (faces.scores <= 1)).all()
    assert overlaps_face(faces)


def test_detect_stays_a_function_after_submodules_load(sample: np.ndarray) -> None:
    importlib.import_module("unseen.detectors.presets")
    importlib.import_module("unseen.detectors.compose")
    importlib.import_module("unseen.cli")
    assert callable(unseen.detect)
    assert overlaps_face(unseen.detect(sample))
    assert callable(unseen.detect)


def test_detector_modules_import_by_dotted_name() -> None:
    import unseen.detectors.centerface as centerface  # the package is not shadowed by unseen.detect()

    assert centerface.MODEL_NAME == "centerface"


def test_gray_input(sample: np.ndarray) -> None:
    gray = np.ascontiguousarray(sample.mean(axis=2).astype(np.uint8))
    out, faces = unseen.anonymize_image(gray)
    assert out.shape == gray.shape
    assert overlaps_face(faces)
    assert changed_share(gray, out, SAMPLE_FACE) >= 0.9
    assert overlaps_face(unseen.detect(gray))


def test_single_channel_input_keeps_its_shape(sample: np.ndarray) -> None:
    gray = np.ascontiguousarray(sample[..., 1:2])
    out, faces = unseen.anonymize_image(gray)
    assert out.shape == gray.shape and len(faces) >= 1


def test_rgba_keeps_alpha(sample: np.ndarray) -> None:
    rgba = np.dstack([sample, np.full(sample.shape[:2], 200, np.uint8)])
    out, _ = unseen.anonymize_image(rgba)
    assert out.shape == rgba.shape
    assert (out[..., 3] == 200).all()
    assert changed_share(sample, out[..., :3], SAMPLE_FACE) >= 0.9


def test_faceless_image_comes_back_equal() -> None:
    flat = np.full((64, 96, 3), 128, np.uint8)
    out, faces = unseen.anonymize_image(flat)
    assert len(faces) == 0 and np.array_equal(out, flat) and out is not flat


def test_non_contiguous_input(sample: np.ndarray) -> None:
    mirrored = sample[:, ::-1]
    out, faces = unseen.anonymize_image(mirrored)
    assert out.shape == mirrored.shape and len(faces) >= 1


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((32, 32, 3), np.float32),
        np.zeros((32, 32, 3), np.uint16),
        np.zeros((32, 32, 2), np.uint8),
        np.zeros((32, 32, 5), np.uint8),
        np.zeros((32,), np.uint8),
        np.zeros((2, 32, 32, 3), np.uint8),
        np.zeros((0, 0, 3), np.uint8),
    ],
    ids=["float32", "uint16", "2ch", "5ch", "1d", "4d", "empty"],
)
def test_bad_arrays_raise_value_error(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        unseen.anonymize_image(bad)
    with pytest.raises(ValueError):
        unseen.detect(bad)


@pytest.mark.parametrize(("name", "value"), [("method", "smudge"), ("strength", 0.0), ("quality", "best")])
def test_bad_options_raise_value_error(name: str, value: object) -> None:
    with pytest.raises(ValueError):
        unseen.anonymize_image(np.zeros((32, 32, 3), np.uint8), **{name: value})


def test_custom_detector_is_used(sample: np.ndarray) -> None:
    seen: list[tuple[int, ...]] = []

    def detector(image: np.ndarray) -> Faces:
        seen.append(image.shape)
        return Faces(np.array([[10, 10, 30, 30]], np.float32), np.array([0.9], np.float32))

    out, faces = unseen.anonymize_image(sample, detector=detector)
    assert seen == [sample.shape]
    assert len(faces) == 1 and (out[20, 20] == 0).all()
    assert changed_share(sample, out, SAMPLE_FACE) == 0.0
