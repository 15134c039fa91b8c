"""Stopping a run: Ctrl-C, SIGTERM and SIGHUP (Windows: Ctrl-C and Ctrl-Break) stop it cleanly, however often
they come (unseen.system.stopping says which signals each system has).

A signal only sets the stop flag; the run looks at it where stopping is safe (between files, between a
video's frames, between a photo's stages) and ends there with errors.Interrupted, and nothing is published
once it is set (unseen.publish). No exception is ever raised from inside a native library's call (FFmpeg's
I/O callbacks run Python's signal handlers): that once crashed the process, and an abort inside ONNX
Runtime left a core dump holding the originals. A second signal changes nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from contextlib import suppress

from unseen.errors import Interrupted
from unseen.system import stopping

SIGNALS = stopping.stop_signals()
_flag = threading.Event()


def requested() -> bool:
    return _flag.is_set()


def request() -> None:
    """Stop the run: nothing is published from now on."""
    _flag.set()


def check() -> None:
    """Raise Interrupted if the run is stopped: called where stopping leaves nothing half done."""
    if _flag.is_set():
        raise Interrupted("interrupted before it was written")


def reset() -> None:
    """A new run in this process (the Python API, the tests): nothing is stopped."""
    _flag.clear()


def _handle(_signum: int, _frame: object) -> None:
    request()


def ignore() -> None:
    """For a process that is ending: the stop signals are ignored from now on. Python puts the default action back
    when it finalizes, and a second Ctrl-C arriving then would kill the process rather than let it exit."""
    for signum in SIGNALS:
        with suppress(ValueError, OSError):
            signal.signal(signum, signal.SIG_IGN)


def install() -> Callable[[], None]:
    """Handle the stop signals as above (main thread only); returns what puts the previous handlers back."""
    reset()
    saved: dict[int, object] = {}
    for signum in SIGNALS:
        try:
            if signal.getsignal(signum) is signal.SIG_IGN:
                continue  # ignored on purpose (nohup, a background job): stays so
            saved[signum] = signal.signal(signum, _handle)
        except (ValueError, OSError):  # not the main thread, or a signal this platform will not let us catch
            continue

    def restore() -> None:
        if requested():
            return  # the process is ending: a late second signal must not kill it now, with its exit status
        for signum, previous in saved.items():
            if previous is not None:
                signal.signal(signum, previous)  # type: ignore[arg-type]  # what signal.signal returned before

    return restore
