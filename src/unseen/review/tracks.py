"""A video's decisions on the review page: its tracks as the page lists and draws them, a person's changes to
them, and "follow", a visual tracker that proposes a person's track on the next frames.

A detected track keeps its boxes (what the pipeline found and followed): a person can remove it, bring it
back, or trim its start and end. A person's track is keyframes (the area to cover on some frames), the page
sending the whole list each time; the box between two keyframes is interpolated (video_decisions.person_at).
"""

from __future__ import annotations

import cv2
import numpy as np

from unseen.faces import Faces
from unseen.obscure import CONFIDENT, covered_rects
from unseen.regions import DetectorTrack, PersonTrack, VideoEntry, VideoTrack
from unseen.review.boxes import clipped_box
from unseen.review.frames import FrameSource
from unseen.video_decisions import found_at, person_at

FOLLOW_MOST = 150  # frames one "follow" may propose (5 s at 30 fps): the person checks them before going on


def row(entry: VideoEntry) -> dict[str, object]:
    detected = [t for t in entry.tracks if isinstance(t, DetectorTrack)]
    kept = [t for t in entry.tracks if not (isinstance(t, DetectorTrack) and t.removed)]
    low = sum(1 for t in detected if not t.removed and unsure(t))
    return {"kind": "video", "faces": len(kept), "found": len(detected), "low": low, "approved": entry.approved}


def unsure(track: DetectorTrack) -> bool:
    """A track the detector was never confident of, in any frame: the page asks for a look at it."""
    return not len(track.scores) or float(track.scores.max()) < CONFIDENT


def view(entry: VideoEntry) -> dict[str, object]:
    """The video and its tracks for the timeline (no per-frame boxes: those come frame by frame, `at`)."""
    return {
        "kind": "video",
        "width": entry.width,
        "height": entry.height,
        "frames": entry.frames,
        "fps": entry.fps,
        "approved": entry.approved,
        "tracks": [_track_view(t) for t in entry.tracks],
    }


def _track_view(track: VideoTrack) -> dict[str, object]:
    first, last = int(track.frames[0]), int(track.frames[-1])
    data: dict[str, object] = {"id": track.id, "origin": track.origin, "first": first, "last": last}
    if isinstance(track, PersonTrack):
        keys = zip(track.frames, track.boxes, strict=True)
        data["keyframes"] = [[int(f), *(round(float(v), 1) for v in box)] for f, box in keys]
    else:
        data |= {"removed": track.removed, "trim": list(track.trim) if track.trim else None}
        data |= {"score": round(float(track.scores.max()), 4) if len(track.scores) else 0.0}
    return data


def at(entry: VideoEntry, frame: int, grow: float) -> list[dict[str, object]]:
    """Each track's box in `frame`, as the page draws it: a detection's covered area (its mask's bounding box),
    also when the track is removed or trimmed there (drawn faint), and a person's area."""
    found: list[dict[str, object]] = []
    for track in entry.tracks:
        if isinstance(track, PersonTrack):
            area = person_at(track, frame)
            if len(area):
                keyframe = bool((track.frames == frame).any())
                box = _rounded(area.boxes[0])
                found.append({"track": track.id, "origin": "person", "box": box, "keyframe": keyframe})
            continue
        faces = found_at(track, frame)
        off = track.removed or (track.trim is not None and not track.trim[0] <= frame <= track.trim[1])
        for rect, score in zip(covered_rects(faces, grow), faces.scores, strict=True):
            score_shown = round(float(score), 3)
            found.append(
                {"track": track.id, "origin": "detector", "box": _rounded(rect), "score": score_shown, "off": off}
            )
    return found


def _rounded(box: np.ndarray) -> list[float]:
    return [round(float(v), 1) for v in box]


def same(a: list[VideoTrack], b: list[VideoTrack]) -> bool:
    return [t.to_dict() for t in a] == [t.to_dict() for t in b]


def merged(entry: VideoEntry, submitted: object) -> list[VideoTrack]:
    """The tracks after a page's change: every detected track still there (removed, trimmed or not), a person's
    tracks as sent (keyframes inside the video and the frame, boxes clipped to it)."""
    if not isinstance(submitted, list) or not all(isinstance(t, dict) for t in submitted):
        raise ValueError("tracks must be a list of objects")
    old = {t.id: t for t in entry.tracks}
    out: list[VideoTrack] = []
    seen: set[int] = set()
    next_id = max(old, default=-1) + 1
    for item in submitted:
        ident = item.get("id")
        track = old.get(ident) if isinstance(ident, int) and not isinstance(ident, bool) else None
        if isinstance(track, DetectorTrack):
            seen.add(track.id)
            out.append(_detector(track, item, entry.frames))
            continue
        keyframes = _keyframes(item.get("keyframes"), entry)
        if not keyframes:
            continue  # a person's track with no keyframe left is deleted
        if track is None:
            ident, next_id = next_id, next_id + 1
        frames = np.array([k[0] for k in keyframes], np.int64)
        out.append(PersonTrack(int(ident), frames, np.array([k[1:] for k in keyframes], np.float64)))
    if any(isinstance(t, DetectorTrack) and t.id not in seen for t in entry.tracks):
        raise ValueError("a detected track can be removed, not dropped from the record")
    return out


def _detector(track: DetectorTrack, item: dict[str, object], frames: int) -> DetectorTrack:
    trim = item.get("trim")
    if trim is not None:
        if not (isinstance(trim, list) and len(trim) == 2 and all(isinstance(v, int) for v in trim)):
            raise ValueError("trim is [first, last]")
        first, last = max(0, trim[0]), min(frames - 1, trim[1])
        if last < first:
            raise ValueError("a trim must keep at least one frame (remove the track instead)")
        trim = (first, last) if (first, last) != (int(track.frames[0]), int(track.frames[-1])) else None
    return DetectorTrack(track.id, track.frames, track.boxes, track.scores, bool(item.get("removed", False)), trim)


def _keyframes(value: object, entry: VideoEntry) -> list[list[float]]:
    """Keyframes [frame, x1, y1, x2, y2], one per frame (the last sent wins), sorted, inside the video."""
    if not isinstance(value, list):
        raise ValueError("a person's track needs its keyframes")
    by_frame: dict[int, list[float]] = {}
    for key in value:
        if not (isinstance(key, list) and len(key) == 5 and all(isinstance(v, int | float) for v in key)):
            raise ValueError("a keyframe is [frame, x1, y1, x2, y2]")
        frame = int(key[0])
        if frame != key[0] or not 0 <= frame < entry.frames:
            raise ValueError(f"keyframe {key[0]} is not a frame of this video (0 to {entry.frames - 1})")
        by_frame[frame] = _box([float(v) for v in key[1:]], entry.width, entry.height)
    return [[f, *by_frame[f]] for f in sorted(by_frame)]


def _box(box: list[float], width: int, height: int) -> list[float]:
    return list(clipped_box(box, width, height, "a box must be at least 2 pixels wide and high inside the frame"))


def follow(entry: VideoEntry, source: FrameSource, ident: int, frame: int, count: int) -> list[list[float]]:
    """Boxes OpenCV's MIL tracker proposes for a person's track on the frames after `frame`, from its box there,
    until the tracker loses it or `count` frames (at most FOLLOW_MOST) have gone by: [frame, x1, y1, x2, y2]."""
    track = next((t for t in entry.tracks if t.id == ident and isinstance(t, PersonTrack)), None)
    if track is None:
        raise ValueError("follow needs one of your tracks")
    start = person_at(track, frame)
    if not len(start):
        raise ValueError("the track has no box on this frame: add one first")
    first = source.pixels(frame)
    sx, sy = first.shape[1] / entry.width, first.shape[0] / entry.height
    x1, y1, x2, y2 = start.scaled(sx, sy).boxes[0]
    tracker = cv2.TrackerMIL_create()  # type: ignore[attr-defined]  # in opencv-python-headless, not in its stubs
    tracker.init(cv2.cvtColor(first, cv2.COLOR_RGB2BGR), (int(x1), int(y1), max(2, int(x2 - x1)), max(2, int(y2 - y1))))
    proposed: list[list[float]] = []
    for index in range(frame + 1, min(frame + 1 + min(count, FOLLOW_MOST), entry.frames)):
        ok, (x, y, w, h) = tracker.update(cv2.cvtColor(source.pixels(index), cv2.COLOR_RGB2BGR))
        if not ok:
            break
        box = Faces(np.array([[x, y, x + w, y + h]]), np.ones(1)).scaled(1 / sx, 1 / sy).boxes[0]
        proposed.append([index, *_box([float(v) for v in box], entry.width, entry.height)])
    return proposed
