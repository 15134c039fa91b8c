"""Which signals stop a run cleanly (unseen.stop handles them).

POSIX: Ctrl-C (SIGINT), SIGTERM (kill, a service manager) and SIGHUP (the terminal closed). Windows has no
SIGHUP: Ctrl-C (SIGINT) and Ctrl-Break (SIGBREAK) reach a console program, and SIGTERM only when the process
raises it itself. Closing a console window on Windows is not a signal Python can handle: the process is ended
then, its temporary files are left locked-then-unlocked, and the next run into that folder removes them.
"""

from __future__ import annotations

import signal

from unseen import system

NAMES = {
    system.WINDOWS: ("SIGINT", "SIGBREAK", "SIGTERM"),
}
POSIX_NAMES = ("SIGINT", "SIGTERM", "SIGHUP")


def names(name: str | None = None) -> tuple[str, ...]:
    """The stop signals' names on system `name` (this one by default)."""
    return NAMES.get(name or system.current(), POSIX_NAMES)


def stop_signals(name: str | None = None) -> tuple[int, ...]:
    """The stop signals this Python can install handlers for, on system `name`."""
    return tuple(getattr(signal, each) for each in names(name) if hasattr(signal, each))
