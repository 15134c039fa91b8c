"""Publishing a file: the one way unseen gives anything a final name.

Every output (photo, video, report) is written under a temporary name beside its final one, made owner-only
(0600) while it is incomplete and unchecked, checked, then given the permissions a new file would get (the
umask's) and its final name, by a hard link that never replaces a file (or a rename with `overwrite`). Each
temporary file is locked while its writer lives, so that a later run can tell the leftover of a killed run
(unlocked) from a file another run is writing (locked) and remove only the former. Once the run is
interrupted (unseen.stop), nothing more is published. What each system offers for the mode, the lock and the
owner check (Windows has no file modes or uids as POSIX has): unseen.system.files, .locks and .owner.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from unseen import stop
from unseen.errors import NameTaken
from unseen.names import display
from unseen.system import files, locks, owner

TMP_SUFFIX = ".unseen-tmp"
_STEM_BYTES = 64  # of the final name kept in the temporary one: a long final name still leaves room
# .<start of the final name>.<8 hex digits>.unseen-tmp: only names of this shape are ever removed as leftovers.
_TMP_NAME = re.compile(r"^\..+\.[0-9a-f]{8}" + re.escape(TMP_SUFFIX) + r"$", re.DOTALL)


class Temporary:
    """An exclusive, locked, owner-only file beside `final`; closed and removed by `discard` unless published."""

    def __init__(self, final: Path) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(final.parent, final.name)
        stem = os.fsencode(final.name)[:_STEM_BYTES].decode("utf-8", "ignore")
        while True:
            path = final.with_name(f".{stem}.{secrets.token_hex(4)}{TMP_SUFFIX}")
            try:
                flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
                self.fd = os.open(path, flags, 0o600)
                break
            except FileExistsError:
                continue
        locks.LOCKS.hold(self.fd)  # a new file: nobody else can hold it
        self.path, self.final = path, final

    def stream(self) -> BinaryIO:
        """A binary stream on the file (read and write: a multi-page TIFF is appended to); it does not close the
        file's descriptor, which holds the lock until `discard`."""
        return os.fdopen(os.dup(self.fd), "w+b")

    def publish(self, overwrite: bool, interruptible: bool = True) -> Path:
        """Give the complete, checked file its final name; raises NameTaken, or Interrupted once the run is
        stopped (unless not `interruptible`: the report of an interrupted run), publishing nothing."""
        os.fsync(self.fd)
        files.make_publishable(self.fd, _umask())
        if interruptible:
            stop.check()
        if not files.movable_while_open():
            self._close()  # Windows: an open file cannot be renamed (its lock goes with it: see docs/platforms.md)
        _link(self.path, self.final, overwrite)
        if interruptible:
            _published.append(self.final)
        return self.final

    def discard(self) -> None:
        if not files.movable_while_open():
            self._close()  # Windows: an open file cannot be removed
        with suppress(OSError):
            self.path.unlink()
        self._close()

    def _close(self) -> None:
        if self.fd >= 0:
            with suppress(OSError):
                os.close(self.fd)
            self.fd = -1


@contextmanager
def temporary(final: Path) -> Iterator[Temporary]:
    """A Temporary for `final`, removed on the way out whatever happens (published or not)."""
    tmp = Temporary(final)
    try:
        yield tmp
    finally:
        tmp.discard()


def save(
    final: Path,
    overwrite: bool,
    check: Callable[[Path], None] | None,
    write: Callable[[BinaryIO], object],  # what it returns (a count of bytes written) is not read
    interruptible: bool = True,
) -> Path:
    """`write` the file, `check` it (if it raises, nothing is published), publish it under `final` (see
    Temporary.publish for `interruptible`)."""
    with temporary(final) as tmp:
        with tmp.stream() as stream:
            write(stream)
            stream.flush()
        if check is not None:
            check(tmp.path)
        return tmp.publish(overwrite, interruptible)


def _link(tmp: Path, final: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, final)
        return
    try:
        os.link(tmp, final)  # fails if the name exists, even when another process made it a moment ago
    except FileExistsError:
        raise NameTaken(display(final)) from None
    except OSError:
        if final.exists():  # a file system without hard links: the check is as late as it can be
            raise NameTaken(display(final)) from None
        os.replace(tmp, final)


_umask_lock = threading.Lock()


def _umask() -> int:
    """The process's umask now. Reading it means setting it: for that instant a file another thread creates
    gets the stricter 0o077, never a looser mode."""
    with _umask_lock:
        value = os.umask(0o077)
        os.umask(value)
        return value


_published: list[Path] = []


def published() -> list[Path]:
    """Every file this process published, in order (what an interrupted run says it wrote)."""
    return list(_published)


def is_temporary(name: str) -> bool:
    return _TMP_NAME.match(name) is not None


def remove_leftovers(folder: Path, final_name: str | None = None) -> int:
    """Remove unseen's temporary files that a killed run left in `folder` (only those for `final_name`, when
    given): only names of unseen's shape, only regular files of this user, and only when no living writer
    holds their lock. Returns how many were removed."""
    prefix = None if final_name is None else "." + os.fsencode(final_name)[:_STEM_BYTES].decode("utf-8", "ignore")
    removed = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        if not is_temporary(name) or (prefix is not None and not name.startswith(prefix + ".")):
            continue
        removed += _remove_if_abandoned(folder / name)
    return removed


def sweep(root: Path) -> int:
    """remove_leftovers in `root` and every folder under it (links to folders are not followed)."""
    removed = 0
    for here, _dirs, _files in os.walk(root, followlinks=False):
        removed += remove_leftovers(Path(here))
    return removed


def _remove_if_abandoned(path: Path) -> int:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return 0  # a link, gone, or not ours to read
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not owner.mine(info):
            return 0
        if not locks.LOCKS.free(fd):
            return 0  # its writer is alive (or nothing can tell: no locks on this Python)
        same = os.stat(path, follow_symlinks=False)
        if (same.st_dev, same.st_ino) != (info.st_dev, info.st_ino):
            return 0
        if not files.movable_while_open():
            os.close(fd)  # Windows: an open file cannot be removed; a killed run's file has no other writer
            fd = -1
        path.unlink()
        return 1
    except OSError:
        return 0
    finally:
        if fd >= 0:
            os.close(fd)
