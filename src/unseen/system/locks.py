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
from dataclasses import dataclass
from types import ModuleType

# 2**62: beyond the end of any file unseen writes, within the 64-bit offsets Windows locks.
LOCK_OFFSET = 1 << 62


@dataclass(frozen=True)
class Locks:
    """One way of locking: `hold` locks a new file (raises OSError if it cannot), `free` takes the lock of a file
    found on disk and says whether that worked (False: a living writer holds it, or locks are not available)."""

    kind: str  # "flock", "msvcrt" or "none": said in docs/platforms.md and tested by name
    fcntl: ModuleType | None = None
    msvcrt: ModuleType | None = None

    def hold(self, fd: int) -> None:
        if self.fcntl is not None:
            self.fcntl.flock(fd, self.fcntl.LOCK_EX | self.fcntl.LOCK_NB)
        elif self.msvcrt is not None:
            _byte_lock(self.msvcrt, fd)

    def free(self, fd: int) -> bool:
        if self.fcntl is None and self.msvcrt is None:
            return False
        try:
            self.hold(fd)
        except OSError:
            return False
        return True


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
