"""Detection: the presets find the sample's face; passes, flips, tiles, grouping and fusion do what they say."""

from __future__ import annotations

import json
import re
from importlib import resources

import numpy as np
import pytest
from conftest import REPO, SAMPLE, SAMPLE_FACE, load_rgb, require_wider, sha256

from unseen import device
from unseen.detectors import centerface
from unseen.detectors.centerface import CenterFace
from unseen.detectors.compose import AtLeast, Flipped, Merged, Turned
from unseen.detectors.fusion import Fused, Fusion, features
from unseen.detectors.merge import cluster, iou_matrix, nms
from unseen.detectors.orient import Orientation, Probe, Upright
from unseen.detectors.presets import FUSIONS, PRESETS, Pass, Quality, build_detector, describe
from unseen.device import model_path
from unseen.faces import Faces


@pytest.fixture(scope="module")
def sample() -> np.ndarray:
    return load_rgb(SAMPLE)


def covers_face(faces: Faces, face: tuple[int, int, int, int] = SAMPLE_FACE, iou: float = 0.5) -> bool:
    return bool(len(faces)) and bool((iou_matrix(faces.boxes, np.array([face], np.float32)) >= iou).any())


class Fixed:
    """A detector that finds the same faces in every image (and records the images it saw)."""

    def __init__(self, boxes: list[list[float]], scores: list[float]) -> None:
        self.faces = Faces(np.array(boxes, np.float32).reshape(-1, 4), scores)
        self.seen: list[np.ndarray] = []

    def __call__(self, image: np.ndarray) -> Faces:
        self.seen.append(image)
        return self.faces


@pytest.mark.parametrize("quality", list(Quality))
def test_every_preset_finds_the_sample_face_and_only_it(sample: np.ndarray, quality: Quality) -> None:
    faces = build_detector(quality)(sample)
    assert covers_face(faces)
    assert len(faces) == 1
    assert faces.scores[0] > 0.9  # the calibrated probability of a clear face


def test_a_user_threshold_replaces_the_fusion(sample: np.ndarray) -> None:
    detector = build_detector(Quality.BALANCED, 0.3)
    assert isinstance(detector, Upright)  # the orientation probe stays
    assert isinstance(detector.detector, Merged)
    assert covers_face(detector(sample))
    assert all(p["threshold"] == 0.3 for p in describe(Quality.BALANCED, 0.3))
    assert all(p["fusion"] == "calibrated" for p in describe(Quality.BALANCED, None))


@pytest.mark.parametrize("quality", list(Quality))
def test_each_preset_has_one_weight_per_feature(quality: Quality) -> None:
    preset = PRESETS[quality]
    boxes = np.array([[0, 0, 20, 20]], np.float32)
    evidence = np.full((1, len(preset.passes)), 0.5, np.float32)
    assert len(preset.fusion.weights) == features(boxes, evidence).shape[1] + 1
    assert 0 < preset.fusion.probability(boxes, evidence)[0] < 1


@pytest.mark.parametrize("quality", list(Quality))
def test_every_model_a_preset_runs_ships_and_is_documented(quality: Quality) -> None:
    models_md = (REPO / "src" / "unseen" / "models" / "MODELS.md").read_text()
    for spec in PRESETS[quality].passes:
        path = model_path(spec.model)
        assert path.is_file()
        assert sha256(path) in models_md
    pyproject = (REPO / "pyproject.toml").read_text()
    assert re.search(r'"unseen\.models" = \[[^]]*"\*\.onnx"', pyproject)


def test_flipped_returns_mirrored_boxes() -> None:
    inner = Fixed([[10, 20, 30, 50]], [0.9])
    image = np.zeros((100, 200, 3), np.uint8)
    image[:, :5] = 255  # a marker on the left edge
    faces = Flipped(inner)(image)
    np.testing.assert_allclose(faces.boxes, [[170, 20, 190, 50]])
    np.testing.assert_allclose(faces.scores, [0.9])
    assert inner.seen[0][:, -5:].min() == 255  # the detector saw the mirror image


def test_flipped_centerface_finds_the_sample_face(sample: np.ndarray) -> None:
    assert covers_face(Flipped(CenterFace(threshold=0.3))(sample))


def white_block(image: np.ndarray) -> Faces:
    """A detector that finds the one white block in an image, wherever and however it lies."""
    ys, xs = np.nonzero(image[..., 0] == 255)
    return Faces([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], [0.8])


@pytest.mark.parametrize("quarter_turns", [1, 2, 3])
def test_turned_returns_boxes_in_the_original_image(quarter_turns: int) -> None:
    image = np.zeros((40, 60, 3), np.uint8)
    image[5:15, 10:30] = 255  # 20 wide, 10 high, near the top left corner
    faces = Turned(white_block, quarter_turns)(image)
    np.testing.assert_allclose(faces.boxes, [[10, 5, 30, 15]])
    np.testing.assert_allclose(faces.scores, [0.8])


def test_turned_rejects_a_whole_turn() -> None:
    with pytest.raises(ValueError, match="90, 180 or 270"):
        Turned(white_block, 4)


def test_at_least_drops_boxes_lower_than_its_floor() -> None:
    inner = Fixed([[0, 0, 50, 31], [0, 0, 10, 32], [5, 5, 90, 100]], [0.9, 0.8, 0.7])
    np.testing.assert_allclose(AtLeast(inner, 32)(np.zeros((8, 8, 3), np.uint8)).scores, [0.8, 0.7])


@pytest.mark.parametrize("turn", [90, 270])
def test_a_sideways_pass_finds_the_sample_face_lying_on_its_side(sample: np.ndarray, turn: int) -> None:
    # The sample turned so that the face lies on its side; the pass turns it back upright to look.
    lying = np.ascontiguousarray(np.rot90(sample, -turn // 90))
    faces = Pass(0.5, turn=turn, min_height=32).detector(0.3)(lying)
    height, width = sample.shape[:2]
    x1, y1, x2, y2 = SAMPLE_FACE
    face = (height - y2, x1, height - y1, x2) if turn == 90 else (y1, width - x2, y2, width - x1)
    assert covers_face(faces, face)


def test_thorough_looks_for_faces_lying_sideways() -> None:
    sideways = [p for p in PRESETS[Quality.THOROUGH].passes if p.turn]
    assert sorted(p.turn for p in sideways) == [90, 270]
    assert all(p.min_height == 32 for p in sideways)
    assert {"turn": 90, "min_height": 32}.items() <= describe(Quality.THOROUGH, None)[-2].items()


def test_balanced_and_thorough_find_which_way_up_the_image_is_first() -> None:
    assert isinstance(build_detector(Quality.BALANCED), Upright)
    assert isinstance(build_detector(Quality.THOROUGH), Upright)
    assert isinstance(build_detector(Quality.FAST), Fused)  # fast spends nothing on it


class TallFaces:
    """A probe that is sure of two faces in an image taller than wide, and of none otherwise."""

    def __call__(self, image: np.ndarray) -> Faces:
        tall = image.shape[0] > image.shape[1]
        return Faces([[0, 0, 4, 4], [5, 5, 9, 9]] if tall else [], [0.9, 0.6] if tall else [])


def test_upright_searches_a_lying_image_turned_too_and_keeps_both() -> None:
    image = np.zeros((40, 60, 3), np.uint8)
    image[5:15, 10:30] = 255
    inner = Fixed([[40, 20, 50, 30]], [0.7])
    upright = Upright(lambda im: Faces.concat([inner(im), white_block(im)]), TallFaces())
    assert upright.quarter_turns(image) in (1, 3)
    faces = upright(image)
    assert [im.shape[:2] for im in inner.seen] == [(40, 60), (60, 40)]  # as it is, then turned
    assert [10, 5, 30, 15] in faces.boxes.tolist()  # the block, in the image's own coordinates
    assert len(faces) == 3  # the fixed box, found in both orientations at different places, and the block


def test_upright_leaves_an_upright_image_alone() -> None:
    inner = Fixed([[1, 1, 5, 5]], [0.9])
    faces = Upright(inner, TallFaces())(np.zeros((60, 40, 3), np.uint8))
    assert len(inner.seen) == 1
    np.testing.assert_allclose(faces.boxes, [[1, 1, 5, 5]])


def test_a_video_orientation_is_summed_over_the_frames_seen() -> None:
    orientation = Orientation(TallFaces())
    assert orientation.quarter_turns == 0  # nothing seen yet: as it is
    orientation.observe(np.zeros((60, 40, 3), np.uint8))  # tall as it is: two sure faces upright
    assert orientation.quarter_turns == 0
    for _ in range(2):  # wide frames: two sure faces each way turned, none as it is
        orientation.observe(np.zeros((40, 60, 3), np.uint8))
    assert orientation.counts == {0: 2, 1: 4, 3: 4}
    assert orientation.quarter_turns in (1, 3)


@pytest.mark.parametrize(("quarter_turns", "back"), [(0, 0), (1, 3), (3, 1)])
def test_the_probe_tells_which_way_up_a_real_photo_is(quarter_turns: int, back: int) -> None:
    # Four people greeting, each face clear and upright: turned a quarter, the probe must turn it back.
    photo = load_rgb(require_wider() / "images" / "49--Greeting" / "49_Greeting_peoplegreeting_49_56.jpg")
    turned = np.ascontiguousarray(np.rot90(photo, quarter_turns))
    assert Upright(Fixed([], []), Probe()).quarter_turns(turned) == back


def test_every_pass_has_its_own_cache_key() -> None:
    passes = {p for preset in PRESETS.values() for p in preset.passes}
    assert len({p.key() for p in passes}) == len(passes)


@pytest.mark.slow  # several seconds: make test runs it, make quick does not
def test_tiling_finds_a_face_in_a_huge_canvas(sample: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    x1, y1, x2, y2 = SAMPLE_FACE
    pad = 60
    crop = sample[y1 - pad : y2 + pad, x1 - pad : x2 + pad]
    canvas = np.full((6000, 8000, 3), 127, np.uint8)
    ox, oy = 5003, 3101  # away from tile borders' alignment, inside the last tiles
    canvas[oy : oy + crop.shape[0], ox : ox + crop.shape[1]] = crop
    runs: list[tuple[int, ...]] = []
    real_session = device.session

    class Recording:
        def __init__(self, name: str) -> None:
            self.session = real_session(name)

        def run(self, names: object, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
            runs.append(feed["input.1"].shape)
            return self.session.run(names, feed)

    monkeypatch.setattr(device, "session", Recording)
    faces = CenterFace(threshold=0.3)(canvas)
    face = (ox + pad, oy + pad, ox + pad + x2 - x1, oy + pad + y2 - y1)
    assert covers_face(faces, face)
    assert len(runs) > 1
    assert max(h * w for *_, h, w in runs) <= centerface.MAX_RUN_PIXELS


def test_passes_merge_overlapping_boxes_by_nms() -> None:
    a = Fixed([[0, 0, 10, 10]], [0.9])
    b = Fixed([[1, 1, 11, 11], [50, 50, 60, 60]], [0.5, 0.4])
    faces = Merged([a, b])(np.zeros((100, 100, 3), np.uint8))
    assert len(faces) == 2
    np.testing.assert_allclose(sorted(faces.scores), [0.4, 0.9])


def test_nms_keeps_the_best_of_each_overlapping_group() -> None:
    faces = Faces([[0, 0, 10, 10], [1, 0, 11, 10], [30, 30, 40, 40]], [0.5, 0.8, 0.3])
    kept = nms(faces, 0.3)
    np.testing.assert_allclose(kept.scores, [0.8, 0.3])


def test_cluster_collects_each_pass_evidence() -> None:
    first = Faces([[0, 0, 10, 10], [50, 50, 60, 60]], [0.9, 0.2])
    second = Faces([[1, 0, 11, 10]], [0.6])
    third = Faces([[0, 1, 10, 11], [0, 0, 9, 9]], [0.3, 0.7])  # two boxes of one pass on one face
    boxes, evidence = cluster([first, second, third])
    np.testing.assert_allclose(boxes, [[0, 0, 10, 10], [50, 50, 60, 60]])
    np.testing.assert_allclose(evidence, [[0.9, 0.6, 0.7], [0.2, 0.0, 0.0]])


def test_cluster_of_nothing() -> None:
    boxes, evidence = cluster([Faces(), Faces()])
    assert boxes.shape == (0, 4)
    assert evidence.shape == (0, 2)


def test_fusion_keeps_small_candidates_on_weaker_evidence() -> None:
    fusion = Fusion(weights=(0, 0, 0, 0, 0, 0, 0), size_penalty=0.5, threshold=-4.0)  # keep() uses no weights
    boxes = np.array([[0, 0, 8, 8], [0, 0, 200, 200]], np.float32)
    p = np.array([0.4, 0.4])
    # logit(0.4) - ln(8²)/2 ≈ -2.5 is kept; logit(0.4) - ln(200²)/2 ≈ -5.7 is not.
    np.testing.assert_array_equal(fusion.keep(boxes, p), [True, False])
    assert fusion.keep(boxes[1:], np.array([0.9]))[0]


def test_fused_detector_returns_kept_groups_with_probabilities() -> None:
    # The probability rises with the second pass's score alone: weight 10 on it, bias -5.
    weights = (0, 10, 0, 0, 0, 0, 0, 0, -5)  # two scores, two found flags, four size/count features, bias
    fused = Fused(
        [Fixed([[0, 0, 10, 10], [40, 40, 50, 50]], [0.3, 0.9]), Fixed([[0, 0, 10, 10]], [0.9])],
        Fusion(weights=weights, size_penalty=0.0, threshold=0.0),
    )
    faces = fused(np.zeros((64, 64, 3), np.uint8))
    np.testing.assert_allclose(faces.boxes, [[0, 0, 10, 10]])
    np.testing.assert_allclose(faces.scores, [1 / (1 + np.exp(-4))], rtol=1e-5)


def test_fused_detector_with_nothing_found() -> None:
    fused = Fused([Fixed([], [])], PRESETS[Quality.FAST].fusion)
    assert len(fused(np.zeros((64, 64, 3), np.uint8))) == 0


def test_fusion_refuses_weights_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="weights"):
        Fusion(weights=(1.0, 2.0), size_penalty=0, threshold=0).probability(
            np.zeros((1, 4), np.float32), np.zeros((1, 1), np.float32)
        )


def test_int8_model_finds_the_sample_face(sample: np.ndarray) -> None:
    assert covers_face(CenterFace(threshold=0.3, model=centerface.INT8_MODEL_NAME)(sample))


def test_nms_and_cluster_keep_a_box_of_no_area() -> None:
    faces = Faces([[5, 5, 5, 9], [0, 0, 10, 10]], [0.9, 0.5])
    assert len(nms(faces)) == 2
    boxes, evidence = cluster([faces])
    assert len(boxes) == 2
    np.testing.assert_allclose(evidence[:, 0], [0.9, 0.5])


@pytest.mark.parametrize("quality", list(Quality))
def test_each_preset_reads_a_fusion_that_fits_its_passes(quality: Quality) -> None:
    """The fusions come from the file tools/calibrate_fusion.py writes, with what reproduces each of them."""
    entry = json.loads(resources.files("unseen.detectors").joinpath(FUSIONS).read_text(encoding="utf-8"))[quality]
    preset = PRESETS[quality]
    assert preset.fusion.weights == tuple(entry["weights"]) and preset.fusion.threshold == entry["threshold"]
    assert len(preset.fusion.weights) == 2 * len(preset.passes) + 5  # scores, found flags, 4 size terms, bias
    assert entry["fitted"]["args"][0] == quality.value and entry["fitted"]["commit"]
