"""Which files to process and where each output goes. Nothing is read or written here."""

from __future__ import annotations

import errno
import os
import re
import stat
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path

from unseen import formats, publish
from unseen.errors import UsageError
from unseen.names import display
from unseen.system.filenames import collision_key, safe_name, safe_relative

NOT_AN_IMAGE = "not an image"  # why a file in a folder is skipped (named after the summary)
VIDEO = "VIDEO"  # a job's fmt for a video: it keeps its container where it can (see media/videofile.py)
DEFAULT_TAG = "_unseen"  # without -o: photo.jpg -> photo_unseen.jpg and folder -> folder_unseen, beside them
# What a file that is not a regular one is, for its line: none is ever opened (a named pipe blocks until
# something writes to it, and would hang the batch).
_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a folder"),
)

Identity = tuple[int, int]  # (st_dev, st_ino): the file or folder a path leads to, whatever the path
# --rename: outputs are numbered 0001, 0002, … (at least four digits); a name of this shape in the output folder is
# one an earlier run numbered (or might be), and the numbering goes on after the highest.
RENAME_DIGITS = 4
_NUMBERED = re.compile(r"(\d+)(\.[A-Za-z0-9]+)?")


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
        return [self.target.with_name(self.target.name + formats.write_suffix(name)) for name in formats.WRITABLE]


def default_output(given: Path) -> Path:
    """Where a file or folder's output goes when no -o is given: beside it, with DEFAULT_TAG."""
    if given.is_dir():
        resolved = given.resolve()
        return resolved.parent / f"{resolved.name}{DEFAULT_TAG}"
    return given.with_name(f"{given.stem}{DEFAULT_TAG}{given.suffix}")


def plan(
    inputs: list[Path], out: Path | None, fmt: str | None, writing: bool = True, rename: bool = False
) -> list[Job]:
    """One job per file found, in a stable order, with its output path (`writing`: the outputs will be written,
    so their folders must be writable; a detection-only run writes none). With `rename`, every output goes
    straight into `out` under a number instead of its original's name and folders (see `_renamed`)."""
    folders = _check_roots(inputs, out)
    if writing:
        _check_writable(inputs, out)
    outputs = [root.resolve() for root in output_roots(inputs, out)]
    jobs: list[Job] = []
    for given in inputs:
        if given.is_dir():
            walk = _Walk(given, out if out is not None else default_output(given), fmt, outputs)
            jobs.extend(walk.run())
            folders.extend(walk.linked)  # a folder reached through a link is an input folder too
        elif given.exists() or given.is_symlink():
            target = (out / safe_name(given.name)) if out is not None else default_output(given)
            jobs.append(_file_job(given, target, fmt, explicit=True))
        else:
            jobs.append(Job(given, given, fmt, problem="no such file or folder"))
    if rename:
        if out is None:
            raise UsageError("--rename needs -o: the renamed outputs go into a folder of their own")
        jobs = _renamed(jobs, out)
    return _guard(jobs, folders)


def _renamed(jobs: list[Job], out: Path) -> list[Job]:
    """Each job that will be tried gets the next number, in the jobs' order, as its output's whole name in `out`:
    0001.jpg, 0002.mp4, … Phone and camera names carry the time a picture was taken (IMG_20240315_142231.jpg), and
    folders an event's or a person's name: neither reaches an output. Numbering starts after the highest number an
    earlier run left in `out`, so that running again adds outputs and never meets one already there."""
    first = _next_number(out)
    count = sum(1 for job in jobs if job.problem is None)
    width = max(RENAME_DIGITS, len(str(first + count - 1)))
    renamed: list[Job] = []
    number = first
    for job in jobs:
        if job.problem is None:
            job = replace(job, target=out / f"{number:0{width}d}{_numbered_suffix(job)}")
            number += 1
        renamed.append(job)
    return renamed


def _numbered_suffix(job: Job) -> str:
    """A video keeps its own suffix here (video.py chooses the container); a photo whose format is known only once
    read gets its suffix then."""
    if job.fmt == VIDEO:
        return job.source.suffix.lower()
    return formats.write_suffix(job.fmt) if job.fmt is not None else ""


def _next_number(out: Path) -> int:
    """One past the highest number a file in `out` is named with (1 for a new or empty folder)."""
    try:
        names = os.listdir(out)
    except OSError:  # not there yet; one that cannot be read fails the writes, each in its own line
        return 1
    return max((int(found[1]) for name in names if (found := _NUMBERED.fullmatch(name))), default=0) + 1


def output_roots(inputs: list[Path], out: Path | None) -> list[Path]:
    """The output folders: -o, or each input folder's NAME_unseen."""
    return [out] if out is not None else [default_output(given) for given in inputs if given.is_dir()]


def _check_roots(inputs: list[Path], out: Path | None) -> list[Path]:
    """The input folders, resolved, once it is sure that no output folder lies in one of them."""
    if out is not None and out.exists() and not out.is_dir():
        raise UsageError(f"output {display(out)} exists and is not a folder")
    folders = [(given, given.resolve()) for given in inputs if given.is_dir()]
    for root in output_roots(inputs, out):
        resolved = root.resolve()
        for given, folder in folders:
            if resolved.is_relative_to(folder):
                where = "is" if resolved == folder else "is inside"
                hint = "" if out is not None else "; choose another with -o"
                raise UsageError(f"output folder {display(root)} {where} input folder {display(given)}{hint}")
    return [folder for _, folder in folders]


def _check_writable(inputs: list[Path], out: Path | None) -> None:
    """Every output folder can be made and written to: else nothing is done, rather than each file detected in
    full and then refused its write. A folder that does not exist yet is judged by the nearest one above it."""
    files = [given for given in inputs if not given.is_dir() and (given.exists() or given.is_symlink())]
    parents = [] if out is not None else [given.parent for given in files]  # a_unseen.jpg goes beside a.jpg
    for root in [*output_roots(inputs, out), *parents]:
        problem = _unwritable(root)
        if problem is not None:
            raise UsageError(f"cannot write to output folder {display(root)}: {problem}")


def _unwritable(root: Path) -> str | None:
    """Why nothing can be written under `root`, or None. os.access passes root wherever the file system is
    writable: what else stops root still fails each file's write, in its own line."""
    existing = root.absolute()
    while not os.path.exists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{display(existing)} is not a folder"
    if os.access(existing, os.W_OK | os.X_OK):
        return None
    return "read-only file system" if _read_only(existing) else "permission denied"


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows): the usual reason is given
        return False


class _Walk:
    """The files of one input folder, folders behind symbolic links included: the folder's own tree first, then
    each linked folder in the order found, so that a folder reached both directly and through a link is taken
    at its own place. No folder is walked twice (a loop of links would make the walk endless), and none in or
    above an output folder (its inputs would be outputs, or the outputs inputs)."""

    def __init__(self, folder: Path, root: Path, fmt: str | None, outputs: list[Path]) -> None:
        self.folder, self.root, self.fmt, self.outputs = folder, root, fmt, outputs
        self.linked: list[Path] = []  # the folders that links led to, resolved
        self._jobs: list[Job] = []
        self._links: deque[Path] = deque()  # symbolic links to folders, found and not yet followed
        self._first: dict[Identity, Path] = {}  # each folder walked: the path it was walked at
        self._walked: dict[Path, Identity] = {}  # the same, the other way: a link's ancestors are looked up here

    def run(self) -> list[Job]:
        self._tree(self.folder)
        while self._links:
            link = self._links.popleft()
            problem = self._link_problem(link)
            if problem is None:
                self.linked.append(link.resolve())  # for the guard: no output may land in it
                self._tree(link)
            else:
                self._jobs.append(Job(link, link, self.fmt, problem=problem))
        return self._jobs

    def _tree(self, top: Path) -> None:
        """The files under `top`, walked where it is real; the links to folders in it are kept for later."""
        errors: list[OSError] = []
        for here, dirs, files in os.walk(top, onerror=errors.append, followlinks=False):
            folder = Path(here)
            problem = self._enter(folder)
            if problem is not None:
                dirs.clear()
                self._jobs.append(Job(folder, folder, self.fmt, problem=problem))
                continue
            dirs.sort()
            self._links.extend(folder / name for name in dirs if (folder / name).is_symlink())
            dirs[:] = [name for name in dirs if not (folder / name).is_symlink()]
            for name in sorted(files):
                if name.endswith(publish.TMP_SUFFIX):  # a file being written, or left by a killed run
                    continue
                source = folder / name
                target = self.root / safe_relative(source.relative_to(self.folder))
                self._jobs.append(_file_job(source, target, self.fmt, False))
        for error in errors:
            where = Path(error.filename) if error.filename else top
            self._jobs.append(Job(where, where, self.fmt, problem=f"cannot list folder: {error.strerror or error}"))

    def _enter(self, folder: Path) -> str | None:
        """Note a folder about to be walked; why it must not be, when it was already (a bind mount, a link)."""
        identity = _identity(folder)
        if identity is None:  # gone or unreadable: listing it says why
            return None
        first = self._first.get(identity)
        if first is not None:
            return f"folder already included as {display(first)}"
        self._first[identity], self._walked[folder] = folder, identity
        return None

    def _link_problem(self, link: Path) -> str | None:
        """Why a symbolic link to a folder is not followed, or None."""
        try:
            target = link.resolve(strict=True)
        except (OSError, RuntimeError):  # changed since it was listed
            return "symbolic link to a folder that cannot be reached"
        ancestors = {self._walked[parent] for parent in link.parents if parent in self._walked}
        # It leads to a folder that holds it: by where it lies, or by the links the walk came through.
        if link.parent.resolve().is_relative_to(target) or _identity(link) in ancestors:
            return "symbolic link loop"
        for output in self.outputs:
            if target.is_relative_to(output):
                return "symbolic link into the output folder"
            if output.is_relative_to(target):
                raise UsageError(
                    f"output folder {display(output)} is inside input folder {display(link)} "
                    f"(a symbolic link to {display(target)})"
                )
        return None


def _file_job(source: Path, target: Path, fmt: str | None, explicit: bool) -> Job:
    suffix = source.suffix.lower()
    video = formats.is_video_suffix(suffix)
    read_as = formats.photo_for_suffix(suffix)
    if not video and read_as is None and not explicit:
        return Job(source, target, fmt, problem=NOT_AN_IMAGE, skipped=True)
    problem = _not_a_file(source)
    if problem is not None:
        return Job(source, target, VIDEO if video else fmt, problem=problem)
    if video:
        return Job(source, target, VIDEO)  # --format is for photos: a video stays a video
    chosen = fmt or (read_as.writes_as if read_as is not None else None)
    if chosen is not None and suffix not in formats.photo(chosen).suffixes:  # photo.gif -> photo.png
        target = target.with_suffix(formats.write_suffix(chosen))
    return Job(source, target, chosen)


def _guard(jobs: list[Job], folders: list[Path]) -> list[Job]:
    """No output may replace an input, lie in an input folder, or be written by two inputs: such a job fails.
    Two outputs whose names differ only in case (or Unicode form, or trailing dots) are two inputs' one output
    too, on every system: macOS and Windows would make them one file, here or wherever the folder is copied. The
    later one fails with its line rather than get a name nobody chose (--rename numbers every output instead)."""
    originals = {identity for job in jobs if (identity := _identity(job.source)) is not None}
    claimed: dict[str, Path] = {}  # collision_key -> the path that claimed it
    guarded: list[Job] = []
    for job in jobs:
        if job.problem is None:
            targets = [target.resolve() for target in job.final_targets()]
            problem = _target_problem(targets, originals, folders, claimed)
            if problem is not None:
                job = replace(job, problem=f"{problem} ({display(job.target)})")
            claimed.update((collision_key(target), target) for target in targets)
        guarded.append(job)
    return guarded


def _target_problem(
    targets: list[Path], originals: set[tuple[int, int]], folders: list[Path], claimed: dict[str, Path]
) -> str | None:
    if any(_identity(target) in originals for target in targets):
        return "its output would replace an input"
    if any(target.is_relative_to(folder) for target in targets for folder in folders):
        return "its output would be inside an input folder"
    for target in targets:
        first = claimed.get(collision_key(target))
        if first == target:
            return "another input has the same output path"
        if first is not None:
            return f"another output, {display(first)}, differs from it only in case: one file on macOS and Windows"
    return None


def _identity(path: Path) -> Identity | None:
    """The file a path names (device, inode), through links; None when there is none."""
    try:
        found = path.stat()
    except (OSError, ValueError):
        return None
    return (found.st_dev, found.st_ino)


def _not_a_file(source: Path) -> str | None:
    """Why a file must not be opened: a link to nothing, or not a regular file (a named pipe, which would block
    the batch until something wrote to it, a socket, a device). Stat only: nothing is opened here."""
    try:
        mode = source.stat().st_mode
    except (OSError, ValueError) as error:
        if source.is_symlink() and getattr(error, "errno", None) in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
            return _dangling(source)
        return None  # unreadable and the like: reading it says why, in its own line
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "a special file")
    return f"not a regular file ({kind})"


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
