"""No crash dump of a process that holds decoded photos: the dump would hold the original, unobscured faces.

- Linux: RLIMIT_CORE set to 0 (the soft limit) and the process marked not dumpable (prctl PR_SET_DUMPABLE 0),
  which also stops a core handler that ignores the limit (systemd-coredump, apport) and keeps other users'
  debuggers from reading its memory. Without the `resource` module, prctl alone.
- macOS: RLIMIT_CORE set to 0 (macOS writes cores to /cores only when the limit allows it; off by default).
  Crash reports (~/Library/Logs/DiagnosticReports) hold a stack trace, not memory: nothing to prevent there.
- Windows: SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX). By Microsoft's documentation of
  SetErrorMode, with SEM_NOGPFAULTERRORBOX "the system does not invoke Windows Error Reporting", which is what
  writes a crash dump (LocalDumps, when an administrator has turned them on) or sends one. Not measured: no
  Windows machine ran this. A debugger attached by an administrator can read any process's memory: not
  prevented anywhere.
"""

from __future__ import annotations

import ctypes
import importlib
from types import ModuleType
from typing import Any

from unseen import system

_PR_SET_DUMPABLE, _PR_GET_DUMPABLE = 4, 3
SEM_FAILCRITICALERRORS, SEM_NOGPFAULTERRORBOX = 0x0001, 0x0002


def _resource() -> ModuleType | None:
    try:
        return importlib.import_module("resource")
    except ImportError:
        return None


def prevent(name: str | None = None, resource: ModuleType | None = None, kernel32: Any = None) -> None:
    """No crash dump of this process from now on, on system `name` (the modules may be given: the tests)."""
    name = name or system.current()
    if name == system.WINDOWS:
        kernel32 = kernel32 or ctypes.windll.kernel32  # type: ignore[attr-defined]  # Windows only
        kernel32.SetErrorMode(kernel32.GetErrorMode() | SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX)
        return
    resource = resource or _resource()
    if resource is not None:
        # The soft limit is what the kernel goes by; the hard one is left, so that a process this one starts (a
        # test running the command in-process, then a child) may still allow its own.
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    if name == system.LINUX:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def possible(name: str | None = None, resource: ModuleType | None = None, kernel32: Any = None) -> bool:
    """Whether this process may still leave a crash dump (for the tests and the report)."""
    name = name or system.current()
    if name == system.WINDOWS:
        kernel32 = kernel32 or ctypes.windll.kernel32  # type: ignore[attr-defined]  # Windows only
        return not kernel32.GetErrorMode() & SEM_NOGPFAULTERRORBOX
    resource = resource or _resource()
    if resource is not None and resource.getrlimit(resource.RLIMIT_CORE)[0] != 0:
        return True
    if name == system.LINUX:
        return bool(ctypes.CDLL(None).prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0))
    return resource is None  # nothing known to stop it
