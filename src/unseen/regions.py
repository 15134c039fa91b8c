"""The regions file: what is to be obscured in each photo and video, and who decided it, as data a person can
correct.

`unseen IN --regions-out FILE` detects and writes it without writing any output; `unseen IN -o OUT --regions
FILE` writes the outputs from it: every listed photo or video gets exactly its kept regions obscured (no
detection), through the same obscure → write → check → publish path as a plain run; files it does not list
are detected as usual. The review page edits the same file. Format, version 2 (docs/review-and-regions.md and
docs/review.md, "The regions file"; version 1 files, written before answered flags and a video's "silence", are
still read):

    {"unseen_regions": 2,
     "files": [{"path": "day1/a.jpg",            # from the folder or file given, as the report names it
                "sha256": "…",                   # of the input's bytes: a file changed since is refused
                "width": 1024, "height": 768, "approved": false,
                "regions": [{"box": [x1, y1, x2, y2], "score": 0.93, "origin": "detector"},
                            {"box": […], "score": 1.0, "origin": "person"},
                            {"box": […], "score": 0.12, "origin": "detector", "removed": true},
                            {"box": […], "score": 1.0, "origin": "person",          # a flag answered: covered
                             "check": {"box": […], "score": 0.62, "answer": "covered"}},
                            {"box": […], "score": 1.0, "origin": "person", "removed": true,
                             "check": {"box": […], "score": 0.55, "answer": "not a face"}}]}]}

Boxes are in pixels of the photo as shown (orientation applied). A detector's box is a face box: it is grown
and drawn as any detected face is (--grow). A person's box is the area to cover: the mask is the ellipse
through its corners, so every pixel inside it is covered whatever --grow is. Removed regions stay in the
file, so that the record shows what was decided.

A region with `check` (version 2) is a person's answer to a face the residual check still saw: its box and
score are the check's. "covered" is a region like any person's (its box covers the check's); "not a face" is
a dismissal, always `removed`: nothing is covered, and the review no longer stops the file for that face.

A video's entry holds tracks instead of regions (the per-frame computation is video_decisions.boxes_at):

    {"path": "clip.mp4", "sha256": "…", "kind": "video",
     "width": 320, "height": 240,                # as shown (rotation applied), as are the boxes
     "frames": 60, "fps": 30.0, "approved": false,
     "tracks": [{"id": 0, "origin": "detector",  # a face the pipeline followed: the face boxes a plain run
                 "boxes": [[0, x1, y1, x2, y2, score], …]},  # covers in each frame, after tracking (sorted)
                {"id": 1, "origin": "detector", "boxes": […], "removed": true},  # a false alarm: not covered
                {"id": 2, "origin": "detector", "boxes": […], "trim": [10, 40]},  # covered in frames 10-40 only
                {"id": 3, "origin": "person",             # what a person drew: the area to cover, in
                 "keyframes": [[12, x1, y1, x2, y2], …]}],  # keyframes; interpolated in between (sorted)
     "silence": [[12.5, 14.0], …],               # seconds a person chose to silence (a name called out)
     "voice": "mute"}                            # what the voices get: keep, disguise or mute (optional)

A video's "silence" lists spans of time, in seconds on a player's clock (0 where a player starts), that are
silenced in every audio stream of the output whatever --voice says (docs/voices-in-videos.md); it may be absent.
A video's "voice" is the --voice setting chosen for it (the review page records one for every video it
reviews); absent, none was chosen. `unseen --regions` applies it, but never with less protection than its own
--voice asks (config.Voice.at_least: mute > disguise > keep); the report says which applied.

A detector track may hold two boxes in one frame (carried on from one detection and back from the next); its
boxes may lie past an edge (a face leaving the picture, carried on), but not farther than REACH of their own
sizes, past which no mask reaches at any --grow. A person track covers nothing before its first keyframe or
after its last. Frames are numbered from 0 in decoding order; no box lies at or past `frames`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from unseen.config import Voice
from unseen.digest import file_sha256
from unseen.errors import FileError, UsageError
from unseen.faces import Faces
from unseen.obscure import DEFAULT_GROW, face_boxes_covering

VERSION = 2
READS = (1, 2)  # versions load() accepts: version 1 is version 2 without answered flags or a video's silence
ORIGINS = ("detector", "person")
ANSWERS = ("covered", "not a face")  # a person's answer to a face the residual check saw
KINDS = ("photo", "video")
# How far past the frame, in its own sizes, a detector's box in a video may lie: no mask reaches farther (an
# ellipse at --grow 4, scored confident, reaches 2.75 sizes past its box), so one farther off covers nothing.
REACH = 3.0


@dataclass(frozen=True)
class Check:
    """A face the residual check saw, as a person answered it: its box and score, and the answer (ANSWERS)."""

    box: tuple[float, float, float, float]
    score: float
    answer: str

    def to_dict(self) -> dict[str, object]:
        return {"box": [round(v, 1) for v in self.box], "score": round(self.score, 4), "answer": self.answer}


@dataclass(frozen=True)
class Region:
    box: tuple[float, float, float, float]
    score: float
    origin: str = "detector"
    removed: bool = False
    check: Check | None = None  # a person's answer to a face the check saw (origin "person")

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"box": [round(v, 1) for v in self.box], "score": round(self.score, 4)}
        data["origin"] = self.origin
        data |= {"removed": True} if self.removed else {}
        return data | ({"check": self.check.to_dict()} if self.check else {})

    @property
    def dismissed(self) -> bool:
        """A face the check saw that a person says is not a face."""
        return self.check is not None and self.check.answer == "not a face"


@dataclass
class Entry:
    """One photo's decisions."""

    path: str
    sha256: str
    width: int
    height: int
    regions: list[Region] = field(default_factory=list)
    approved: bool = False

    def kept(self, grow: float = DEFAULT_GROW) -> Faces:
        """The regions to obscure, every one not removed, as the face boxes the obscuring grows by `grow`."""
        kept = [r for r in self.regions if not r.removed]
        scores = np.array([r.score for r in kept], np.float32)
        boxes = np.array([r.box for r in kept], np.float64).reshape(-1, 4)
        person = np.array([r.origin == "person" for r in kept], bool)
        boxes[person] = face_boxes_covering(boxes[person], scores[person], grow)
        return Faces(boxes, scores)

    kind = "photo"

    def as_photo(self) -> Entry | None:
        return self

    def as_video(self) -> VideoEntry | None:
        return None

    def decides_as(self, other: AnyEntry) -> bool:
        photo = other.as_photo()
        return photo is not None and photo.regions == self.regions

    def covers_as(self, other: AnyEntry) -> bool:
        return self.decides_as(other)  # a photo has nothing but what it covers

    def approving(self, approved: bool) -> Entry:
        return replace(self, approved=approved)

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "width": self.width,
            "height": self.height,
            "approved": self.approved,
            "regions": [r.to_dict() for r in self.regions],
        }


@dataclass(frozen=True, eq=False)
class DetectorTrack:
    """A face the video pipeline followed: the face boxes a plain run covers, per frame (sorted by frame)."""

    id: int
    frames: np.ndarray  # N frame indices, ascending; a frame may repeat (two boxes of the track in it)
    boxes: np.ndarray  # N×4 face boxes, float32, as shown
    scores: np.ndarray  # N scores, float32
    removed: bool = False
    trim: tuple[int, int] | None = None  # only frames first..last (inclusive) are covered

    origin = "detector"

    def to_dict(self) -> dict[str, object]:
        rows = [
            [f, *map(_f32, box), _f32(s)]
            for f, box, s in zip(self.frames.tolist(), self.boxes, self.scores, strict=True)
        ]
        data: dict[str, object] = {"id": self.id, "origin": self.origin, "boxes": rows}
        return data | ({"removed": True} if self.removed else {}) | ({"trim": list(self.trim)} if self.trim else {})


@dataclass(frozen=True, eq=False)
class PersonTrack:
    """What a person drew: the area to cover at keyframes (sorted, one per frame), interpolated in between."""

    id: int
    frames: np.ndarray  # K keyframe indices, strictly ascending
    boxes: np.ndarray  # K×4 areas to cover, float64, as shown

    origin = "person"

    def to_dict(self) -> dict[str, object]:
        rows = [
            [f, *(round(float(v), 2) for v in box)] for f, box in zip(self.frames.tolist(), self.boxes, strict=True)
        ]
        return {"id": self.id, "origin": self.origin, "keyframes": rows}


VideoTrack = DetectorTrack | PersonTrack


@dataclass
class VideoEntry:
    """One video's decisions: tracks instead of regions."""

    path: str
    sha256: str
    width: int  # as shown: rotation applied
    height: int
    frames: int
    fps: float
    tracks: list[VideoTrack] = field(default_factory=list)
    approved: bool = False
    silence: list[tuple[float, float]] = field(default_factory=list)  # seconds to silence, sorted
    voice: Voice | None = None  # the --voice setting chosen for this video; None: none chosen

    kind = "video"

    def as_photo(self) -> Entry | None:
        return None

    def as_video(self) -> VideoEntry | None:
        return self

    def decides_as(self, other: AnyEntry) -> bool:
        video = other.as_video()
        sound = (self.silence, self.voice)
        return video is not None and self.covers_as(video) and (video.silence, video.voice) == sound

    def covers_as(self, other: AnyEntry) -> bool:
        """Whether `other` covers the same in every frame (what it does to the sound aside)."""
        video = other.as_video()
        return video is not None and [t.to_dict() for t in video.tracks] == [t.to_dict() for t in self.tracks]

    def approving(self, approved: bool) -> VideoEntry:
        return replace(self, approved=approved)

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "kind": self.kind,
            "width": self.width,
            "height": self.height,
            "frames": self.frames,
            "fps": self.fps,
            "approved": self.approved,
            "tracks": [t.to_dict() for t in self.tracks],
            "silence": [[round(a, 3), round(b, 3)] for a, b in self.silence],
        } | ({"voice": self.voice.value} if self.voice is not None else {})


AnyEntry = Entry | VideoEntry


class Decisions(Protocol):
    """What each kind of entry answers, so that a caller asks the entry rather than its type: its `kind` (KINDS;
    the file's kind of media, kinds.py, is decided from the file), whether another entry covers the same (the
    approval aside), a copy approved or not, and itself as the one type it is (`as_photo` / `as_video`: None for
    the other), where a caller needs what only one kind holds (a photo's regions, a video's tracks)."""

    path: str
    sha256: str
    width: int
    height: int
    approved: bool

    @property
    def kind(self) -> str: ...

    def as_photo(self) -> Entry | None: ...

    def as_video(self) -> VideoEntry | None: ...

    def decides_as(self, other: AnyEntry) -> bool: ...

    def covers_as(self, other: AnyEntry) -> bool: ...

    def approving(self, approved: bool) -> Decisions: ...

    def to_dict(self) -> dict[str, object]: ...


def _f32(value: object) -> float:
    """A float32 as the shortest decimal that reads back as the same float32: the masks drawn from the file are
    the ones the pipeline drew, to the bit, with no 9-digit tails in the file."""
    return float(str(np.float32(value)))  # type: ignore[arg-type]  # a JSON number the caller has checked


def detected(path: str, digest: str, width: int, height: int, faces: Faces) -> Entry:
    """A new entry from what the detector found."""
    pairs = zip(faces.boxes.tolist(), faces.scores.tolist(), strict=True)
    return Entry(path, digest, width, height, [Region(tuple(box), score) for box, score in pairs])


def check_unchanged(entry: AnyEntry, source: Path) -> None:
    """Refuse a file whose bytes are not the ones the regions were decided on: never obscure with stale regions."""
    if file_sha256(source) != entry.sha256:
        raise FileError("changed since the regions file was written (its sha256 differs): refused, not obscured")


def dumps(entries: Iterable[AnyEntry]) -> str:
    """The file's text: indented, each box (a list of numbers) on one line, so that a video's file stays short."""
    return _pretty({"unseen_regions": VERSION, "files": [e.to_dict() for e in entries]}, "") + "\n"


def _pretty(value: object, indent: str) -> str:
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(key)}: {_pretty(item, inner)}" for key, item in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and value and not all(isinstance(v, int | float) for v in value):
        return "[\n" + ",\n".join(inner + _pretty(item, inner) for item in value) + "\n" + indent + "]"
    return json.dumps(value, separators=(", ", ": "))


def load(path: Path) -> dict[str, AnyEntry]:
    """The entries of a regions file, by path; any problem with the file is a usage error, in one line."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read regions file {path.name}: {error.strerror or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"regions file {path.name} is not JSON ({error})") from None
    version = data.get("unseen_regions") if isinstance(data, dict) else None
    if version not in READS or isinstance(version, bool):
        raise UsageError(f"regions file {path.name} is not an unseen regions file of version {VERSION} or older")
    try:
        _known(data, {"unseen_regions", "files"})
        entries = [_entry(item, version) for item in data["files"]]
    except (KeyError, TypeError, ValueError) as error:
        raise UsageError(f"regions file {path.name} is malformed ({_why(error)})") from None
    by_path = {entry.path: entry for entry in entries}
    if len(by_path) != len(entries):
        raise UsageError(f"regions file {path.name} lists a file twice")
    return by_path


FILE_FIELDS = {"path", "sha256", "kind", "width", "height", "approved", "regions"}
REGION_FIELDS = {1: {"box", "score", "origin", "removed"}, 2: {"box", "score", "origin", "removed", "check"}}
CHECK_FIELDS = {"box", "score", "answer"}
VIDEO_FIELDS = {"path", "sha256", "kind", "width", "height", "frames", "fps", "approved", "tracks", "silence", "voice"}
TRACK_FIELDS = {"detector": {"id", "origin", "boxes", "removed", "trim"}, "person": {"id", "origin", "keyframes"}}


def _entry(item: dict[str, object], version: int = VERSION) -> AnyEntry:
    kind = item.get("kind", "photo")
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    if kind == "video":
        return _video_entry(item)
    _known(item, FILE_FIELDS)
    width, height = int(item["width"]), int(item["height"])  # type: ignore[call-overload]  # JSON: raises if not
    if width <= 0 or height <= 0:
        raise ValueError(f"bad size {width}×{height}")
    regions = [_region(r, width, height, version) for r in item["regions"]]  # type: ignore[attr-defined]  # JSON: raises if not
    return Entry(str(item["path"]), str(item["sha256"]), width, height, regions, bool(item.get("approved", False)))


def _known(item: dict[str, object], fields: set[str]) -> None:
    """A field unseen does not know is refused: it may be a misspelt decision (`remove` for `removed`)."""
    unknown = sorted(set(item) - fields)
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}")


def _region(item: dict[str, object], width: int, height: int, version: int = VERSION) -> Region:
    _known(item, REGION_FIELDS[version])
    box = _photo_box(item["box"], width, height)
    origin = str(item.get("origin", "detector"))
    if origin not in ORIGINS:
        raise ValueError(f"origin {origin!r} is not one of {', '.join(ORIGINS)}")
    score = float(item.get("score", 1.0))  # type: ignore[arg-type]  # a bad value raises: the entry's one line
    removed = bool(item.get("removed", False))
    check = None if item.get("check") is None else _check(item["check"], width, height)
    if check is not None and (origin != "person" or removed != (check.answer == "not a face")):
        raise ValueError(f"a check's answer {check.answer!r} on a {origin}'s region removed={removed}")
    return Region(box, score, origin, removed, check)


def _photo_box(value: object, width: int, height: int) -> tuple[float, float, float, float]:
    box = tuple(float(v) for v in value)  # type: ignore[attr-defined]  # JSON: raises if not a list
    if len(box) != 4 or not all(np.isfinite(box)) or box[2] <= box[0] or box[3] <= box[1]:
        raise ValueError(f"bad box {list(box)}")
    # A detector's box may reach past an edge (a face cut by the frame); one that misses the photo entirely
    # was not decided on this photo.
    if box[2] <= 0 or box[3] <= 0 or box[0] >= width or box[1] >= height:
        raise ValueError(f"box {list(box)} is outside the {width}×{height} image")
    return box[0], box[1], box[2], box[3]


def _check(item: object, width: int, height: int) -> Check:
    if not isinstance(item, dict):
        raise ValueError("check is not an object")
    _known(item, CHECK_FIELDS)
    answer = item["answer"]
    if answer not in ANSWERS:
        raise ValueError(f"answer {answer!r} is not one of {', '.join(map(repr, ANSWERS))}")
    score = float(item["score"])
    if not 0.0 <= score <= 1.0:
        raise ValueError(f"check score {score} is not between 0 and 1")
    return Check(_photo_box(item["box"], width, height), score, answer)


def _video_entry(item: dict[str, object]) -> VideoEntry:
    path = str(item["path"])
    try:
        _known(item, VIDEO_FIELDS)
        width, height, frames = (_whole(item[key], key) for key in ("width", "height", "frames"))
        fps = float(item["fps"])  # type: ignore[arg-type]  # JSON: raises if not a number
        if min(width, height, frames) <= 0 or not np.isfinite(fps) or fps <= 0:
            raise ValueError(f"bad size {width}×{height}, {frames} frames or {fps} fps")
        entry = VideoEntry(path, str(item["sha256"]), width, height, frames, fps, [], bool(item.get("approved", False)))
        if not isinstance(item["tracks"], list):
            raise ValueError("tracks is not a list")
        entry.tracks.extend(_track(track, entry, number) for number, track in enumerate(item["tracks"]))
        entry.silence = silence_spans(item.get("silence", []), frames / fps)
        entry.voice = _voice(item.get("voice"))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: {_why(error)}") from None
    ids = [t.id for t in entry.tracks]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: two tracks have the id {next(i for i in ids if ids.count(i) > 1)}")
    return entry


def _track(item: object, entry: VideoEntry, number: int) -> VideoTrack:
    if not isinstance(item, dict):
        raise ValueError(f"track number {number} is not an object")
    origin = item.get("origin")
    if origin not in TRACK_FIELDS:
        raise ValueError(f"track number {number}: origin {origin!r} is not one of {', '.join(ORIGINS)}")
    _known(item, TRACK_FIELDS[origin])
    ident = _whole(item["id"], "id")
    try:
        if origin == "person":
            frames, boxes = _rows(item["keyframes"], 5, entry, margin=0.0)
            if len(frames) and np.any(np.diff(frames) <= 0):
                raise ValueError("keyframes are not in ascending frame order, one per frame")
            return PersonTrack(ident, frames, boxes[:, :4])
        frames, rows = _rows(item["boxes"], 6, entry, margin=REACH)
        if len(frames) and np.any(np.diff(frames) < 0):
            raise ValueError("boxes are not in ascending frame order")
        if np.any((rows[:, 4] < 0) | (rows[:, 4] > 1)):
            raise ValueError("a score is not between 0 and 1")
        trim = _trim(item.get("trim"), entry.frames)
        removed = item.get("removed", False)
        if not isinstance(removed, bool):
            raise ValueError(f"removed is {removed!r}, not true or false")
        boxes, scores = rows[:, :4].astype(np.float32), rows[:, 4].astype(np.float32)
        return DetectorTrack(ident, frames, boxes, scores, removed, trim)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"track {ident}: {_why(error)}") from None


def _rows(value: object, width: int, entry: VideoEntry, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """[frame, x1, y1, x2, y2(, score)] rows: frames in the video, boxes well formed and on its frame (or
    within `margin` of their own sizes of it)."""
    what = "keyframe" if width == 5 else "box"
    if not isinstance(value, list) or not value:
        raise ValueError("no keyframes" if width == 5 else "no boxes")
    for row in value:
        if not isinstance(row, list) or len(row) != width or not all(_number(v) for v in row):
            raise ValueError(f"{what} {row!r} is not {width} numbers")
        frame = _whole(row[0], f"{what} frame")
        if not 0 <= frame < entry.frames:
            raise ValueError(f"{what} at frame {frame} is past the video's end (frames 0 to {entry.frames - 1})")
    frames = np.array([row[0] for row in value], np.int64)
    rows = np.array([row[1:] for row in value], np.float64)
    boxes = rows[:, :4]
    bad = ~np.isfinite(rows).all(axis=1) | (boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1])
    size = np.max(boxes[:, 2:] - boxes[:, :2], axis=1, initial=0.0) * margin + (4.0 if margin else 0.0)
    outside = (boxes[:, 2] <= -size) | (boxes[:, 3] <= -size)
    outside |= (boxes[:, 0] >= entry.width + size) | (boxes[:, 1] >= entry.height + size)
    for flags, problem in ((bad, "is not a box (x1 < x2, y1 < y2)"), (outside, "is outside the frame")):
        if flags.any():
            at = int(np.argmax(flags))
            box = [round(float(v), 2) for v in boxes[at]]
            raise ValueError(f"{what} {box} at frame {frames[at]} {problem} ({entry.width}×{entry.height})")
    return frames, rows


def silence_spans(value: object, seconds: float) -> list[tuple[float, float]]:
    """A video's spans to silence: [start, end] seconds, start before end, starting within the video."""
    if not isinstance(value, list):
        raise ValueError(f"silence {value!r} is not a list of [start, end] spans")
    spans: list[tuple[float, float]] = []
    for span in value:
        if not isinstance(span, list) or len(span) != 2 or not all(_number(v) and np.isfinite(v) for v in span):
            raise ValueError(f"silence span {span!r} is not [start, end] in seconds")
        start, end = float(span[0]), float(span[1])
        if not 0 <= start < end or start >= seconds:
            raise ValueError(f"silence span {span!r} is not a span of the video's {seconds:.2f} s")
        spans.append((start, end))
    return sorted(spans)


def _voice(value: object) -> Voice | None:
    if value is None:
        return None
    if value not in [v.value for v in Voice]:
        raise ValueError(f"voice {value!r} is not one of {', '.join(v.value for v in Voice)}")
    return Voice(value)


def _trim(value: object, frames: int) -> tuple[int, int] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"trim {value!r} is not [first, last]")
    first, last = _whole(value[0], "trim"), _whole(value[1], "trim")
    if not 0 <= first <= last < frames:
        raise ValueError(f"trim {[first, last]} is not a range of frames 0 to {frames - 1}")
    return first, last


def _why(error: Exception) -> str:
    return f"missing field {error}" if isinstance(error, KeyError) else str(error)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _whole(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{what} {value!r} is not a whole number")
    return value
