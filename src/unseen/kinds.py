"""The kinds of media a run handles, each behind one interface: what a plain run does with a file of that kind
(`run`), what --regions-out does (`search`), and what writing from a regions file's entry does (`apply`).

The kind of a file is decided here once (`Kinds.of`), from the format registry (formats.py, through
video.is_video: a video container's suffix, or a GIF with more than one frame): photos (stills, and animated
or multi-page images, whose frames photo.py handles) and videos. A new option that changes how one kind is
done is read by that kind's pipeline (photo.py or video.py) from config.RunConfig; a new kind of media is a
new class here with the same three steps (and, if a regions file records it, an entry type in regions.py that
satisfies regions.Decisions). The command, Ray's workers and the review page (review/) all go through here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

import numpy as np

from unseen import decisions, regions, video_decisions
from unseen.config import PhotoOptions, RunConfig
from unseen.detectors.presets import build_detector
from unseen.digest import file_sha256
from unseen.faces import Detector, turned_size
from unseen.paths import Job
from unseen.photo import process
from unseen.report import FileReport
from unseen.runner import Done, run_file
from unseen.verify.photo_check import Verifier
from unseen.video import is_video, process_video, search_video, video_detector


class Kind(Protocol):
    """One kind of media, with the run's settings and detector."""

    described: str  # how a file of this kind is told in a mismatch: "a video", "not a video"
    entry_kind: str  # the kind of its entries in a regions file (regions.KINDS)

    def run(self, job: Job) -> FileReport:
        """Detect, obscure, write, check and publish the file."""
        ...

    def search(self, job: Job, name: str, found: list[regions.AnyEntry]) -> FileReport:
        """Detect only: add the file's entry (named `name`) to `found`; nothing is written."""
        ...

    def apply(self, job: Job, entry: regions.AnyEntry) -> FileReport | None:
        """Write the file with exactly what `entry` decided; None when `entry` is for another kind of media."""
        ...


def is_video_job(job: Job) -> bool:
    """Whether a job goes through the video pipeline (a job the planner refused goes nowhere)."""
    return job.problem is None and is_video(job.source)


class Photos:
    """Photos (photo.py): still, animated or multi-page; in a regions file, a regions.Entry. `detector`, when
    given, is used in place of the quality's (the review page's own)."""

    described = "not a video"
    entry_kind = "photo"

    def __init__(self, config: RunConfig, check: Verifier | None, detector: Detector | None = None) -> None:
        self.config, self.check = config, check
        self.detector = detector if detector is not None else build_detector(config.quality, config.threshold)

    def run(self, job: Job) -> FileReport:
        return process(job, self.detector, self.config.photo, self.check)

    def search(
        self, job: Job, name: str, found: list[regions.AnyEntry], shown: list[np.ndarray] | None = None
    ) -> FileReport:
        """`shown`, when given, gets the photo's pixels as shown (the review page makes its views from them)."""
        options = self.config.photo

        def work(_record: object) -> Done:
            entry, pixels = decisions.detect_entry(job, self.detector, options, name)
            found.append(entry)
            if shown is not None:
                shown.append(pixels)
            return Done(None, entry.width, entry.height, entry.kept(options.grow).to_list())

        return run_file(job, work)

    def apply(self, job: Job, entry: regions.AnyEntry) -> FileReport | None:
        """No detection: exactly the regions decided are obscured. The residual check and --strict work as in a
        plain run (a face the decisions left visible is a residual)."""
        photo = entry.as_photo()
        if photo is None:
            return None
        options = self.config.photo
        report = process(job, decisions.decided(job.source, photo, options.grow), options, self.check)
        if report.status == "done":
            report.faces = [r.to_dict() for r in photo.regions]  # with their origin, and what a person removed
        return report


class Videos:
    """Videos and animated GIFs (video.py); in a regions file, a regions.VideoEntry. The detector is made when the
    first video needs it."""

    described = "a video"
    entry_kind = "video"

    def __init__(self, config: RunConfig, check: Verifier | None) -> None:
        self.config, self.check = config, check
        self._detector: Detector | None = None

    @property
    def detector(self) -> Detector:
        if self._detector is None:
            self._detector = video_detector(self.config.threshold)
        return self._detector

    def run(self, job: Job) -> FileReport:
        return process_video(job, self.detector, self.config.photo, self.config.video, self.check)

    def search(
        self, job: Job, name: str, found: list[regions.AnyEntry], tracks: decisions.TrackGatherer | None = None
    ) -> FileReport:
        """Decoded, detected and tracked as a plain run does; the entry holds the boxes each track covers in each
        frame. `tracks`, when given, gathers them (the review page reads the tracks found so far from it while
        the search goes on)."""
        gatherer = tracks or decisions.TrackGatherer()

        def work(_record: object) -> Done:
            searched = search_video(job, self.detector, self.config.photo, self.config.video, gatherer.add)
            width, height = turned_size(searched.width, searched.height, gatherer.turns)
            built = gatherer.built(width, height)
            fps = round(searched.fps, 3)
            found.append(regions.VideoEntry(name, file_sha256(job.source), width, height, searched.frames, fps, built))
            return Done(None, width, height, searched.tracks)

        return run_file(job, work)

    def apply(self, job: Job, entry: regions.AnyEntry) -> FileReport | None:
        """No detection, no tracking: exactly what was decided covered in each frame. Frames, timestamps,
        rotation, audio, the residual check and --strict are as in a plain run; the spans the entry marks to
        silence are silent in every audio stream, and its voices get the entry's setting unless the run's
        --voice protects more (config.Voice.at_least); the report's `voice` says which was asked where."""
        video = entry.as_video()
        if video is None:
            return None
        plan = video_decisions.Plan(job.source, video, self.config.photo.grow)
        asked = self.config.video.voice
        options = replace(self.config.video, voice=asked.at_least(video.voice))
        report = process_video(job, None, self.config.photo, options, self.check, decided=plan, silence=video.silence)
        if report.status == "done":
            report.faces = video_decisions.summaries(video)  # with person tracks, and what a person removed or trimmed
        if report.voice is not None and video.voice is not None:
            # The floor is the run's --voice under `unseen --regions`, and keep when the review page publishes
            # (state.State: a person's choice on the page applies as it is).
            report.voice["asked"] = {"regions_file": video.voice.value, "at_least": asked.value}
        return report


class Kinds:
    """One of each kind for a run (their detectors shared by its files), and the kind of each file; `detector`,
    when given, is the photos' (the review page's own)."""

    def __init__(self, config: RunConfig, check: Verifier | None, detector: Detector | None = None) -> None:
        self.config, self.check = config, check
        self.photos, self.videos = Photos(config, check, detector), Videos(config, check)

    def of(self, job: Job) -> Kind:
        return self.videos if is_video_job(job) else self.photos

    def writing(self, photo: PhotoOptions) -> Kinds:
        """The same kinds with other photo options (the review page's publish sets --overwrite on a file it wrote
        before), sharing the detectors."""
        kinds = Kinds(replace(self.config, photo=photo), self.check, self.photos.detector)
        kinds.videos._detector = self.videos._detector
        return kinds
