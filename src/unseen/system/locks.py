"""Locking a temporary file while its writer lives, so that a later run removes only a killed run's leftovers.

- POSIX: `fcntl.flock`, exclusive and non-blocking, on the whole file; released when the descriptor closes
  (also when the process is killed).
- Windows: `msvcrt.locking` of one byte at LOCK_OFFSET, far beyond any output's end: a byte-range lock on
  Windows is mandatory (other handles cannot read or write the range), and the encoder and unseen's own check
  reopen the file by name, so the locked byte must be one that nobody reads or writes. Windows releases the lock
  when the handle closes or the process ends.
- Neither (a Python without either module): nothing is locked, and no leftover is ever removed, since a file
  another run is writing cannot be told from one a killed run left. Leftovers are still skipped as inputs.
"""

from __future__ import annotations

import importlib
import os
from contextlib import suppress
from dataclasses import dataclass
from types import ModuleType

# 1 TiB: beyond the end of any file unseen writes, and a position Linux's ext4 (16 TiB files) still seeks to in
# the tests; Windows locks 64-bit offsets.
LOCK_OFFSET = 1 << 40


@dataclass(frozen=True)
class Locks:
    """One way of locking: `hold` locks a new file (raises OSError if it cannot), `free` takes the lock of a file
    found on disk and says whether that worked (False: a living writer holds it, or locks are not available)."""

    kind: str  # "flock", "msvcrt" or "none": said in docs/platforms.md and tested by name
    fcntl: ModuleType | None = None
    msvcrt: ModuleType | None = None

    def hold(self, fd: int) -> None:
        """Lock a file this process just made. On Windows a failure (a file system that cannot lock) is not an
        error: nobody else can hold a new file, and an unlocked one is only ever kept, never taken for a leftover
        (the finder's own lock attempt fails the same way)."""
        if self.fcntl is not None:
            self._take(fd)
        elif self.msvcrt is not None:
            with suppress(OSError):
                self._take(fd)

    def free(self, fd: int) -> bool:
        if self.fcntl is None and self.msvcrt is None:
            return False
        try:
            self._take(fd)
        except OSError:
            return False
        return True

    def _take(self, fd: int) -> None:
        if self.fcntl is not None:
            self.fcntl.flock(fd, self.fcntl.LOCK_EX | self.fcntl.LOCK_NB)
        elif self.msvcrt is not None:
            _byte_lock(self.msvcrt, fd)


def _byte_lock(msvcrt: ModuleType, fd: int) -> None:
    """msvcrt.locking locks from the file's current position: there, and back to where the file was."""
    where = os.lseek(fd, 0, os.SEEK_CUR)
    os.lseek(fd, LOCK_OFFSET, os.SEEK_SET)
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    finally:
        os.lseek(fd, where, os.SEEK_SET)


def select(fcntl: ModuleType | None, msvcrt: ModuleType | None) -> Locks:
    """The locks these modules give (the tests select each branch by what they pass)."""
    if fcntl is not None:
        return Locks("flock", fcntl=fcntl)
    if msvcrt is not None:
        return Locks("msvcrt", msvcrt=msvcrt)
    return Locks("none")


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


LOCKS = select(_optional("fcntl"), _optional("msvcrt"))
