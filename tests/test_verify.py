"""The checks on written outputs: faces left visible (residuals), re-identifiable faces, --strict, the report."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import SAMPLE, SAMPLE_FACE, run_cli

from unseen import cli, errors, kinds
from unseen.digest import file_sha256
from unseen.faces import Faces
from unseen.media.image import read_image
from unseen.obscure import Method, obscure, region_mask
from unseen.paths import Job
from unseen.photo import Options, process
from unseen.report import FileReport
from unseen.verify import reid, reid_models
from unseen.verify.reid import MISSING_EXTRA, SAME_PERSON, ReidResult, reidentify
from unseen.verify.residual import covered_share, residual_detector, residuals


def nothing(_image: np.ndarray) -> Faces:
    """A detector that misses every face: what the residual check is there to catch."""
    return Faces()


def on_face(box: list[float] | np.ndarray) -> bool:
    """Whether a box covers most of the sample's face."""
    x1, y1, x2, y2 = SAMPLE_FACE
    w = min(box[2], x2) - max(box[0], x1)
    h = min(box[3], y2) - max(box[1], y1)
    return max(0.0, w) * max(0.0, h) >= 0.5 * (x2 - x1) * (y2 - y1)


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.fixture(scope="module")
def sample() -> np.ndarray:
    return read_image(SAMPLE).pixels


@pytest.fixture(scope="module")
def sample_faces(sample: np.ndarray) -> Faces:
    from unseen.detectors.presets import build_detector

    return build_detector()(sample)


# ---------------------------------------------------------------- residual check


def test_covered_share_counts_box_pixels_inside_the_mask() -> None:
    mask = np.zeros((10, 10), bool)
    mask[:, :5] = True
    assert covered_share(mask, np.array([0, 0, 10, 10])) == 0.5
    assert covered_share(mask, np.array([5, 0, 10, 10])) == 0.0
    assert covered_share(mask, np.array([3, 3, 3, 3])) == 1.0  # no pixels: nothing visible


def test_residual_check_finds_the_unobscured_face(sample: np.ndarray) -> None:
    found = residuals(sample, Faces(), residual_detector())
    assert len(found) >= 1 and any(on_face(box) for box in found.boxes)


def test_residual_check_is_silent_on_the_default_output(sample: np.ndarray, sample_faces: Faces) -> None:
    assert len(residuals(obscure(sample, sample_faces), sample_faces, residual_detector())) == 0


def test_a_face_left_visible_is_flagged_and_kept_without_strict(sample_copy: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / SAMPLE.name
    report = process(Job(sample_copy, target, "PNG"), nothing, Options())
    assert report.status == "done" and report.verified and target.is_file()
    assert report.verdict == "residuals" and report.flagged
    assert any(on_face(r["box"]) and r["score"] >= 0.4 for r in report.residuals)
    assert "left visible" in str(report.reason)


def test_strict_publishes_nothing_when_a_face_is_left_visible(sample_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = process(Job(sample_copy, out / SAMPLE.name, "PNG"), nothing, Options(strict=True))
    assert report.status == "failed" and report.output is None and report.residuals
    assert "--strict" in str(report.reason)
    assert leftovers(out) == []  # neither the output nor its temporary file


def test_strict_cli_exits_3_and_leaves_no_file(
    sample_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(kinds, "build_detector", lambda *_args: nothing)
    out = tmp_path / "out"
    report = tmp_path / "report.json"
    assert cli.main([str(sample_copy), "-o", str(out), "--strict", "--report", str(report)]) == errors.EXIT_REFUSED
    err = capsys.readouterr().err.splitlines()
    assert any(line.startswith(f"unseen: {sample_copy}: ") and "left visible" in line for line in err)
    assert not out.exists() or leftovers(out) == []
    data = json.loads(report.read_text())
    assert data["files"][0]["verdict"] == "failed" and data["files"][0]["residuals"]
    assert data["summary"]["failed"] == 1 and data["summary"]["clean"] == 0


def test_strict_wins_over_other_failures(
    sample_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(kinds, "build_detector", lambda *_args: nothing)
    (sample_copy.parent / "broken.png").write_bytes(b"not a png")
    assert cli.main([str(sample_copy.parent), "-o", str(tmp_path / "out"), "--strict"]) == errors.EXIT_REFUSED
    capsys.readouterr()


def test_residuals_without_strict_warn_in_one_line_and_exit_0(
    sample_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(kinds, "build_detector", lambda *_args: nothing)
    out = tmp_path / "out"
    assert cli.main([str(sample_copy), "-o", str(out)]) == errors.EXIT_OK
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if "warning" in line] == [
        line for line in err if line.startswith(f"unseen: warning: {sample_copy}: ")
    ]
    assert len([line for line in err if "warning" in line]) == 1
    assert err[-1].startswith("unseen: 1 done, 0 failed") and "0 clean, 1 with residuals" in err[-1]
    assert (out / SAMPLE.name).is_file()


def test_default_run_on_the_sample_is_clean(sample_copy: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = run_cli(sample_copy, "-o", tmp_path / "out", "--strict", "--report", report)
    assert result.returncode == 0, result.stderr
    (entry,) = json.loads(report.read_text())["files"]
    assert entry["verified"] and entry["residuals"] == [] and entry["reid"] is None
    assert entry["verdict"] == "clean"
    assert "1 clean, 0 with residuals" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize(("quality", "scale"), [("fast", 0.5), ("balanced", 0.75), ("thorough", 0.75)])
def test_each_preset_checks_with_its_own_pass_and_the_sample_is_clean(
    sample_copy: Path, tmp_path: Path, quality: str, scale: float
) -> None:
    report = tmp_path / "report.json"
    result = run_cli(sample_copy, "-o", tmp_path / "out", "--quality", quality, "--strict", "--report", report)
    assert result.returncode == 0, result.stderr
    data = json.loads(report.read_text())
    assert data["settings"]["verify"]["residuals"]["passes"] == [{"scale": scale, "flip": True, "model": "centerface"}]
    assert data["files"][0]["verdict"] == "clean"


def test_no_verify_leaves_the_output_unchecked(sample_copy: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = run_cli(sample_copy, "-o", tmp_path / "out", "--no-verify", "--report", report)
    assert result.returncode == 0, result.stderr
    data = json.loads(report.read_text())
    assert data["files"][0]["verified"] is False and data["files"][0]["verdict"] == "unverified"
    assert data["summary"]["unverified"] == 1
    assert "1 not verified" in result.stderr


@pytest.mark.parametrize("flag", ["--strict", "--reid"])
def test_no_verify_with_a_check_is_a_usage_error(sample_copy: Path, tmp_path: Path, flag: str) -> None:
    result = run_cli(sample_copy, "-o", tmp_path / "out", "--no-verify", flag)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"unseen: --no-verify cannot be combined with {flag}"]
    assert not (tmp_path / "out").exists()


def test_unchecked_reports_say_so() -> None:
    # A report no check has filled in (--no-verify) keeps the defaults.
    report = FileReport("clip.mp4", "out.mp4", "done")
    assert not report.verified and report.reid is None and report.verdict == "unverified"


# ---------------------------------------------------------------- re-identification


def weak_blur(image: np.ndarray, faces: Faces) -> np.ndarray:
    """A Gaussian blur with a 15-pixel kernel over each face's region: the issue's example of too little."""
    out = image.copy()
    mask = region_mask(faces, image.shape[1], image.shape[0])
    out[mask] = cv2.GaussianBlur(image, (15, 15), 0)[mask]
    return out


def test_reid_fails_a_weak_blur(sample: np.ndarray, sample_faces: Faces) -> None:
    (result,) = reidentify(sample, weak_blur(sample, sample_faces), sample_faces)
    assert result.distance < SAME_PERSON and not result.passed


def test_reid_passes_the_default_solid_fill(sample: np.ndarray, sample_faces: Faces) -> None:
    (result,) = reidentify(sample, obscure(sample, sample_faces, Method.SOLID), sample_faces)
    assert result.distance >= SAME_PERSON and result.passed


def test_reid_fails_only_what_is_closer_than_a_featureless_crop() -> None:
    box = (0.0, 0.0, 60.0, 60.0)
    assert not ReidResult(box, 0.42, 0.75).passed  # the weak blur on the sample
    assert ReidResult(box, 0.55, 0.551).passed  # a solid fill dlib maps near a plain, dark face
    assert not ReidResult(box, 0.55, 0.62).passed  # closer than featureless by more than MARGIN
    assert ReidResult(box, 0.61, 0.9).passed  # over dlib's threshold


def test_reid_skips_faces_under_48_px(sample: np.ndarray) -> None:
    small = Faces(np.array([[200, 100, 240, 147]]), np.array([0.9]))
    assert reidentify(sample, sample, small) == []


def test_reid_in_the_cli_report(sample_copy: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = run_cli(sample_copy, "-o", tmp_path / "out", "--reid", "--report", report)
    assert result.returncode == 0, result.stderr
    (entry,) = json.loads(report.read_text())["files"]
    (face,) = entry["reid"]
    assert face["passed"] is True and face["distance"] >= SAME_PERSON and on_face(face["box"])


def test_reid_strict_refuses_a_blurred_face(sample_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(sample_copy, "-o", out, "--reid", "--strict", "--method", "blur", "--strength", "0.05")
    assert result.returncode == 3, result.stderr
    assert any("re-identifiable" in line and "--strict" in line for line in result.stderr.splitlines())
    assert not out.exists() or leftovers(out) == []


def test_reid_without_the_extra_is_one_line_and_exit_2(
    sample_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "dlib", None)  # what `import dlib` sees when it is not installed
    reid._models.cache_clear()
    try:
        code = cli.main([str(sample_copy), "-o", str(tmp_path / "out"), "--reid"])
    finally:
        reid._models.cache_clear()
    assert code == errors.EXIT_USAGE
    assert capsys.readouterr().err.splitlines() == [f"unseen: {MISSING_EXTRA}"]
    assert MISSING_EXTRA == "the re-identification check needs the verify extra: pip install 'unseen[verify]'"
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- the shipped models


def test_models_unpack_into_the_cache_and_a_bad_copy_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with reid_models.unpacked(reid_models.SHAPE_MODEL) as path:
        assert path.parent == tmp_path / "cache" / "unseen" / "reid"
        assert file_sha256(path) == reid_models.SHA256[reid_models.SHAPE_MODEL]
    path.write_bytes(b"truncated")
    with reid_models.unpacked(reid_models.SHAPE_MODEL) as again:
        assert again == path and file_sha256(path) == reid_models.SHA256[reid_models.SHAPE_MODEL]
    assert [p.name for p in path.parent.iterdir()] == [reid_models.SHAPE_MODEL]  # no temporary file left


def test_models_fall_back_to_a_temporary_copy_when_the_cache_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    with reid_models.unpacked(reid_models.SHAPE_MODEL) as path:
        assert path.is_file() and not path.is_relative_to(blocker)
    assert not path.exists()  # removed once loaded
