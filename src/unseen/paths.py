"""Which files to process and where each output goes. Nothing is read or written here."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, replace
from pathlib import Path

from unseen.media.image import WRITE_FORMATS

SUFFIX_FORMATS = {
    **dict.fromkeys([".jpg", ".jpeg", ".jpe", ".jfif", ".mpo"], "JPEG"),
    ".png": "PNG",
    ".webp": "WEBP",
    **dict.fromkeys([".tif", ".tiff"], "TIFF"),
    **dict.fromkeys([".bmp", ".gif"], "PNG"),  # written as PNG: no metadata-free writer is worth keeping for them
}
# The suffixes an output keeps as they are; any other gets its format's own (photo.gif -> photo.png).
NATIVE_SUFFIXES = {
    "JPEG": {".jpg", ".jpeg", ".jpe", ".jfif"},
    "PNG": {".png"},
    "WEBP": {".webp"},
    "TIFF": {".tif", ".tiff"},
}
VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".264", ".h264", ".mts", ".m2ts", ".ts", ".3gp"}
VIDEO = "VIDEO"  # a job's fmt for a video: it keeps its container where it can (see media/video.py)
TMP_SUFFIX = ".unseen-tmp"
DEFAULT_TAG = "_unseen"  # without -o: photo.jpg -> photo_unseen.jpg and folder -> folder_unseen, beside them


class UsageError(Exception):
    """The command line asks for something unseen will not do; exit 2."""


@dataclass(frozen=True)
class Job:
    source: Path
    target: Path  # for a skipped or failed job, where the output would have gone
    fmt: str | None  # None: the format the content turns out to have, its suffix added to target
    problem: str | None = None  # set when the file is not processed at all
    skipped: bool = False  # a file in a folder that is not an image: counted, not an error

    def final_targets(self) -> list[Path]:
        """Every name this job may write: one, or one per format when the format is known only once read."""
        if self.fmt is not None:
            return [self.target]
        return [self.target.with_name(self.target.name + suffix) for suffix in WRITE_FORMATS.values()]


def display(path: Path | str) -> str:
    """A path as text that prints anywhere, also when its name is not valid UTF-8."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def default_output(given: Path) -> Path:
    """Where a file or folder's output goes when no -o is given: beside it, with DEFAULT_TAG."""
    if given.is_dir():
        resolved = given.resolve()
        return resolved.parent / f"{resolved.name}{DEFAULT_TAG}"
    return given.with_name(f"{given.stem}{DEFAULT_TAG}{given.suffix}")


def plan(inputs: list[Path], out: Path | None, fmt: str | None) -> list[Job]:
    """One job per file found, in a stable order, with its output path."""
    folders = _check_roots(inputs, out)
    jobs: list[Job] = []
    for given in inputs:
        if given.is_dir():
            jobs.extend(_folder_jobs(given, out if out is not None else default_output(given), fmt))
        elif given.exists() or given.is_symlink():
            target = (out / given.name) if out is not None else default_output(given)
            jobs.append(_file_job(given, target, fmt, explicit=True))
        else:
            jobs.append(Job(given, given, fmt, problem="no such file or folder"))
    return _guard(jobs, folders)


def _check_roots(inputs: list[Path], out: Path | None) -> list[Path]:
    """The input folders, resolved, once it is sure that no output folder lies in one of them."""
    if out is not None and out.exists() and not out.is_dir():
        raise UsageError(f"output {display(out)} exists and is not a folder")
    folders = [(given, given.resolve()) for given in inputs if given.is_dir()]
    roots = [out] if out is not None else [default_output(given) for given, _ in folders]
    for root in roots:
        resolved = root.resolve()
        for given, folder in folders:
            if resolved.is_relative_to(folder):
                where = "is" if resolved == folder else "is inside"
                hint = "" if out is not None else "; choose another with -o"
                raise UsageError(f"output folder {display(root)} {where} input folder {display(given)}{hint}")
    return [folder for _, folder in folders]


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
        return Job(source, target, VIDEO)  # --format is for photos: a video stays a video
    if suffix not in SUFFIX_FORMATS and not explicit:
        return Job(source, target, fmt, problem="not an image", skipped=True)
    if source.is_symlink() and not source.exists():
        return Job(source, target, fmt, problem=_dangling(source))
    chosen = fmt or SUFFIX_FORMATS.get(suffix)
    if chosen is not None and suffix not in NATIVE_SUFFIXES[chosen]:
        target = target.with_suffix(WRITE_FORMATS[chosen])
    return Job(source, target, chosen)


def _guard(jobs: list[Job], folders: list[Path]) -> list[Job]:
    """No output may replace an input, lie in an input folder, or be written by two inputs: such a job fails."""
    originals = {identity for job in jobs if (identity := _identity(job.source)) is not None}
    claimed: set[Path] = set()
    guarded: list[Job] = []
    for job in jobs:
        if job.problem is None:
            targets = [target.resolve() for target in job.final_targets()]
            problem = _target_problem(targets, originals, folders, claimed)
            if problem is not None:
                job = replace(job, problem=f"{problem} ({display(job.target)})")
            claimed.update(targets)
        guarded.append(job)
    return guarded


def _target_problem(
    targets: list[Path], originals: set[tuple[int, int]], folders: list[Path], claimed: set[Path]
) -> str | None:
    if any(_identity(target) in originals for target in targets):
        return "its output would replace an input"
    if any(target.is_relative_to(folder) for target in targets for folder in folders):
        return "its output would be inside an input folder"
    if any(target in claimed for target in targets):
        return "another input has the same output path"
    return None


def _identity(path: Path) -> tuple[int, int] | None:
    """The file a path names (device, inode), through links; None when there is none."""
    try:
        stat = path.stat()
    except (OSError, ValueError):
        return None
    return (stat.st_dev, stat.st_ino)


def _dangling(link: Path) -> str:
    """Why a symbolic link leads nowhere: a loop of links, or a target that is not there."""
    try:
        link.resolve(strict=True)
    except RuntimeError:
        return "symbolic link loop"
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "symbolic link loop"
    return "broken symbolic link"
