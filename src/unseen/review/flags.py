"""The faces the residual check still sees in a photo (on the page's preview, or in the file as written), and
which of them a person has answered.

A flag is answered by covering it (a person's region over it: the check then no longer sees it) or by saying
it is not a face (a removed person's region carrying the check's box and score, regions.Check). A later check
finds the same face at nearly the same box, not the same to the bit (the pixels around it may have changed):
one whose box overlaps a dismissed one's by MATCH or more is that face.
"""

from __future__ import annotations

import numpy as np

from unseen.detectors.merge import iou_matrix
from unseen.faces import Faces
from unseen.regions import Entry

MATCH = 0.5  # intersection over union at which two boxes the check found are taken for one face


def unanswered(entry: Entry, *found: Faces) -> Faces:
    """The faces in `found` (the preview's and the output's checks: one face in both counts once) that no
    dismissal in `entry` answers."""
    faces = _distinct(Faces.concat([f for f in found if len(f)]))
    dismissed = np.array([r.check.box for r in entry.regions if r.dismissed and r.check], np.float32)
    if not len(faces) or not len(dismissed):
        return faces
    matched = (iou_matrix(faces.boxes, dismissed.reshape(-1, 4)) >= MATCH).any(axis=1)
    return faces[np.flatnonzero(~matched)]


def _distinct(faces: Faces) -> Faces:
    """One box for each face found more than once (the first found, in order)."""
    keep: list[int] = []
    for i in range(len(faces)):
        if not keep or not (iou_matrix(faces.boxes[i : i + 1], faces.boxes[keep]) >= MATCH).any():
            keep.append(i)
    return faces[np.array(keep, np.int64)]


def from_report(residuals: list[dict[str, object]]) -> Faces:
    """The faces the check found in a written photo, from its report's residuals."""
    rows = [r for r in residuals if "box" in r and "frame" not in r]
    boxes = np.array([r["box"] for r in rows], np.float32).reshape(-1, 4)
    return Faces(boxes, np.array([r.get("score", 0.0) for r in rows], np.float32))


def said(count: int) -> str:
    """The reason a flagged photo is not approved or published, for the page."""
    faces = "1 possible face" if count == 1 else f"{count} possible faces"
    return f"the check still sees {faces} here: cover each one or mark it not a face"
