"""A review's state and its edits: the files in their order, each one's decisions, what the check found in
them, and the views the page asks for (session.Review puts the search, the check and publishing to work on it).

Every change a person makes is written to the regions file at once, atomically: closing the tab or killing the
process loses nothing, and a later `unseen review` resumes from the file. The page addresses files by their
index here, never by path. Every method is safe to call from the server's threads (one lock).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from unseen import decisions, publish, regions, video_decisions
from unseen.audio.voice import Timeline
from unseen.config import RunConfig, Voice
from unseen.digest import file_sha256
from unseen.errors import UsageError
from unseen.faces import Detector, Faces
from unseen.kinds import Kinds
from unseen.obscure import CONFIDENT, covered_rects, obscure
from unseen.paths import Job
from unseen.photo import Options
from unseen.report import FileReport
from unseen.review import flags, images, sound
from unseen.review import tracks as track_edits
from unseen.review.boxes import clipped_box
from unseen.review.frames import FrameSource
from unseen.review.images import Images
from unseen.verify.photo_check import Verifier
from unseen.video import VideoOptions

WAITING, READY, FAILED = "waiting", "ready", "failed"
SEARCHING = "searching"  # a video being searched: its frames and the tracks found so far can be looked at


@dataclass
class Item:
    """One file of the review."""

    index: int
    job: Job
    name: str  # as the regions file names it
    state: str = WAITING
    reason: str | None = None  # why it cannot be reviewed (state FAILED)
    entry: regions.AnyEntry | None = None
    revision: int = 0  # goes up with every change: a page holding an older one is told to reload
    residuals: Faces | None = None  # what the check finds in the obscured preview; None: not checked yet
    checked: int = -1  # the revision `residuals` belong to
    published: FileReport | None = None
    published_revision: int = -1
    edited: float = 0.0  # time.monotonic() of the last change
    searched: int = 0  # frames of a video searched so far (state SEARCHING)
    flagged: list[int] = field(default_factory=list)  # a video's sampled frames the check still sees a face in
    output_flags: Faces | None = None  # what the check found in the photo as written (published_revision's)
    held: str | None = None  # why the last publish did not write it (a flag not answered)
    speech: Timeline | None = None  # where speech is heard in a video; None: not listened to (worker.Listener)
    unheard: str | None = None  # why a video's sound could not be listened to


@dataclass
class Publishing:
    """How far the current (or last) publish is: publishing.Publisher keeps it up to date."""

    running: bool = False
    done: int = 0
    total: int = 0


Edit = dict[str, object]


class State:
    """The files, their decisions, and every change to them."""

    def __init__(
        self,
        jobs: list[Job],
        inputs: list[Path],
        path: Path,
        options: Options,
        detector: Detector,
        verifier: Verifier | None,
        voice: Voice = Voice.KEEP,
    ) -> None:
        self.path, self.options, self.verifier = path, options, verifier
        self.voice = voice  # the review's --voice: what a video's voices get until a person chooses on the page
        self.lock = threading.RLock()
        self.wake = threading.Condition(self.lock)
        self.items = [Item(i, job, decisions.name_of(job.source, inputs)) for i, job in enumerate(jobs)]
        # Entries for files not in this review (a video's among them): kept in the file as they were.
        self.others: list[regions.AnyEntry] = []
        self.publishing = Publishing()
        self.finished = threading.Event()
        self.images = Images([item.job.source for item in self.items], options)
        self.viewed = -1  # the photo whose view was asked for last: its neighbours are made ahead when found
        # Each file's kind of media, decided once (kinds.py): its search (photos with `detector`) and how it is
        # written. No progress line: the page shows a video's progress. Each video's entry records its voice
        # setting (`voiced`: at least --voice as the review starts), which publishing applies as it is: the floor
        # a plain `--regions` run puts under it is `keep` here, so that a person can choose less on the page.
        self.kinds = Kinds(RunConfig((), photo=options, video=VideoOptions(progress=False)), verifier, detector)
        self._frames: dict[int, FrameSource] = {}
        self._resume()

    # -- the list --------------------------------------------------------------------------------------------

    def _resume(self) -> None:
        """Take the decisions already in the regions file; a file changed since is not reviewable (never shown
        with stale regions), and entries for files not in this review stay in the file untouched."""
        if not self.path.exists():
            return
        known = regions.load(self.path)
        for item in self.items:
            if item.job.problem is not None:
                item.state, item.reason = FAILED, item.job.problem
            elif item.name in known:
                entry = known.pop(item.name)
                if entry.kind != self.kinds.of(item.job).entry_kind:
                    item.state, item.reason = FAILED, f"{self.path.name} holds decisions of another kind for it"
                    self.others.append(entry)
                elif file_sha256(item.job.source) != entry.sha256:
                    item.state = FAILED
                    item.reason = f"changed since its decisions in {self.path.name} were made: not reviewed"
                    self.others.append(entry)
                else:
                    item.entry, item.state = self.voiced(entry), READY
        self.others.extend(known.values())

    def voiced(self, entry: regions.AnyEntry) -> regions.AnyEntry:
        """A video's entry (searched, or read from the regions file) with its voice setting recorded, so that the
        file says what the page shows and publishing applies: the one chosen before, but never less than the
        review's --voice asks (as `unseen --regions` reads a file). On the page, a person may then choose any."""
        video = entry.as_video()
        if video is None:
            return entry
        voice = self.voice.at_least(video.voice)
        return entry if voice is video.voice else replace(video, voice=voice)

    def close_frames(self) -> None:
        for source in self._frames.values():
            source.close()

    def item(self, index: int) -> Item:
        if not 0 <= index < len(self.items):
            raise KeyError(index)
        return self.items[index]

    def summary(self) -> dict[str, object]:
        """The list as the page shows it (no pixels, no paths: names as in the regions file)."""
        with self.lock:
            files = [self._row(item) for item in self.items]
            waiting = sum(1 for item in self.items if item.state in (WAITING, SEARCHING))
            unchecked = sum(
                1
                for item in self.items
                if item.state == READY and item.checked != item.revision and photo_of(item.entry) is not None
            )
            p = self.publishing
            return {
                "files": files,
                "waiting": waiting,
                "checking": unchecked,
                "publishing": {"running": p.running, "done": p.done, "total": p.total},
                "finished": self.finished.is_set(),
            }

    def _row(self, item: Item) -> dict[str, object]:
        row: dict[str, object] = {"index": item.index, "name": item.name, "state": item.state, "reason": item.reason}
        if (video := video_of(item.entry)) is not None:
            row |= track_edits.row(video) | {"revision": item.revision, "residuals": None}
            row["flagged"] = len(_flagged_frames(item))
            row["checking"] = item.state == READY and item.checked != item.revision
            row["voice"] = (video.voice or self.voice).value
            row["speech"] = None if item.speech is None else bool(item.speech.spans)
            row["sound"] = None if item.speech is None else item.speech.streams
            row["silenced"] = len(video.silence)
            row["unheard"] = item.unheard
            if item.state == SEARCHING:
                row["searched"] = round(100 * item.searched / max(video.frames, 1))
        elif (photo := photo_of(item.entry)) is not None:
            kept = [r for r in photo.regions if not r.removed]
            pending = self.flags(item)
            row |= {
                "faces": len(kept),
                "found": sum(1 for r in photo.regions if r.origin == "detector"),
                "low": sum(1 for r in kept if r.origin == "detector" and r.score < CONFIDENT),
                "approved": photo.approved,
                "revision": item.revision,
                "residuals": None if pending is None else len(pending),
                "answered": sum(1 for r in photo.regions if r.check is not None),
            }
        if item.published is not None:
            row["published"] = _published_row(item)
        if item.held is not None:
            row["held"] = item.held
        return row

    def flags(self, item: Item) -> Faces | None:
        """The faces the check still sees in a photo and no one has answered: on the preview of its decisions as
        they are, and in the file as last written; None while neither is known."""
        preview = item.residuals if item.checked == item.revision else None
        found = [f for f in (preview, item.output_flags) if f is not None]
        photo = photo_of(item.entry)
        if photo is None or not found:
            return None
        return flags.unanswered(photo, *found)

    # -- one file's decisions --------------------------------------------------------------------------------

    def decisions(self, index: int) -> dict[str, object]:
        with self.lock:
            item = self.item(index)
            if item.entry is None:
                return {"index": index, "name": item.name, "state": item.state, "reason": item.reason}
            if (video := item.entry.as_video()) is not None:
                view = track_edits.view(video) | {"flagged": _flagged_frames(item)}
                view |= sound.view(video, self.voice, item.speech, item.unheard)
                return {"index": index, "name": item.name, "state": item.state, "revision": item.revision} | view
            entry = item.entry.as_photo()
            if entry is None:  # an entry is a photo's or a video's (regions.KINDS)
                raise KeyError(index)
            shown = _shown_boxes(entry, self.options.grow)
            return {
                "index": index,
                "name": item.name,
                "state": item.state,
                "width": entry.width,
                "height": entry.height,
                "approved": entry.approved,
                "revision": item.revision,
                "regions": [
                    {"id": i, **r.to_dict(), "shown": [round(v, 1) for v in box]}
                    for i, (r, box) in enumerate(zip(entry.regions, shown, strict=True))
                ],
                "residuals": None if (pending := self.flags(item)) is None else pending.to_list(),
            }

    def kept(self, index: int) -> Faces:
        with self.lock:
            photo = photo_of(self.item(index).entry)
            if photo is None:
                raise KeyError(index)
            return photo.kept(self.options.grow)

    def video(self, index: int) -> regions.VideoEntry:
        with self.lock:
            video = video_of(self.item(index).entry)
            if video is None:
                raise KeyError(index)
            return video

    def frames(self, index: int) -> FrameSource:
        """The video's frames for the page."""
        self.video(index)
        return self.source(index)

    def source(self, index: int) -> FrameSource:
        """One FrameSource per video, made on first use (by the probe before its search, or by the page): its
        pass over the packets, a whole file's read, is made once."""
        with self.lock:
            if index not in self._frames:
                self._frames[index] = FrameSource(self.items[index].job.source, self.options.max_pixels)
            return self._frames[index]

    def is_video(self, index: int) -> bool:
        with self.lock:
            return video_of(self.item(index).entry) is not None

    def video_thumbnail(self, index: int) -> bytes:
        return images.jpeg(images.fit(self.frames(index).pixels(0), images.THUMB_SIDE), 80)

    def photo_jpeg(self, index: int, full: bool, obscured: bool) -> bytes:
        """The photo as shown, downscaled unless `full`; `obscured`: as it will be written. The neighbours' views
        are made ahead, so that going to the next photo is quick."""
        with self.lock:
            revision, kept = self.items[index].revision, self.kept(index)
            self.viewed = index
        data = self.images.view(index, full, kept if obscured else None, revision)
        for neighbour in (index + 1, index - 1):
            if 0 <= neighbour < len(self.items) and self.items[neighbour].state == READY:
                self.images.warm(neighbour)
        return data

    def frame_jpeg(self, index: int, frame: int, obscured: bool) -> bytes:
        """Frame `frame` as shown; `obscured`: as it will be written (video_decisions.boxes_at, the pipeline's own
        geometry, scaled to the view and obscured by the same function)."""
        entry = self.video(index)
        if not 0 <= frame < entry.frames:
            raise KeyError(frame)
        source = self.frames(index)
        if not obscured:
            return source.jpeg(frame)
        pixels = source.pixels(frame)
        sx, sy = pixels.shape[1] / entry.width, pixels.shape[0] / entry.height
        faces = video_decisions.boxes_at(entry, frame, self.options.grow).scaled(sx, sy)
        o = self.options
        return images.jpeg(obscure(pixels, faces, o.method, o.strength, o.grow), images.QUALITY)

    def at(self, index: int, frame: int) -> dict[str, object]:
        """What is covered in one frame of a video, track by track, as the page draws it."""
        entry = self.video(index)
        if not 0 <= frame < entry.frames:
            raise KeyError(frame)
        start, until = self.frames(index).seconds(frame)
        covering = track_edits.at(entry, frame, self.options.grow)
        return {"frame": frame, "regions": covering, "seconds": [round(start, 4), round(until, 4)]}

    def follow(self, index: int, track: int, frame: int, count: int) -> dict[str, object]:
        """Boxes a visual tracker proposes for a person's track on the frames after `frame` (not saved)."""
        entry = self.video(index)
        if self.items[index].state != READY:
            raise ValueError("this video is still being searched")
        return {"proposed": track_edits.follow(entry, self.frames(index), track, frame, count)}

    def edit(self, index: int, change: Edit) -> dict[str, object]:
        """Apply a change from the page: `regions` (the whole list as the page has it) and/or `approved`, made on
        `revision`. Raises Stale if the file changed since (another tab), ValueError for a change that is not
        possible (a detection moved rather than removed, a box outside the photo)."""
        with self.lock:
            item = self.item(index)
            if item.entry is None or item.state != READY:
                raise ValueError("this file is not ready for review: it is still being searched")
            if change.get("revision") != item.revision:
                raise Stale(index)
            entry = item.entry
            new = _edited(entry, change)
            same = new.decides_as(entry)
            covered = new.covers_as(entry)  # only the sound changed: what the check found still holds
            if not same:
                new.approved = False  # a changed file is looked at again before it is approved
            if "approved" in change:
                if not isinstance(change["approved"], bool):
                    raise ValueError("approved must be true or false")
                new.approved = change["approved"]
                # A flag is answered before approval; one the check has not found yet un-approves it (_check).
                pending = self.flags(item) if same and new.approved and not entry.approved else None
                if pending is not None and len(pending):
                    raise ValueError(flags.said(len(pending)))
            if _changed(new, entry):
                item.entry = new
                self._advance(item, same, covered)
                self.save()
            return self.decisions(index)

    def _advance(self, item: Item, same: bool, covered: bool | None = None) -> None:
        """A new revision of the item's decisions; `same`: nothing it decides changed (only the approval), so the
        check's findings and the publish stay those of this revision; `covered` (default: `same`): what is
        covered did not change (a video's sound may have), so the check's findings stay."""
        covered = same if covered is None else covered
        old = item.revision
        item.revision += 1
        if covered:
            item.checked = item.revision if item.checked == old else item.checked
        else:
            item.edited = time.monotonic()
            item.output_flags = item.held = None
        if same:
            item.published_revision = item.revision if item.published_revision == old else item.published_revision
        self.wake.notify_all()  # the worker checks the changed file

    def reopen(self, item: Item) -> None:
        """An approved photo in which the check sees a face no one answered needs a look again."""
        photo = photo_of(item.entry)
        if photo is not None and photo.approved:
            item.entry = photo.approving(False)
            self._advance(item, True)
            self.save()

    def save(self) -> None:
        """The regions file, rewritten whole and atomically (a temporary file renamed over it)."""
        entries = [item.entry for item in self.items if item.entry is not None and item.state == READY] + self.others
        text = regions.dumps(entries).encode("utf-8")
        publish.save(self.path, True, None, lambda stream: stream.write(text), interruptible=False)


def photo_of(entry: regions.AnyEntry | None) -> regions.Entry | None:
    """The entry if it is a photo's: what only a photo has (its regions, the check's flags on them)."""
    return None if entry is None else entry.as_photo()


def video_of(entry: regions.AnyEntry | None) -> regions.VideoEntry | None:
    """The entry if it is a video's: what only a video has (its frames, its tracks)."""
    return None if entry is None else entry.as_video()


def _edited(entry: regions.AnyEntry, change: Edit) -> regions.AnyEntry:
    """A copy of `entry` with the page's change to what it decides: a video's `tracks`, `silence` and `voice`, a
    photo's `regions` (anything else in `change` is for the caller)."""
    if (video := entry.as_video()) is not None:
        if "tracks" in change:
            video = replace(video, tracks=track_edits.merged(video, change["tracks"]))
        if "silence" in change:
            video = replace(video, silence=sound.silence(change["silence"], video))
        if "voice" in change:
            video = replace(video, voice=sound.voice(change["voice"]))
        return replace(video)
    if (photo := entry.as_photo()) is not None and "regions" in change:
        return replace(photo, regions=_merged(photo, change["regions"]))
    return replace(entry)


def _changed(new: regions.Decisions, old: regions.AnyEntry) -> bool:
    return new.approved != old.approved or not new.decides_as(old)


def _flagged_frames(item: Item) -> list[int]:
    """The frames in which the residual check still sees a face: on the decisions as they are (review/checks.py),
    and on the written video if it was written from them."""
    frames = set(item.flagged) if item.checked == item.revision else set()
    report = item.published
    if report is not None and item.published_revision == item.revision:
        frames |= {int(r["frame"]) for r in report.residuals if "frame" in r}  # type: ignore[call-overload]  # a video residual's frame: an int
    return sorted(frames)


class Stale(Exception):
    """The page edited a file on an older revision than the one here (another tab changed it)."""


def _shown_boxes(entry: regions.Entry, grow: float) -> list[tuple[float, ...]]:
    """The rectangle the page shows and edits for each region: a person's box as drawn; a detection's mask's
    bounding box (the face box grown as the obscuring grows it), so that moving it never shrinks what is covered."""
    detections = Faces(np.array([r.box for r in entry.regions]), np.array([r.score for r in entry.regions]))
    grown = covered_rects(detections, grow)
    return [r.box if r.origin == "person" else tuple(grown[i]) for i, r in enumerate(entry.regions)]


def _merged(entry: regions.Entry, submitted: object) -> list[regions.Region]:
    """The regions after a page's change: detections keep their box and score (a person can only remove one or
    bring it back); a person's regions are as the page sends them, boxes clipped to the photo, with their answer
    to a face the check saw ("check"): "covered" is a region like any other, "not a face" covers nothing."""
    if not isinstance(submitted, list):
        raise ValueError("regions must be a list")
    merged: list[regions.Region] = []
    seen: set[int] = set()
    for item in submitted:
        if not isinstance(item, dict):
            raise ValueError("each region must be an object")
        ident, removed = item.get("id"), bool(item.get("removed", False))
        if isinstance(ident, int) and not isinstance(ident, bool) and 0 <= ident < len(entry.regions):
            old = entry.regions[ident]
            seen.add(ident)
            if old.origin == "detector":
                merged.append(replace(old, removed=removed))
                continue
        box = _box(item.get("box"), entry.width, entry.height)
        check = _check(item.get("check"), entry.width, entry.height)
        if check is not None and check.answer == "not a face":
            merged.append(regions.Region(check.box, 1.0, "person", True, check))
        elif not removed:
            merged.append(regions.Region(box, 1.0, "person", False, check))
    missing = [i for i, r in enumerate(entry.regions) if r.origin == "detector" and i not in seen]
    if missing:
        raise ValueError("a detection can be removed, not dropped from the record")
    return merged


def _box(value: object, width: int, height: int) -> tuple[float, float, float, float]:
    if not isinstance(value, list) or len(value) != 4 or not all(isinstance(v, int | float) for v in value):
        raise ValueError("a box is four numbers")
    return clipped_box([float(v) for v in value], width, height, REGION_TOO_SMALL)


REGION_TOO_SMALL = "a region must be at least 2 pixels wide and high inside the photo"


def _check(value: object, width: int, height: int) -> regions.Check | None:
    """A person's answer to a face the check saw, as the page sends it: the check's box and score, the answer."""
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("answer") not in regions.ANSWERS:
        raise ValueError(f"a check's answer is one of {', '.join(regions.ANSWERS)}")
    score = value.get("score")
    if not isinstance(score, int | float) or isinstance(score, bool) or not 0.0 <= score <= 1.0:
        raise ValueError("a check's score is a number from 0 to 1")
    box = _box(value.get("box"), width, height)
    return regions.Check(box, round(float(score), 4), str(value["answer"]))


def _published_row(item: Item) -> dict[str, object]:
    report = item.published
    assert report is not None
    return {
        "status": report.status,
        "verdict": report.verdict,
        "reason": report.reason,
        "current": item.published_revision == item.revision,
    }


def check_regions_path(path: Path, inputs: list[Path], out: Path) -> None:
    """The regions file of a review lives outside the inputs and the output folder (which is to be shared)."""
    resolved = path.resolve()
    if path.is_dir():
        raise UsageError(f"regions file {path.name} is a folder")
    for folder in [*[given for given in inputs if given.is_dir()], out]:
        if resolved.is_relative_to(folder.resolve()):
            raise UsageError(
                f"regions file {path.name} is inside {'the output' if folder is out else 'an input'} folder"
            )
