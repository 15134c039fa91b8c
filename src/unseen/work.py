"""What is done with each file of a run, built from its config.RunConfig: here, or in a Ray worker.

`make_work` is the per-file function of a run (cli.py runs it on a batch, scale/ray_run.py in each worker,
pickling only the config and the regions file's decisions): a file the regions file lists is written as
decided, any other as a plain run does it, each by its kind of media (kinds.py). `detect_only` is
--regions-out's.
"""

from __future__ import annotations

from collections.abc import Callable

from unseen import decisions, regions
from unseen.config import RunConfig
from unseen.detectors.presets import PRESETS
from unseen.kinds import Kinds
from unseen.names import display
from unseen.paths import Job
from unseen.report import FileReport
from unseen.verify import residual
from unseen.verify.photo_check import Verifier

Work = Callable[[Job], FileReport]
Decided = dict[str, regions.AnyEntry]  # a regions file's entries, by the name it gives each file


def verifier(config: RunConfig) -> Verifier | None:
    """The checks on each output as asked for (preflight.check_verify has said they can run)."""
    if not config.photo.verify:
        return None
    scales = PRESETS[config.quality].check_scales
    return Verifier(reid=config.photo.reid, detector=residual.residual_detector(scales))


def make_work(config: RunConfig, decided: Decided) -> Work:
    """A photo or video the regions file lists is written as decided; anything else as a plain run does it."""
    kinds = Kinds(config, verifier(config))

    def work(job: Job) -> FileReport:
        kind = kinds.of(job)
        entry = decided.get(decisions.name_of(job.source, config.inputs)) if job.problem is None else None
        if entry is None:
            return kind.run(job)
        report = kind.apply(job, entry)
        if report is None:
            problem = f"is {kind.described}, unlike its entry in the regions file: refused, not obscured"
            return FileReport(input=display(job.source), output=None, status="failed", reason=problem)
        return report

    return work


def detect_only(config: RunConfig, found: list[regions.AnyEntry]) -> Work:
    """Each photo and video detected (a video tracked too, as a plain run does) and recorded; nothing written."""
    kinds = Kinds(config, None)
    return lambda job: kinds.of(job).search(job, decisions.name_of(job.source, config.inputs), found)
