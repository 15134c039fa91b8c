"""What to cover in each frame of a video, from its regions file entry (regions.VideoEntry): one small module
that the pipeline (writing from decisions, video.py) and the review page's preview both call, so that what is
previewed is what is written.

In frame f: every box of a kept detector track at f (not removed, f inside its trim), as face boxes that the
obscuring grows by --grow; and every person track's area, interpolated linearly between the keyframes around
f (none before the first keyframe or after the last), as the face box whose mask covers that whole area
(obscure.face_boxes_covering). Nothing is detected.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from unseen.errors import FileError
from unseen.faces import Faces, turned_size
from unseen.obscure import DEFAULT_GROW, face_boxes_covering
from unseen.regions import DetectorTrack, PersonTrack, VideoEntry, check_unchanged

PERSON_SCORE = 1.0  # a person's area is sure: its mask is computed as for a confident face


def boxes_at(entry: VideoEntry, frame: int, grow: float = DEFAULT_GROW, turns: int = 0) -> Faces:
    """The face boxes whose masks (obscure.region_mask at `grow`) are what is covered in `frame`.

    In the pixels of the frame as shown, or with `turns` (the quarter turns that show the stored frame upright,
    media/videofile.rotation) in the stored frame's, which is what the pipeline obscures before the player
    turns it: a person's area is turned before its covering ellipse is made, so that the ellipse covers it.
    """
    detected = Faces.concat([detector_at(t, frame) for t in entry.tracks if isinstance(t, DetectorTrack)])
    drawn = Faces.concat([person_at(t, frame) for t in entry.tracks if isinstance(t, PersonTrack)])
    if turns % 4:
        stored_w, stored_h = turned_size(entry.width, entry.height, turns)
        detected = detected.unturned(turns, stored_w, stored_h)
        drawn = drawn.unturned(turns, stored_w, stored_h)
    covering = Faces(face_boxes_covering(drawn.boxes, drawn.scores, grow), drawn.scores)
    return Faces.concat([detected, covering])


def detector_at(track: DetectorTrack, frame: int) -> Faces:
    """The track's face boxes in `frame`: none when it is removed or the frame is trimmed off."""
    if track.removed or (track.trim is not None and not track.trim[0] <= frame <= track.trim[1]):
        return Faces()
    return found_at(track, frame)


def found_at(track: DetectorTrack, frame: int) -> Faces:
    """The track's face boxes in `frame` as found, whether or not a person removed or trimmed them."""
    start, end = np.searchsorted(track.frames, [frame, frame + 1])
    return Faces(track.boxes[start:end], track.scores[start:end])


def person_at(track: PersonTrack, frame: int) -> Faces:
    """The area the person's track covers in `frame` (not grown): interpolated between the keyframes around it."""
    after = int(np.searchsorted(track.frames, frame))  # the first keyframe at or after the frame
    if after == len(track.frames) or (track.frames[after] != frame and after == 0):
        return Faces()
    if track.frames[after] == frame:
        box = track.boxes[after]
    else:
        f0, f1 = int(track.frames[after - 1]), int(track.frames[after])
        w = (frame - f0) / (f1 - f0)
        box = (1 - w) * track.boxes[after - 1] + w * track.boxes[after]
    return Faces(np.asarray(box, np.float64)[None], np.array([PERSON_SCORE], np.float32))


def summaries(entry: VideoEntry) -> list[dict[str, object]]:
    """Per track, for the report: its origin, first and last frame, and what was decided (keyframes, removed,
    trim); removed tracks are in the record but not among the faces obscured (report.RunReport.summary)."""
    out: list[dict[str, object]] = []
    for track in entry.tracks:
        first, last = int(track.frames[0]), int(track.frames[-1])
        item: dict[str, object] = {"track": track.id, "origin": track.origin, "first_frame": first, "last_frame": last}
        if isinstance(track, PersonTrack):
            item["keyframes"] = len(track.frames)
        else:
            item["boxes"] = len(track.frames)
            item |= {"removed": True} if track.removed else {}
            item |= {"trim": list(track.trim)} if track.trim is not None else {}
        out.append(item)
    return out


class Plan:
    """The decisions as the pipeline takes them (video.Decided): per frame, once the video is known to be the
    one they were made on (same bytes, size and frame count): a changed video fails in its one line, never
    obscured with stale decisions."""

    def __init__(self, source: Path, entry: VideoEntry, grow: float) -> None:
        self.source, self.entry, self.grow = source, entry, grow

    def faces(self, index: int, turns: int, width: int, height: int) -> Faces:
        """What to cover in frame `index` (stored `width`×`height`, shown turned by `turns`), in its pixels."""
        entry = self.entry
        if index == 0:
            check_unchanged(entry, self.source)
            shown = turned_size(width, height, turns)
            if shown != (entry.width, entry.height):
                raise FileError(f"shows {shown[0]}×{shown[1]}, not the {entry.width}×{entry.height} decided on")
        if index >= entry.frames:
            raise FileError(f"has more frames than the {entry.frames} decided on")
        return boxes_at(entry, index, self.grow, turns)

    def end(self, frames: int) -> None:
        if frames != self.entry.frames:
            raise FileError(f"has {frames} frames, not the {self.entry.frames} decided on")
