"""Videos in regions files: detect and record the tracks, correct them (remove, trim, a person's track with
keyframes), write exactly what was decided with everything else as a plain run.

The clips are made here with PyAV (tests/test_video.py's helpers): the astronaut sliding over grey, with sound.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from conftest import changed_share, run_cli, sha256
from test_video import audio_packets, decoded, scene, write_clip

from unseen.obscure import region_mask
from unseen.regions import PersonTrack, VideoEntry
from unseen.video_decisions import boxes_at

FRAMES = 30  # 1 s at 30 fps, 320×240
DARK = 40  # a covered pixel (solid fill) decodes darker than this; the clips' grey is 90
NEAR = 6.0  # mean difference, per channel, of a plain transcode from its input (CRF 18) is well under this


def bare_share(before: np.ndarray, after: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Mean difference inside the box: small where the output is the input re-encoded."""
    x1, y1, x2, y2 = box
    return float(np.abs(before[y1:y2, x1:x2].astype(np.int16) - after[y1:y2, x1:x2]).mean())


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("clip") / "clip.mp4"
    images, _ = scene(FRAMES)
    write_clip(source, images, audio=True)
    return source


@pytest.fixture(scope="module")
def faces() -> list[tuple[int, int, int, int]]:
    return scene(FRAMES)[1]


@pytest.fixture(scope="module")
def detected(clip: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The clip's regions file, as --regions-out writes it."""
    folder = tmp_path_factory.mktemp("detected")
    result = run_cli(clip, "--regions-out", folder / "regions.json")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["regions.json"]
    assert sorted(p.name for p in clip.parent.iterdir()) == ["clip.mp4"]  # no output next to the input either
    return json.loads((folder / "regions.json").read_text())


def write_from(clip: Path, data: dict, folder: Path, *more: object) -> tuple[object, Path]:
    """Run `unseen CLIP -o folder/out --regions folder/regions.json`; the result and the output's path."""
    folder.mkdir(parents=True, exist_ok=True)
    regions = folder / "regions.json"
    regions.write_text(json.dumps(data))
    result = run_cli(clip, "-o", folder / "out", "--regions", regions, *more)
    return result, folder / "out" / clip.name


def tracks(data: dict) -> list[dict]:
    return data["files"][0]["tracks"]


# --- detect only ----------------------------------------------------------------------------------------------


def test_detect_only_records_the_tracks_and_writes_no_video(detected: dict, clip: Path, faces: list) -> None:
    assert detected["unseen_regions"] == 2
    (entry,) = detected["files"]
    assert entry["path"] == "clip.mp4" and entry["kind"] == "video" and entry["sha256"] == sha256(clip)
    assert (entry["width"], entry["height"], entry["frames"], entry["fps"]) == (320, 240, FRAMES, 30.0)
    assert entry["approved"] is False
    ids = [t["id"] for t in entry["tracks"]]
    assert len(set(ids)) == len(ids) and all(t["origin"] == "detector" for t in entry["tracks"])
    # The face is covered in every frame, by a box of some track that lies on it.
    on_face = set()
    for track in entry["tracks"]:
        frames = [row[0] for row in track["boxes"]]
        assert frames == sorted(frames)
        for frame, x1, y1, x2, y2, score in track["boxes"]:
            fx1, fy1, fx2, fy2 = faces[frame]
            if x1 < fx2 and fx1 < x2 and y1 < fy2 and fy1 < y2:
                on_face.add(frame)
            assert 0 < score <= 1
    assert on_face == set(range(FRAMES))


# --- writing from the file ------------------------------------------------------------------------------------


def test_an_untouched_file_covers_what_a_plain_run_covers(tmp_path: Path, clip: Path, detected: dict) -> None:
    plain = run_cli(clip, "-o", tmp_path / "plain", "-q")
    assert plain.returncode == 0, plain.stderr
    report = tmp_path / "report.json"
    result, output = write_from(clip, detected, tmp_path / "a", "--report", report)
    assert result.returncode == 0, result.stderr
    ours, ours_pts = decoded(output)
    theirs, _ = decoded(tmp_path / "plain" / clip.name)
    source, source_pts = decoded(clip)
    assert len(ours) == len(source) == FRAMES and ours_pts == source_pts
    assert audio_packets(output) == audio_packets(clip) != []
    for i in range(FRAMES):  # the same masks, so the same pixels (x264 is deterministic)
        assert np.array_equal(ours[i], theirs[i]), f"frame {i}"
    again, output_again = write_from(clip, detected, tmp_path / "b")
    assert again.returncode == 0, again.stderr
    assert sha256(output_again) == sha256(output)  # same file, same input: the same bytes
    (entry,) = json.loads(report.read_text())["files"]
    assert entry["status"] == "done" and entry["verdict"] == "clean"
    assert [f["track"] for f in entry["faces"]] == [t["id"] for t in tracks(detected)]
    assert all(f["origin"] == "detector" and "removed" not in f for f in entry["faces"])


def test_a_60_fps_video_searched_in_steps_is_decided_and_written_as_a_plain_run(tmp_path: Path) -> None:
    """Searched every 2nd frame (video.frame_step): the regions file still has a box on the face in every frame,
    and writing from it gives a plain run's pixels."""
    source = tmp_path / "clip60.mp4"
    images, boxes = scene(FRAMES)
    write_clip(source, images, time_base=Fraction(1, 60))
    found = run_cli(source, "--regions-out", tmp_path / "regions.json")
    assert found.returncode == 0, found.stderr
    data = json.loads((tmp_path / "regions.json").read_text())
    on_face = set()
    for track in tracks(data):
        for frame, x1, y1, x2, y2, _score in track["boxes"]:
            fx1, fy1, fx2, fy2 = boxes[frame]
            if x1 < fx2 and fx1 < x2 and y1 < fy2 and fy1 < y2:
                on_face.add(frame)
    assert on_face == set(range(FRAMES))
    plain = run_cli(source, "-o", tmp_path / "plain", "-q")
    assert plain.returncode == 0, plain.stderr
    result, output = write_from(source, data, tmp_path / "a")
    assert result.returncode == 0, result.stderr
    ours, _ = decoded(output)
    theirs, _ = decoded(tmp_path / "plain" / source.name)
    assert all(np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True))


def test_a_person_track_covers_the_interpolated_box_between_its_keyframes(tmp_path: Path) -> None:
    # Grey with a gradient, no face: the detector finds nothing, the person's track is all that is covered.
    ramp = np.linspace(70, 200, 320, dtype=np.float32)
    image = np.repeat(np.repeat(ramp[None, :, None], 240, axis=0), 3, axis=2).astype(np.uint8)
    source = tmp_path / "walk.mp4"
    write_clip(source, [image] * FRAMES, audio=True)
    result = run_cli(source, "--regions-out", tmp_path / "found.json")
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "found.json").read_text())
    assert tracks(data) == []
    first, last = (5, [20, 30, 80, 90]), (25, [200, 120, 300, 220])
    tracks(data).append({"id": 7, "origin": "person", "keyframes": [[first[0], *first[1]], [last[0], *last[1]]]})
    report = tmp_path / "report.json"
    result, output = write_from(source, data, tmp_path / "w", "--report", report)
    assert result.returncode == 0, result.stderr
    after, pts = decoded(output)
    before, before_pts = decoded(source)
    assert len(after) == FRAMES and pts == before_pts and audio_packets(output) == audio_packets(source)
    for i in range(FRAMES):
        if first[0] <= i <= last[0]:
            w = (i - first[0]) / (last[0] - first[0])
            box = [round((1 - w) * a + w * b) for a, b in zip(first[1], last[1], strict=True)]
            x1, y1, x2, y2 = box[0] + 2, box[1] + 2, box[2] - 2, box[3] - 2  # inside, clear of the codec's edge
            assert after[i][y1:y2, x1:x2].max() < DARK, f"frame {i}"
        else:  # before the first keyframe and after the last: nothing covered
            assert bare_share(before[i], after[i], (0, 0, 320, 240)) < NEAR, f"frame {i}"
    (entry,) = json.loads(report.read_text())["files"]
    assert entry["faces"] == [{"track": 7, "origin": "person", "first_frame": 5, "last_frame": 25, "keyframes": 2}]


def test_a_removed_track_is_left_as_a_transcode(tmp_path: Path, clip: Path, detected: dict, faces: list) -> None:
    data = json.loads(json.dumps(detected))
    for track in tracks(data):
        track["removed"] = True
    report = tmp_path / "report.json"
    result, output = write_from(clip, data, tmp_path / "w", "--report", report)
    assert result.returncode == 0, result.stderr
    assert "warning" in result.stderr  # the residual check still sees the face a person let through
    before, _ = decoded(clip)
    after, _ = decoded(output)
    for i, box in enumerate(faces):
        assert bare_share(before[i], after[i], box) < NEAR, f"frame {i}"
    (entry,) = json.loads(report.read_text())["files"]
    assert entry["verdict"] == "residuals"
    assert all(f["removed"] is True for f in entry["faces"])


def test_a_trimmed_track_covers_its_frames_only(tmp_path: Path, clip: Path, detected: dict, faces: list) -> None:
    data = json.loads(json.dumps(detected))
    for track in tracks(data):
        track["trim"] = [10, 19]
    result, output = write_from(clip, data, tmp_path / "w", "--no-verify")
    assert result.returncode == 0, result.stderr
    before, _ = decoded(clip)
    after, _ = decoded(output)
    for i, box in enumerate(faces):
        if 10 <= i <= 19:
            assert changed_share(before[i], after[i], box) >= 0.9, f"frame {i}"
        else:
            assert bare_share(before[i], after[i], box) < NEAR, f"frame {i}"


def test_a_rotated_video_is_decided_as_shown(tmp_path: Path) -> None:
    images, _ = scene(12)
    source = tmp_path / "turned.mp4"
    write_clip(source, [np.ascontiguousarray(np.rot90(i, -1)) for i in images], rotation=90)
    assert run_cli(source, "--regions-out", tmp_path / "r.json").returncode == 0
    (entry,) = json.loads((tmp_path / "r.json").read_text())["files"]
    assert (entry["width"], entry["height"]) == (320, 240)  # as shown: the stored frames are 240×320
    plain = run_cli(source, "-o", tmp_path / "plain", "-q")
    assert plain.returncode == 0, plain.stderr
    result = run_cli(source, "-o", tmp_path / "out", "--regions", tmp_path / "r.json", "-q")
    assert result.returncode == 0, result.stderr
    ours, _ = decoded(tmp_path / "out" / source.name)
    theirs, _ = decoded(tmp_path / "plain" / source.name)
    for a, b in zip(ours, theirs, strict=True):
        assert bare_share(a, b, (0, 0, a.shape[1], a.shape[0])) < 1.0


# --- refused --------------------------------------------------------------------------------------------------


def test_a_changed_video_is_refused_in_one_line(tmp_path: Path, clip: Path, detected: dict) -> None:
    changed = tmp_path / "in" / "clip.mp4"
    changed.parent.mkdir()
    changed.write_bytes(clip.read_bytes() + b"\0")
    result, output = write_from(changed, detected, tmp_path / "w")
    assert result.returncode == 1
    (line,) = [line for line in result.stderr.splitlines() if "clip.mp4" in line]
    assert "changed since the regions file was written" in line
    assert not output.exists() and not any((tmp_path / "w" / "out").glob("*"))


def _entry(**changes: object) -> dict:
    track = {"id": 0, "origin": "detector", "boxes": [[0, 10, 10, 50, 50, 0.9], [1, 12, 10, 52, 50, 0.9]]}
    entry = {"path": "clip.mp4", "sha256": "0" * 64, "kind": "video", "width": 320, "height": 240, "frames": FRAMES}
    return entry | {"fps": 30.0, "approved": False, "tracks": [track]} | changes


PERSON = {"id": 1, "origin": "person", "keyframes": [[0, 10, 10, 50, 50], [9, 30, 10, 70, 50]]}


def _detector(*boxes: list[float], **more: object) -> dict:
    return {"id": 0, "origin": "detector", "boxes": list(boxes)} | more


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        (_entry(tracks=[PERSON | {"keyframes": [[0, 10, 10, 50, 50], [FRAMES, 30, 10, 70, 50]]}]), "past the video"),
        (_entry(tracks=[_detector([3, 10, 10, 50, 50, 0.9], [FRAMES + 4, 1, 1, 9, 9, 1])]), "past the video"),
        (_entry(tracks=[PERSON | {"keyframes": [[2, 400, 10, 450, 50]]}]), "outside the frame"),
        (_entry(tracks=[_detector([0, 900, 10, 940, 50, 0.9])]), "outside the frame"),
        (_entry(tracks=[PERSON | {"keyframes": [[9, 10, 10, 50, 50], [0, 30, 10, 70, 50]]}]), "ascending"),
        (_entry(tracks=[PERSON, PERSON]), "two tracks have the id 1"),
        (_entry(tracks=[PERSON | {"remove": True}]), "unknown field 'remove'"),
        (_entry(frame_rate=30), "unknown field 'frame_rate'"),
        (_entry(tracks=[_detector([0, 10, 10, 50, 50, 0.9], trim=[5, 99])]), "trim"),
    ],
    ids=["keyframe-past-end", "box-past-end", "keyframe-outside", "box-outside", "keyframe-order", "duplicate-id",
         "unknown-track-field", "unknown-file-field", "trim-past-end"],
)  # fmt: skip
def test_a_bad_video_entry_is_a_usage_error_in_one_line(tmp_path: Path, clip: Path, entry: dict, says: str) -> None:
    result, _ = write_from(clip, {"unseen_regions": 1, "files": [entry]}, tmp_path)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("unseen: regions file regions.json ") and says in line and "clip.mp4" in line
    assert not (tmp_path / "out").exists()


# --- the per-frame computation the review page shares ---------------------------------------------------------


def test_boxes_at_interpolates_and_covers_the_area_turned_as_stored() -> None:
    keyframes = np.array([[10, 20, 30, 120, 90], [20, 120, 130, 220, 190]], np.float64)
    entry = VideoEntry(
        "a.mp4", "0", 320, 240, 40, 30.0, [PersonTrack(3, keyframes[:, 0].astype(np.int64), keyframes[:, 1:])]
    )
    assert len(boxes_at(entry, 9)) == 0 and len(boxes_at(entry, 21)) == 0
    for frame, area in ((10, (20, 30, 120, 90)), (15, (70, 80, 170, 140)), (20, (120, 130, 220, 190))):
        x1, y1, x2, y2 = area
        shown = region_mask(boxes_at(entry, frame), 320, 240)
        assert shown[y1:y2, x1:x2].all(), frame
        for turns in (1, 2, 3):  # in the stored frame, turned as the player turns it: the same area covered
            stored_w, stored_h = (240, 320) if turns % 2 else (320, 240)
            mask = np.rot90(region_mask(boxes_at(entry, frame, turns=turns), stored_w, stored_h), turns)
            assert mask.shape == (240, 320) and mask[y1:y2, x1:x2].all(), (frame, turns)
