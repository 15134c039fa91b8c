"""What unseen does to its own process so that nothing leaves the machine and no original lingers.

- ONNX Runtime (1.32 on Linux) ships Microsoft's telemetry, on by default: it writes a device id and queued
  events under ~/.cache/Microsoft and looks up a Microsoft host. `quiet_libraries()` turns it off before ONNX
  Runtime is first imported (the environment variable) and again through its API (`onnxruntime_module()`).
  Ray's usage statistics are turned off the same way, for any Ray process unseen starts.
- A crash dump (core file) of a process holding decoded photos holds the original, unobscured faces:
  `no_core_dumps()` sets RLIMIT_CORE to 0 and marks the process not dumpable (which also stops a core handler
  that ignores the limit, such as systemd-coredump, and other users' debuggers from reading its memory).
"""

from __future__ import annotations

import ctypes
import os
import resource
import sys
from types import ModuleType

# Set whatever the user's environment says: a run of unseen never sends anything.
OFFLINE_ENVIRONMENT = {
    "ORT_DISABLE_TELEMETRY": "1",
    "RAY_USAGE_STATS_ENABLED": "0",
}
_PR_SET_DUMPABLE, _PR_GET_DUMPABLE = 4, 3


def quiet_libraries() -> None:
    """The environment that keeps the libraries unseen uses from reporting home; run before they are imported."""
    os.environ.update(OFFLINE_ENVIRONMENT)


def onnxruntime_module() -> ModuleType:
    """ONNX Runtime, imported with its telemetry off (the variable, and its own switch, before any session)."""
    quiet_libraries()
    import onnxruntime

    disable = getattr(onnxruntime, "disable_telemetry_events", None)
    if disable is not None:
        disable()
    return onnxruntime


def no_core_dumps() -> None:
    """No core file of this process, ever: it would hold the originals' pixels. Best effort off Linux."""
    # The soft limit is what the kernel goes by; the hard one is left, so that a process this one starts (a test
    # running the command in-process, then a child) may still allow its own.
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def dumpable() -> bool:
    """Whether this process may leave a core dump (for the tests and the report)."""
    if resource.getrlimit(resource.RLIMIT_CORE)[0] != 0:
        return True
    if sys.platform.startswith("linux"):
        return bool(ctypes.CDLL(None).prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0))
    return False
