"""What is done with each file of a run, built from its config.RunConfig: here, or in a Ray worker.

`make_work` is the per-file function of a run (cli.py runs it on a batch, scale/ray_run.py in each worker,
pickling only the config and the regions file's decisions): a file the regions file lists is written as
decided, any other through the photo or video pipeline. `detect_only` is --regions-out's.
"""

from __future__ import annotations

from collections.abc import Callable

from unseen import decisions, regions
from unseen.config import RunConfig
from unseen.detectors.presets import build_detector
from unseen.faces import Detector
from unseen.names import display
from unseen.paths import Job
from unseen.photo import process
from unseen.report import FileReport
from unseen.verify import residual
from unseen.verify.photo_check import Verifier
from unseen.video import is_video, process_video, video_detector

Work = Callable[[Job], FileReport]
Decided = dict[str, regions.AnyEntry]  # a regions file's entries, by the name it gives each file


def is_video_job(job: Job) -> bool:
    """Whether a job goes through the video pipeline (a job the planner refused goes nowhere)."""
    return job.problem is None and is_video(job.source)


def verifier(config: RunConfig) -> Verifier | None:
    """The checks on each output as asked for (preflight.check_verify has said they can run)."""
    if not config.photo.verify:
        return None
    scales = residual.scales_for(config.quality.value)
    return Verifier(reid=config.photo.reid, detector=residual.residual_detector(scales))


def make_work(config: RunConfig, decided: Decided) -> Work:
    """A photo or video the regions file lists is written as decided; anything else as a plain run does it."""
    check = verifier(config)
    work = _plain(config, check)

    def either(job: Job) -> FileReport:
        entry = decided.get(decisions.name_of(job.source, config.inputs)) if job.problem is None else None
        if entry is None:
            return work(job)
        if isinstance(entry, regions.VideoEntry) != is_video_job(job):
            kind = "a video" if is_video_job(job) else "not a video"
            return _failed(job, f"is {kind}, unlike its entry in the regions file: refused, not obscured")
        if isinstance(entry, regions.VideoEntry):
            return decisions.apply_video(job, entry, config.photo, config.video, check)
        return decisions.apply(job, entry, config.photo, check)

    return either


def _plain(config: RunConfig, check: Verifier | None) -> Work:
    """The photo pipeline, or the video one (its detector made once, when first needed)."""
    photos = build_detector(config.quality, config.threshold)
    videos: list[Detector] = []

    def work(job: Job) -> FileReport:
        if is_video_job(job):
            if not videos:
                videos.append(video_detector(config.threshold))
            return process_video(job, videos[0], config.photo, config.video, check)
        return process(job, photos, config.photo, check)

    return work


def detect_only(config: RunConfig, found: list[regions.AnyEntry]) -> Work:
    """Each photo and video detected (a video tracked too, as a plain run does) and recorded; nothing written."""
    photos = build_detector(config.quality, config.threshold)
    videos: list[Detector] = []  # the video detector, made when first needed

    def work(job: Job) -> FileReport:
        name = decisions.name_of(job.source, config.inputs)
        if is_video_job(job):
            videos[:] = videos or [video_detector(config.threshold)]
            return decisions.detect_only_video(job, videos[0], config.photo, config.video, name, found)
        return decisions.detect_only(job, photos, config.photo, name, found)

    return work


def _failed(job: Job, problem: str) -> FileReport:
    return FileReport(input=display(job.source), output=None, status="failed", reason=problem)
