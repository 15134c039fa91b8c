"""What the permissions of a temporary file mean on each system, and what may be done to a file still open.

POSIX: a temporary file is created 0600 (owner-only) and, once complete and checked, given the mode any new
file would get (0666 less the umask). Windows: the mode given to os.open sets only the read-only attribute; a new
file takes the access control list of the folder it is made in (by default: its owner, Administrators and
SYSTEM in a user's own folders; whatever a shared folder grants, there). So on Windows an unfinished output is
protected from other users exactly as much as the output folder is, no more.

Windows also refuses to rename or remove a file while a handle to it is open (Python opens files without
FILE_SHARE_DELETE): there the temporary file's descriptor is closed before it is given its final name, and
before a leftover is removed.
"""

from __future__ import annotations

import os

from unseen import system

OWNER_ONLY = 0o600


def movable_while_open(name: str | None = None) -> bool:
    """Whether a file may be renamed or removed while this process holds it open (`name`: the system)."""
    return (name or system.current()) != system.WINDOWS


def make_publishable(fd: int, umask: int) -> None:
    """Give a complete temporary file the mode a new file would get; nothing to do where modes do not exist."""
    if hasattr(os, "fchmod") and os.name == "posix":
        os.fchmod(fd, 0o666 & ~umask)
