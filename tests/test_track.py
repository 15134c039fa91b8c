"""The tracker: gaps filled, tracks extended before and after with their motion, nothing dropped, memory bounded."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unseen.faces import Faces
from unseen.track import Tracker, TrackerSettings


def face_at(frame: int, speed: float = 4.0, size: float = 30.0) -> np.ndarray:
    """A face moving right at `speed` px per frame."""
    x = 100 + speed * frame
    return np.array([x, 50, x + size, 50 + size], np.float32)


def run(detected: dict[int, list[np.ndarray]], frames: int, settings_: TrackerSettings | None = None):
    """Push `frames` frames (detections where given) and return {frame: Faces released}."""
    tracker = Tracker(settings_)
    out: dict[int, Faces] = {}
    for index in range(frames):
        boxes = detected.get(index, [])
        faces = Faces(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), 0.9, np.float32))
        out.update(tracker.push(index, faces))
    out.update(tracker.flush())
    return out, tracker


def covered(faces: Faces, box: np.ndarray) -> bool:
    """Whether one released box contains `box` entirely."""
    b = faces.boxes
    inside = (b[:, 0] <= box[0]) & (b[:, 1] <= box[1]) & (b[:, 2] >= box[2]) & (b[:, 3] >= box[3])
    return bool(inside.any())


def test_every_frame_is_released_once_in_order():
    out, _ = run({}, 50)
    assert list(out) == list(range(50))


def test_a_gap_between_detections_is_filled():
    seen = [*range(0, 5), *range(15, 20)]  # frames 5–14 missed by the detector
    out, tracker = run({i: [face_at(i)] for i in seen}, 30)
    for index in range(5, 15):
        assert covered(out[index], face_at(index)), index
    assert len(tracker.summaries()) == 1  # one face, one track


def test_a_single_detection_is_kept_and_extended_both_ways():
    s = TrackerSettings()
    out, tracker = run({20: [face_at(0)]}, 60)
    for index in range(20 - s.extend_before, 20 + s.extend_after + 1):
        assert covered(out[index], face_at(0)), index
    assert len(out[20 - s.extend_before - 1]) == 0
    assert len(out[20 + s.extend_after + 1]) == 0
    assert tracker.summaries()[0]["detections"] == 1


def test_extensions_follow_the_motion():
    s = TrackerSettings()
    out, _ = run({i: [face_at(i, speed=6)] for i in range(10, 20)}, 40)
    for index in [*range(10 - s.extend_before, 10), *range(20, 20 + s.extend_after)]:
        assert covered(out[index], face_at(index, speed=6)), index


def test_a_face_coming_closer_is_carried_on_growing():
    def approaching(frame: int) -> np.ndarray:
        size = 20 + 3 * frame
        return np.array([200 - size / 2, 100 - size / 2, 200 + size / 2, 100 + size / 2], np.float32)

    out, _ = run({i: [approaching(i)] for i in range(10)}, 30)
    for index in range(10, 10 + TrackerSettings().extend_after):
        assert covered(out[index], approaching(index)), index


def test_two_faces_make_two_tracks():
    other = np.array([400, 300, 440, 340], np.float32)
    _, tracker = run({i: [face_at(i), other] for i in range(10)}, 20)
    assert len(tracker.summaries()) == 2


def test_memory_stays_bounded_over_a_long_video():
    tracker = Tracker()
    rng = np.random.default_rng(0)
    for index in range(5000):
        boxes = [face_at(index % 50)] if rng.random() < 0.7 else []
        if rng.random() < 0.05:  # a false positive somewhere else
            boxes.append(np.array([600, 400, 620, 420], np.float32))
        tracker.push(index, Faces(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), 0.5, np.float32)))
        assert len(tracker.pending) <= tracker.settings.lookahead
        assert len(tracker.tracks) < 20
        assert all(len(t.frames) < 60 for t in tracker.tracks)


@settings(max_examples=40, deadline=None)
@given(
    gaps=st.lists(st.integers(1, TrackerSettings().max_gap + 1), min_size=1, max_size=8),
    speed=st.floats(-4, 4),
    size=st.floats(8, 120),
)
def test_covered_between_first_and_last_detection(gaps: list[int], speed: float, size: float):
    """Detections up to max_gap missed frames apart, a face moving up to 4 px per frame (120 px/s at 30 fps):
    every frame from the first detection to the last is covered."""
    frames = np.cumsum([0, *gaps]) + 5
    out, _ = run({int(i): [face_at(int(i), speed, size)] for i in frames}, int(frames[-1]) + 30)
    for index in range(int(frames[0]), int(frames[-1]) + 1):
        assert covered(out[index], face_at(index, speed, size)), index


def test_stepped_settings_are_the_same_in_seconds():
    s = TrackerSettings()
    assert s.stepped(1) is s
    two = s.stepped(2)
    assert (two.extend_before, two.extend_after, two.max_gap, two.velocity_span, two.step) == (
        2 * s.extend_before, 2 * s.extend_after, 2 * s.max_gap, 2 * s.velocity_span, 2,
    )  # fmt: skip
    assert (two.pixels_per_frame, two.reach_pixels, two.max_speed) == (
        s.pixels_per_frame / 2, s.reach_pixels / 2, s.max_speed / 2,
    )  # fmt: skip
    assert (two.confirm, two.sure) == (s.confirm, s.sure)
    with pytest.raises(ValueError):
        TrackerSettings(step=0)


def test_a_face_searched_every_2nd_frame_is_followed_as_long_in_seconds():
    """At step 2 (a 60-fps video searched every 2nd frame) a gap of 30 frames (15 searches) is filled and a
    confirmed track is carried 16 frames past its last detection; at step 1 neither (max_gap 20, 8 frames)."""
    seen = [*range(0, 20, 2), *range(50, 70, 2)]
    detected = {i: [face_at(i, speed=2.0)] for i in seen}
    out, tracker = run(detected, 100, TrackerSettings().stepped(2))
    assert len(tracker.summaries()) == 1  # one face, one track, across the gap
    for index in range(0, 68 + 16 + 1):
        assert covered(out[index], face_at(index, speed=2.0)), index
    assert len(out[68 + 17]) == 0
    plain, _ = run(detected, 100)
    assert len(plain[35]) == 0 and len(plain[68 + 9]) == 0
