"""One file through the pipeline: read → detect → obscure → write → check → publish, told as a FileReport."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unseen import publish
from unseen.faces import Detector, Faces
from unseen.media.frames import write_frames
from unseen.media.image import (
    DEFAULT_MAX_PIXELS,
    SEQUENCE_FORMATS,
    WRITE_FORMATS,
    Decoded,
    ImageReadError,
    read_image,
    write_image,
)
from unseen.obscure import DEFAULT_GROW, Method, obscure
from unseen.paths import Job, display
from unseen.report import FileReport
from unseen.track import Tracker, TrackerSettings
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
        decoded = _read(job, options)
        fmt = job.fmt or decoded.format
        target = job.target if job.fmt else job.target.with_name(job.target.name + WRITE_FORMATS[fmt])
        if decoded.frames:
            found = _process_frames(decoded, target, fmt, detector, options, verifier, checked)
        else:
            pixels, faces = anonymize(decoded.pixels, detector, options)
            verify = verifier or Verifier(reid=options.reid)

            def run(written: Path) -> list[Verification]:
                return [verify(decoded.pixels, written, faces, options.grow, options.max_pixels)]

            check = _checker(run, options, checked, framed=False) if options.verify else None
            write_image(decoded, pixels, target, fmt, options.overwrite, check)
            found = faces.to_list()
    except (_Failed, publish.Interrupted) as failure:
        report.reason = str(failure)
    except OSError as error:
        report.reason = _write_problem(target, error)
    except Exception as error:  # a bug must cost this one file, never the batch or a half-done output
        report.reason = f"unexpected error ({type(error).__name__}: {_first_line(error)}); please report it"
    else:
        report.status, report.output = "done", display(target)
        report.height, report.width = decoded.pixels.shape[:2]
        report.faces = found
    if checked:
        _record(report, checked, framed=bool(decoded.frames))
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _write_problem(target: Path, error: OSError) -> str:
    if isinstance(error, publish.NameTaken):
        return _exists(error.path)
    return f"cannot write {display(target)}: {error.strerror or _first_line(error)}"


def _exists(target: Path) -> str:
    return f"{display(target)} exists (use --overwrite to replace it)"


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


class _Failed(Exception):
    """This file cannot be done; the message says why in one line."""


def _checker(
    run: Callable[[Path], list[Verification]], options: Options, checked: list[Verification], framed: bool
) -> Callable[[Path], None]:
    """What the writer calls on the finished temporary file: `run` the checks (one Verification, or one per
    frame with `framed`) into `checked`, and under --strict refuse a flagged output."""

    def check(written: Path) -> None:
        checked[:] = run(written)
        problem = _problem(checked, framed)
        if options.strict and problem:
            raise _Failed(f"{problem}; output not written (--strict)")

    return check


def _problem(checked: list[Verification], framed: bool) -> str | None:
    """Why the checks flagged the output, in one line (the first flagged frame's, with `framed`); None if clean."""
    for index, found in enumerate(checked):
        if not found.clean:
            return f"frame {index}: {found.problem()}" if framed else found.problem()
    return None


def _record(report: FileReport, checked: list[Verification], framed: bool = False) -> None:
    """What the checks found; with `framed`, `checked` holds one Verification per frame, each told with its index."""
    report.verified = True
    report.residuals, report.reid = [], None
    for index, found in enumerate(checked):
        tag = {"frame": index} if framed else {}
        report.residuals += [{**face, **tag} for face in found.residuals.to_list()]
        if found.reid is not None:
            report.reid = (report.reid or []) + [{**r.to_dict(), **tag} for r in found.reid]
    if report.reason is None:  # a done file's reason says why the checks flagged it
        report.reason = _problem(checked, framed)


def _process_frames(
    decoded: Decoded,
    target: Path,
    fmt: str,
    detector: Detector,
    options: Options,
    verifier: Verifier | None,
    checked: list[Verification],
) -> list[dict[str, object]]:
    """An animated WebP or multi-page TIFF: every frame detected, obscured and checked; its faces, per frame."""
    if fmt not in SEQUENCE_FORMATS:
        raise _Failed(f"an animated or multi-page image can only be written as WebP or TIFF, not {fmt}")
    boxes = _frame_faces(decoded, detector)
    frames = [
        obscure(frame, faces, options.method, options.strength, options.grow)
        for frame, faces in zip(decoded.frames, boxes, strict=True)
    ]
    verify = verifier or Verifier(reid=options.reid)

    def run(written: Path) -> list[Verification]:
        return verify.frames(decoded, written, boxes, options.grow, options.max_pixels)

    check = _checker(run, options, checked, framed=True) if options.verify else None
    write_frames(decoded, frames, target, fmt, options.overwrite, check)
    return [{**face, "frame": index} for index, faces in enumerate(boxes) for face in faces.to_list()]


def _frame_faces(decoded: Decoded, detector: Detector) -> list[Faces]:
    """The faces to cover in each frame: an animation's are tracked, so that a face missed in a frame stays
    covered there; the pages of a multi-page file are unrelated pictures, each on its own."""
    found = [detector(np.ascontiguousarray(frame[..., :3])) for frame in decoded.frames]
    if not decoded.animated:
        return found
    tracker = Tracker(TrackerSettings())
    covered = dict(pair for index, faces in enumerate(found) for pair in tracker.push(index, faces))
    covered.update(tracker.flush())
    return [covered[index] for index in range(len(found))]


def _read(job: Job, options: Options) -> Decoded:
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
    return decoded
