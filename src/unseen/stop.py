"""Stopping a run: Ctrl-C, SIGTERM and SIGHUP stop it cleanly, however often they come.

The first signal sets the stop flag (after which nothing more is published: unseen.publish) and raises
KeyboardInterrupt in the main thread, which ends the run and removes what was not finished. Later signals
only set the flag again: a second Ctrl-C, or `timeout`'s second signal, must not abort the process from inside
a native library (which once left a core dump holding the originals) or skip the clean-up. While the main
thread publishes a file, the interruption waits (`deferred`), so that what the run says it wrote is exact.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
_flag = threading.Event()
_state = {"depth": 0, "pending": False, "raised": False}  # touched by the main thread only


def requested() -> bool:
    return _flag.is_set()


def request() -> None:
    """Stop the run: nothing is published from now on."""
    _flag.set()


def reset() -> None:
    """A new run in this process (the Python API, the tests): nothing is stopped."""
    _flag.clear()
    _state.update(depth=0, pending=False, raised=False)


@contextmanager
def deferred() -> Iterator[None]:
    """In the main thread, a signal inside this block is acted on when it ends, not in the middle of it."""
    main = threading.current_thread() is threading.main_thread()
    if main:
        _state["depth"] += 1
    try:
        yield
    finally:
        if main:
            _state["depth"] -= 1
            if _state["depth"] == 0 and _state["pending"]:
                _state["pending"] = False
                raise KeyboardInterrupt


def _handle(_signum: int, _frame: object) -> None:
    request()
    if _state["raised"]:
        return  # already stopping: a second signal changes nothing
    _state["raised"] = True
    if _state["depth"]:
        _state["pending"] = True  # raised when the publishing block ends
        return
    raise KeyboardInterrupt


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
                signal.signal(signum, previous)  # type: ignore[arg-type]

    return restore
