"""What unseen needs from the operating system, behind one small module per job, each with its branch for POSIX
(Linux, macOS) and for Windows, chosen by what the running Python offers (see docs/platforms.md):

- `locks`: an unfinished output is locked while its writer lives (flock; msvcrt.locking on Windows).
- `files`: what a temporary file's mode means, and whether an open file may be renamed or removed.
- `owner`: whether a leftover temporary file is this user's (its uid on POSIX; Windows has none).
- `dumps`: no crash dump of a process holding the originals' pixels (RLIMIT_CORE, prctl; Windows: error mode).
- `stopping`: which signals stop a run (SIGHUP does not exist on Windows; Ctrl-Break does).
- `filenames`: output names safe on every system (Windows' device names; names one file on macOS and Windows).

Nothing here imports a POSIX-only module at import time: `import unseen` works wherever Python does.
"""

from __future__ import annotations

import sys

LINUX, MACOS, WINDOWS, OTHER = "linux", "macos", "windows", "other"


def current() -> str:
    """The system this process runs on, as the modules here name it."""
    if sys.platform == "win32":
        return WINDOWS
    if sys.platform == "darwin":
        return MACOS
    if sys.platform.startswith("linux"):
        return LINUX
    return OTHER
