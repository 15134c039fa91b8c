"""One photo: read → detect → obscure → write → check → publish (runner.py tells it as a FileReport)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import cast

import numpy as np

from unseen import errors, formats, stop
from unseen.config import PhotoOptions
from unseen.errors import FileError, InputError, NameTaken, OutputError
from unseen.faces import Detector, Faces
from unseen.media import sensor_noise
from unseen.media.frames import write_frames
from unseen.media.image import read_image, write_image
from unseen.media.pixels import Decoded
from unseen.names import display
from unseen.obscure import obscure
from unseen.paths import Job
from unseen.report import FileReport
from unseen.runner import Checked, Done, Record, checker, run_file
from unseen.track import Tracker, TrackerSettings
from unseen.verify.photo_check import Verification, Verifier

Options = PhotoOptions  # the name callers of photo.process have long used


def anonymize(pixels: np.ndarray, detector: Detector, options: PhotoOptions) -> tuple[np.ndarray, Faces]:
    """Find the faces in an H×W×3 or H×W×4 image and return it obscured, with the faces."""
    faces = detector(np.ascontiguousarray(pixels[..., :3]))
    return obscure(pixels, faces, options.method, options.strength, options.grow), faces


def process(job: Job, detector: Detector, options: PhotoOptions, verifier: Verifier | None = None) -> FileReport:
    """Never raises for a problem with this one file: the report says what went wrong, in one line.

    With `options.verify`, the written file is checked before it is published under its final name
    (`verifier`, when given, is reused across files).
    """
    return run_file(job, lambda record: _photo(job, detector, options, verifier, record))


def _photo(job: Job, detector: Detector, options: PhotoOptions, verifier: Verifier | None, record: Record) -> Done:
    decoded = _read(job, options)
    fmt = job.fmt or decoded.format
    target = job.target if job.fmt else job.target.with_name(job.target.name + formats.write_suffix(fmt))
    stop.check()
    verify = verifier or Verifier(reid=options.reid)
    height, width = decoded.pixels.shape[:2]
    if decoded.frames:
        found = _process_frames(decoded, target, fmt, detector, options, verify, record)
    else:
        pixels, faces = anonymize(decoded.pixels, detector, options)
        stop.check()
        # Nothing keeps a full-size picture alive into the check that reads the output back (3 or 4 bytes a
        # pixel each): the original only if the re-identification check compares with it, the obscured copy
        # only until the encoder has it (write_image lets go of it; its size is all the encoder needs besides).
        original = decoded.pixels if verify.reid else None
        decoded = replace(decoded, pixels=pixels[:1, :1].copy())
        before = sensor_noise.sample(pixels) if options.sensor_noise and options.verify else None
        if options.sensor_noise:
            sensor_noise.treat(pixels)  # in place (obscure gave back a copy of its own), the decoded one let go of
        obscured = [pixels]
        del pixels

        def run(written: Path) -> Checked:
            return _checked([verify(original, written, faces, options.grow, options.max_pixels, before)], False)

        check = checker(run, options.strict, record) if options.verify else None
        _written(target, lambda: write_image(decoded, obscured.pop(), target, fmt, options.overwrite, check))
        found = faces.to_list()
    return Done(target, width, height, found)


def _written(target: Path, write: Callable[[], None]) -> None:
    """`write`, with a failure of the file system told as this output's (its one line names the file)."""
    try:
        write()
    except OSError as error:
        raise OutputError(f"cannot write {display(target)}: {errors.reason(error)}") from None


def _checked(found: list[Verification], framed: bool) -> Checked:
    """The checks' findings in the report's terms; with `framed`, one Verification per frame, each told with its
    index."""
    residuals: list[dict[str, object]] = []
    reid: list[dict[str, object]] | None = None
    sensor = _most_noise_left(found, framed)
    for index, verification in enumerate(found):
        tag = {"frame": index} if framed else {}
        residuals += [{**face, **tag} for face in verification.residuals.to_list()]
        if verification.reid is not None:
            reid = (reid or []) + [{**r.to_dict(), **tag} for r in verification.reid]
    return Checked(residuals, reid, _problem(found, framed), sensor)


def _most_noise_left(found: list[Verification], framed: bool) -> dict[str, object] | None:
    """The sensor-noise check's finding for the report: the frame with the highest correlation (with its index,
    with `framed`); None if no frame was checked."""
    checked = [(index, v.sensor_noise) for index, v in enumerate(found) if v.sensor_noise is not None]
    if not checked:
        return None
    index, worst = max(checked, key=lambda pair: cast(float, pair[1]["correlation"]))
    return {**worst, "frame": index} if framed else worst


def _problem(found: list[Verification], framed: bool) -> str | None:
    """Why the checks flagged the output, in one line (the first flagged frame's, with `framed`); None if clean."""
    for index, verification in enumerate(found):
        if not verification.clean:
            return f"frame {index}: {verification.problem()}" if framed else verification.problem()
    return None


def _process_frames(
    decoded: Decoded,
    target: Path,
    fmt: str,
    detector: Detector,
    options: PhotoOptions,
    verify: Verifier,
    record: Record,
) -> list[dict[str, object]]:
    """An animated WebP or multi-page TIFF: every frame detected, obscured and checked; its faces, per frame."""
    if not formats.photo(fmt).frames:
        framed = [formats.write_suffix(f.name)[1:] for f in formats.PHOTOS if f.frames]
        choices = f"{', '.join(framed[:-1])} or {framed[-1]}"
        raise FileError(f"an animated or multi-page image can only be written with --format {choices}, not as {fmt}")
    boxes = _frame_faces(decoded, detector)
    stop.check()
    frames = [
        obscure(frame, faces, options.method, options.strength, options.grow)
        for frame, faces in zip(decoded.frames, boxes, strict=True)
    ]
    # The check compares every frame (a long animation's every n-th: a sample holds up to 1 MB until the check).
    before = sensor_noise.samples(frames) if options.sensor_noise and options.verify else None
    if options.sensor_noise:  # each frame with its own fresh noise, from one generator seeded for the file
        rng = sensor_noise.fresh()
        for frame in frames:
            sensor_noise.treat(frame, rng)

    def run(written: Path) -> Checked:
        return _checked(verify.frames(decoded, written, boxes, options.grow, options.max_pixels, before), True)

    check = checker(run, options.strict, record) if options.verify else None
    _written(target, lambda: write_frames(decoded, frames, target, fmt, options.overwrite, check))
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


def _read(job: Job, options: PhotoOptions) -> Decoded:
    if job.target.exists() and not options.overwrite:
        raise NameTaken(display(job.target))
    if not os.access(job.source, os.R_OK):
        raise InputError("cannot read: permission denied")
    try:
        return read_image(job.source, options.max_pixels)
    except PermissionError:
        raise InputError("cannot read: permission denied") from None
    except MemoryError:
        raise InputError("not enough memory to decode this image (try a lower --max-pixels)") from None
    except OSError as error:
        raise InputError(f"cannot read: {errors.reason(error)}") from None
