"""One file through the pipeline: read → detect → obscure → write → check → publish, told as a FileReport."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unseen.faces import Detector, Faces
from unseen.media.image import DEFAULT_MAX_PIXELS, WRITE_FORMATS, Decoded, ImageReadError, read_image, write_image
from unseen.obscure import DEFAULT_GROW, Method, obscure
from unseen.paths import Job, display
from unseen.report import FileReport
from unseen.verify.check import Verification, Verifier


@dataclass(frozen=True)
class Options:
    method: Method = Method.SOLID
    strength: float = 1.0
    grow: float = DEFAULT_GROW
    overwrite: bool = False
    max_pixels: int = DEFAULT_MAX_PIXELS
    verify: bool = True  # the residual check on every photo and video written
    reid: bool = False  # the re-identification check too, on photos (needs the verify extra)
    strict: bool = False  # an output the checks flag is not published: the file fails


def anonymize(pixels: np.ndarray, detector: Detector, options: Options) -> tuple[np.ndarray, Faces]:
    """Find the faces in an H×W×3 or H×W×4 image and return it obscured, with the faces."""
    faces = detector(np.ascontiguousarray(pixels[..., :3]))
    return obscure(pixels, faces, options.method, options.strength, options.grow), faces


def process(job: Job, detector: Detector, options: Options, verifier: Verifier | None = None) -> FileReport:
    """Never raises for a problem with this one file: the report says what went wrong, in one line.

    With `options.verify`, the written file is checked before it is published under its final name
    (`verifier`, when given, is reused across files).
    """
    started = time.perf_counter()
    report = FileReport(input=display(job.source), output=None, status="failed")
    if job.problem is not None:
        report.status, report.reason = ("skipped" if job.skipped else "failed"), job.problem
        return report
    target = job.target
    checked: list[Verification] = []
    try:
        decoded, pixels, faces, fmt = _run(job, detector, options)
        target = job.target if job.fmt else job.target.with_name(job.target.name + WRITE_FORMATS[fmt])
        check = _checker(decoded.pixels, faces, options, verifier, checked) if options.verify else None
        write_image(decoded, pixels, target, fmt, options.overwrite, check)
    except _Failed as failure:
        report.reason = str(failure)
    except OSError as error:
        report.reason = _write_problem(target, error)
    except Exception as error:  # a bug must cost this one file, never the batch or a half-done output
        report.reason = f"unexpected error ({type(error).__name__}: {_first_line(error)}); please report it"
    else:
        report.status, report.output = "done", display(target)
        report.height, report.width = pixels.shape[:2]
        report.faces = faces.to_list()
    if checked:
        _record(report, checked[0])
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _write_problem(target: Path, error: OSError) -> str:
    if isinstance(error, FileExistsError) and error.errno is None:  # raised by write_image: the name is taken
        return _exists(target)
    return f"cannot write {display(target)}: {error.strerror or _first_line(error)}"


def _exists(target: Path) -> str:
    return f"{display(target)} exists (use --overwrite to replace it)"


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


class _Failed(Exception):
    """This file cannot be done; the message says why in one line."""


def _checker(
    original: np.ndarray, faces: Faces, options: Options, verifier: Verifier | None, checked: list[Verification]
) -> Callable[[Path], None]:
    """What write_image calls on the finished temporary file: check it, and under --strict refuse it."""
    verify = verifier or Verifier(reid=options.reid)

    def check(written: Path) -> None:
        found = verify(original, written, faces, options.grow, options.max_pixels)
        checked.append(found)
        if options.strict and not found.clean:
            raise _Failed(f"{found.problem()}; output not written (--strict)")

    return check


def _record(report: FileReport, found: Verification) -> None:
    report.verified = True
    report.residuals = found.residuals.to_list()
    report.reid = None if found.reid is None else [r.to_dict() for r in found.reid]
    if report.reason is None and not found.clean:
        report.reason = found.problem()  # a done file's reason says why the checks flagged it


def _run(job: Job, detector: Detector, options: Options) -> tuple[Decoded, np.ndarray, Faces, str]:
    if job.target.exists() and not options.overwrite:
        raise _Failed(_exists(job.target))
    if not os.access(job.source, os.R_OK):
        raise _Failed("cannot read: permission denied")
    try:
        decoded = read_image(job.source, options.max_pixels)
    except ImageReadError as error:
        raise _Failed(str(error)) from None
    except PermissionError:
        raise _Failed("cannot read: permission denied") from None
    except MemoryError:
        raise _Failed("not enough memory to decode this image (try a lower --max-pixels)") from None
    except OSError as error:
        raise _Failed(f"cannot read: {error.strerror or error}") from None
    pixels, faces = anonymize(decoded.pixels, detector, options)
    return decoded, pixels, faces, job.fmt or decoded.format
