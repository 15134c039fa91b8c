"""One file through unseen, photo or video, told as a FileReport: the skeleton every caller shares.

The work itself (photo.py, video.py) reads, detects, obscures, writes, checks and publishes, raising an
errors.UnseenError for a problem with the file; this module times it, turns whatever it raised into the
file's one line (errors.reason), and records what the checks on its output found. It never raises for a
problem with the file: a bug costs that file only, never the batch or a half-written output.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from unseen import errors
from unseen.names import display
from unseen.paths import Job
from unseen.report import FileReport


@dataclass(frozen=True)
class Done:
    """What doing a file produced."""

    output: Path | None  # None: nothing was to be written (detection only)
    width: int
    height: int
    faces: list[dict[str, object]]
    voice: dict[str, object] | None = None  # a video's voices: what was heard and done (audio/voice.py)
    notice: str | None = None  # a line the file earns although nothing is wrong with it


@dataclass(frozen=True)
class Checked:
    """What the checks on one written output found, in the report's terms."""

    residuals: list[dict[str, object]]
    reid: list[dict[str, object]] | None  # None: the re-identification check was not run
    problem: str | None  # why the output is flagged, in one line; None: clean
    sensor_noise: dict[str, object] | None = None  # the sensor-noise check's finding; None: not run


Record = Callable[[Checked], None]
Work = Callable[[Record], Done]


def run_file(job: Job, work: Work) -> FileReport:
    """Do `job` with `work`, which is handed where to record what the checks found (also for an output that
    --strict then refuses, so that the report says why)."""
    started = time.perf_counter()
    report = FileReport(input=display(job.source), output=None, status="failed")
    if job.problem is not None:
        report.status, report.reason = ("skipped" if job.skipped else "failed"), job.problem
        return report
    checked: list[Checked] = []
    try:
        done = work(checked.append)
    except Exception as error:  # a bug must cost this one file, never the batch or a half-written output
        report.reason = _reason(error, job)
    else:
        report.status = "done"
        report.output = None if done.output is None else display(done.output)
        report.width, report.height, report.faces = done.width, done.height, done.faces
        report.voice, report.notice = done.voice, done.notice
    if checked:
        _record(report, checked[-1])
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def checker(run: Callable[[Path], Checked], strict: bool, record: Record) -> Callable[[Path], None]:
    """What a writer calls on its finished temporary file: `run` the checks, `record` what they found, and under
    --strict refuse a flagged output (it is then never published)."""

    def check(written: Path) -> None:
        found = run(written)
        record(found)
        if strict and found.problem:
            raise errors.Refused(f"{found.problem}; output not written (--strict)")

    return check


def _reason(error: Exception, job: Job) -> str:
    if isinstance(error, OSError):
        return f"cannot write {display(job.target)}: {errors.reason(error)}"  # a write the work did not word
    return errors.reason(error)


def _record(report: FileReport, checked: Checked) -> None:
    report.verified = True
    report.residuals, report.reid, report.sensor_noise = checked.residuals, checked.reid, checked.sensor_noise
    if report.reason is None:  # a done file's reason says why the checks flagged it
        report.reason = checked.problem
