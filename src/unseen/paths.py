"""Which files to process and where each output goes. Nothing is read or written here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from unseen.media.image import WRITE_FORMATS

SUFFIX_FORMATS = {
    **dict.fromkeys([".jpg", ".jpeg", ".jpe", ".jfif", ".mpo"], "JPEG"),
    ".png": "PNG",
    ".webp": "WEBP",
    **dict.fromkeys([".tif", ".tiff"], "TIFF"),
    **dict.fromkeys([".bmp", ".gif"], "PNG"),  # written as PNG: no metadata-free writer is worth keeping for them
}
VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".264", ".h264", ".mts", ".3gp"}
TMP_SUFFIX = ".unseen-tmp"


class UsageError(Exception):
    """The command line asks for something unseen will not do; exit 2."""


@dataclass(frozen=True)
class Job:
    source: Path
    target: Path  # for a skipped or failed job, where the output would have gone
    fmt: str | None  # None: the format the content turns out to have
    problem: str | None = None  # set when the file is not processed at all
    skipped: bool = False  # a file in a folder that is not an image: counted, not an error


def display(path: Path) -> str:
    """A path as text that prints anywhere, also when its name is not valid UTF-8."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def plan(inputs: list[Path], out: Path | None, fmt: str | None) -> list[Job]:
    """One job per file found, in a stable order, with its output path."""
    _check_output_outside_inputs(inputs, out)
    jobs: list[Job] = []
    for given in inputs:
        if given.is_dir():
            root = out if out is not None else given.resolve().parent / f"{given.resolve().name}_unseen"
            jobs.extend(_folder_jobs(given, root, fmt))
        elif given.exists() or given.is_symlink():
            target = (out / given.name) if out is not None else given.with_name(f"{given.stem}_unseen{given.suffix}")
            jobs.append(_file_job(given, target, fmt, explicit=True))
        else:
            jobs.append(Job(given, given, fmt, problem="no such file or folder"))
    return _mark_collisions(jobs)


def _check_output_outside_inputs(inputs: list[Path], out: Path | None) -> None:
    if out is None:
        return
    if out.exists() and not out.is_dir():
        raise UsageError(f"output {display(out)} exists and is not a folder")
    resolved = out.resolve()
    for given in inputs:
        if given.is_dir() and resolved.is_relative_to(given.resolve()):
            raise UsageError(f"output folder {display(out)} is inside input folder {display(given)}")


def _folder_jobs(folder: Path, root: Path, fmt: str | None) -> list[Job]:
    jobs: list[Job] = []
    errors: list[OSError] = []
    # Symlinked folders are not followed: a link loop can never make the walk endless.
    for here, dirs, files in os.walk(folder, onerror=errors.append, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(TMP_SUFFIX):
                continue
            source = Path(here) / name
            jobs.append(_file_job(source, root / source.relative_to(folder), fmt, explicit=False))
    for error in errors:
        where = Path(error.filename) if error.filename else folder
        jobs.append(Job(where, where, fmt, problem=f"cannot list folder: {error.strerror or error}"))
    return jobs


def _file_job(source: Path, target: Path, fmt: str | None, explicit: bool) -> Job:
    suffix = source.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return Job(source, target, fmt, problem="videos are not supported yet", skipped=not explicit)
    if suffix not in SUFFIX_FORMATS and not explicit:
        return Job(source, target, fmt, problem="not an image", skipped=True)
    if source.is_symlink() and not source.exists():
        return Job(source, target, fmt, problem="broken symbolic link")
    chosen = fmt or SUFFIX_FORMATS.get(suffix)
    if chosen is not None and SUFFIX_FORMATS.get(suffix) != chosen:
        target = target.with_suffix(WRITE_FORMATS[chosen])
    return Job(source, target, chosen)


def _mark_collisions(jobs: list[Job]) -> list[Job]:
    """Two inputs must never write one output: the later one fails, and its source must not be overwritten."""
    seen: set[Path] = set()
    marked: list[Job] = []
    for job in jobs:
        key = job.target.resolve() if job.problem is None else None
        if key is not None and (key in seen or _same_file(job.source, job.target)):
            problem = (
                "its output would replace its input" if key not in seen else "another input has the same output path"
            )
            job = Job(job.source, job.target, job.fmt, problem=f"{problem} ({display(job.target)})")
        elif key is not None:
            seen.add(key)
        marked.append(job)
    return marked


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and os.path.samefile(a, b))
    except OSError:
        return False
