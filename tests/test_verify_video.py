"""The residual check on written videos: the output decoded, sampled frames searched, residuals with frame and time.

The clips are test_video.py's: the bundled astronaut sliding over grey, 320×240, made here with PyAV.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_video import scene, write_clip

from unseen import cli, errors, kinds
from unseen.faces import Detector, Faces
from unseen.media.videofile import VideoWriteError
from unseen.paths import Job
from unseen.photo import Options
from unseen.report import FileReport
from unseen.track import TrackerSettings
from unseen.verify.residual import residual_detector
from unseen.verify.video_check import CHECK_EVERY, Regions, check_video, sampled
from unseen.video import VideoOptions, process_video, video_detector


@pytest.fixture(scope="module")
def detector() -> Detector:
    return video_detector()


def nothing(_image: np.ndarray) -> Faces:
    """A detector that misses every face: what the check is there to catch."""
    return Faces()


def first_calls(detector: Detector, calls: int) -> Detector:
    """`detector` for the first `calls` frames (the pipeline searches frames in order, once each), then blind."""
    count = iter(range(1 << 30))
    return lambda image: detector(image) if next(count) < calls else Faces()


def on(box: list[float], face: tuple[int, int, int, int]) -> bool:
    """Whether a reported box covers most of the face box."""
    w = min(box[2], face[2]) - max(box[0], face[0])
    h = min(box[3], face[3]) - max(box[1], face[1])
    return max(0.0, w) * max(0.0, h) >= 0.5 * (face[2] - face[0]) * (face[3] - face[1])


def files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def clip(tmp_path: Path, frames: int, **kwargs: object) -> tuple[Path, list[tuple[int, int, int, int]]]:
    images, boxes = scene(frames)
    source = tmp_path / "in" / "clip.mp4"
    source.parent.mkdir(exist_ok=True)
    write_clip(source, images, **kwargs)  # type: ignore[arg-type]
    return source, boxes


def protect(source: Path, out: Path, detector: Detector, options: Options | None = None, **video: object) -> FileReport:
    job = Job(source, out / source.name, None)
    return process_video(job, detector, options or Options(), VideoOptions(**video))  # type: ignore[arg-type]


# ---------------------------------------------------------------- sampling and the kept regions


def test_sampling_takes_every_nth_frame_from_the_first_and_the_last() -> None:
    assert [i for i in range(12) if sampled(i, 12)] == [0, CHECK_EVERY, 2 * CHECK_EVERY, 11]
    assert [i for i in range(1) if sampled(i, 1)] == [0]


def test_regions_are_kept_per_frame_in_compact_arrays() -> None:
    regions = Regions()
    one = Faces(np.array([[1, 2, 3, 4]]), np.array([0.5]))
    two = Faces(np.array([[5, 6, 7, 8], [9, 10, 11, 12]]), np.array([0.25, 0.75]))
    for index, faces in enumerate([one, Faces(), two]):
        regions.add(index, faces)
    assert len(regions) == 3 and len(regions[1]) == 0
    assert regions[2].boxes.tolist() == two.boxes.tolist() and regions[2].scores.tolist() == [0.25, 0.75]
    assert regions[0].boxes.tolist() == [[1, 2, 3, 4]]
    with pytest.raises(ValueError):
        regions.add(5, one)  # frames come in order: a gap would misalign every later frame
    for index in range(3, 3000):
        regions.add(index, two)
    assert regions.nbytes <= 3000 * (4 + 2 * 20)  # a 10-minute 30 fps clip with 2 faces a frame: under 1 MB


def test_an_output_that_does_not_decode_to_the_frames_written_fails(tmp_path: Path) -> None:
    source, _ = clip(tmp_path, 6)
    regions = Regions()
    for index in range(7):  # one frame more than the file holds
        regions.add(index, Faces())
    with pytest.raises(VideoWriteError, match="decodes to 6 frames, not the 7 written"):
        check_video(source, regions, nothing)


# ---------------------------------------------------------------- the check in the video pipeline


@pytest.mark.parametrize("turned", [False, True])
def test_default_run_is_verified_clean(tmp_path: Path, detector: Detector, turned: bool) -> None:
    images, _ = scene(20)
    if turned:  # stored sideways with a display matrix, as phones record: regions and finds must line up
        images = [np.ascontiguousarray(np.rot90(image, -1)) for image in images]
    source = tmp_path / "clip.mp4"
    write_clip(source, images, rotation=90 if turned else None)
    report = protect(source, tmp_path / "out", detector)
    assert report.status == "done", report.reason
    assert report.verified and report.residuals == [] and report.verdict == "clean"
    assert report.reason is None and report.reid is None


def test_a_face_left_visible_is_flagged_with_frame_and_time(tmp_path: Path, detector: Detector) -> None:
    # Found in frames 0–9 only, covered 2 frames more: frames 12 and later show the face. Frames are 2/30 s
    # apart, so each time must come from the output's own timestamps, not from the index.
    source, boxes = clip(tmp_path, 30, pts=[2 * i for i in range(30)])
    tracker = TrackerSettings(extend_before=2, extend_after=2, max_gap=2)
    report = protect(source, tmp_path / "out", first_calls(detector, 10), tracker=tracker)
    assert report.status == "done" and report.verified and report.verdict == "residuals"
    assert (tmp_path / "out" / "clip.mp4").is_file()  # kept without --strict
    flagged = sorted({int(r["frame"]) for r in report.residuals})  # type: ignore[call-overload]
    assert flagged == [15, 20, 25, 29]  # the sampled frames after 11, the last included
    for entry in report.residuals:
        frame = int(entry["frame"])  # type: ignore[call-overload]
        assert entry["time"] == pytest.approx(2 * frame / 30, abs=1e-3)
        assert on(entry["box"], boxes[frame]) and entry["score"] >= 0.4  # type: ignore[arg-type,operator]
    assert "left visible in 4 of 7 checked frames" in str(report.reason) and "\n" not in str(report.reason)


def test_rotated_residuals_are_boxes_in_the_picture_as_shown(tmp_path: Path) -> None:
    images, boxes = scene(6)
    source = tmp_path / "portrait.mp4"
    write_clip(source, [np.ascontiguousarray(np.rot90(image, -1)) for image in images], rotation=90)
    report = protect(source, tmp_path / "out", nothing)
    assert [e["frame"] for e in report.residuals] == [0, 5]
    # The boxes are in the landscape picture as shown: in the stored, portrait pixels none would be on the face.
    assert all(on(e["box"], boxes[int(e["frame"])]) for e in report.residuals)  # type: ignore[arg-type,call-overload]


@pytest.mark.parametrize("turned", [False, True])
def test_a_frame_shrunk_for_the_check_gives_boxes_in_the_picture_as_shown(tmp_path: Path, turned: bool) -> None:
    """video.py checks a frame larger than 1080p shrunk to 1080p's pixels (FULL_PIXELS): the residuals' boxes
    are still in the full picture's pixels, rotation applied."""
    images, boxes = scene(6)
    source = tmp_path / "clip.mp4"
    stored = [np.ascontiguousarray(np.rot90(image, -1)) for image in images] if turned else images
    write_clip(source, stored, rotation=90 if turned else None)
    regions = Regions()
    for index in range(6):
        regions.add(index, Faces())  # nothing covered: the face is a residual wherever it is found
    whole = check_video(source, regions, residual_detector(), every=5)
    shrunk = check_video(source, regions, residual_detector(), every=5, most_pixels=320 * 240 // 2)
    assert [r.frame for r in shrunk.found] == [r.frame for r in whole.found] == [0, 5]
    for residual in shrunk.found:
        assert all(on(face["box"], boxes[residual.frame]) for face in residual.faces.to_list())


def test_strict_publishes_nothing_when_a_face_is_left_visible(tmp_path: Path) -> None:
    source, _ = clip(tmp_path, 8)
    out = tmp_path / "out"
    report = protect(source, out, nothing, Options(strict=True))
    assert report.status == "failed" and report.output is None and report.verdict == "failed"
    assert report.residuals and {e["frame"] for e in report.residuals} == {0, 5, 7}
    assert "--strict" in str(report.reason) and "left visible" in str(report.reason)
    assert files(out) == []  # neither the output nor its temporary file


def test_no_verify_leaves_the_video_unchecked(tmp_path: Path) -> None:
    source, _ = clip(tmp_path, 6)
    report = protect(source, tmp_path / "out", nothing, Options(verify=False))
    assert report.status == "done" and not report.verified and report.verdict == "unverified"
    assert report.residuals == []


def test_a_given_verifiers_detector_is_used(tmp_path: Path) -> None:
    from unseen.verify.photo_check import Verifier

    source, _ = clip(tmp_path, 6)
    looked: list[int] = []
    check = residual_detector()

    def counting(image: np.ndarray) -> Faces:
        looked.append(1)
        return check(image)

    job = Job(source, tmp_path / "out" / source.name, None)
    report = process_video(job, nothing, Options(), VideoOptions(), Verifier(detector=counting))
    assert report.verdict == "residuals" and len(looked) == 2  # frames 0 and 5


# ---------------------------------------------------------------- through the command


def test_command_strict_exits_3_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(kinds, "video_detector", lambda *_args: nothing)
    source, _ = clip(tmp_path, 8)
    out, report = tmp_path / "out", tmp_path / "report.json"
    assert cli.main([str(source), "-o", str(out), "--strict", "--report", str(report)]) == errors.EXIT_REFUSED
    err = capsys.readouterr().err.splitlines()
    assert any(line.startswith(f"unseen: {source}: ") and "--strict" in line for line in err)
    assert files(out) == []
    (entry,) = json.loads(report.read_text())["files"]
    assert entry["verdict"] == "failed" and entry["verified"] is True
    assert {(e["frame"], e["time"]) for e in entry["residuals"]} == {(0, 0.0), (5, 0.167), (7, 0.233)}


def test_command_warns_once_and_keeps_a_flagged_video(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(kinds, "video_detector", lambda *_args: nothing)
    source, _ = clip(tmp_path, 6)
    out, report = tmp_path / "out", tmp_path / "report.json"
    assert cli.main([str(source), "-o", str(out), "--report", str(report)]) == errors.EXIT_OK
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if "warning" in line] == [
        line for line in err if line.startswith(f"unseen: warning: {source}: a face may be left visible")
    ]
    assert len([line for line in err if "warning" in line]) == 1
    assert "0 clean, 1 with residuals" in err[-1]
    assert (out / "clip.mp4").is_file()
    data = json.loads(report.read_text())
    assert data["files"][0]["verdict"] == "residuals"
    videos = data["settings"]["verify"]["videos"]
    assert videos["residuals"] is True and videos["reid"] is False and str(CHECK_EVERY) in videos["frames"]


def test_command_no_verify_reports_the_video_unverified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(kinds, "video_detector", lambda *_args: nothing)
    source, _ = clip(tmp_path, 6)
    report = tmp_path / "report.json"
    assert cli.main([str(source), "-o", str(tmp_path / "out"), "--no-verify", "--report", str(report)]) == 0
    assert "1 not verified" in capsys.readouterr().err
    data = json.loads(report.read_text())
    assert data["files"][0]["verdict"] == "unverified" and data["settings"]["verify"]["residuals"] is False
