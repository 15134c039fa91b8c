"""What unseen does to its own process so that nothing leaves the machine and no original lingers.

- ONNX Runtime (1.32 on Linux) ships Microsoft's telemetry, on by default: it writes a device id and queued
  events under ~/.cache/Microsoft and looks up a Microsoft host. `quiet_libraries()` turns it off before ONNX
  Runtime is first imported (the environment variable) and again through its API (`onnxruntime_module()`).
  Ray's usage statistics are turned off the same way, for any Ray process unseen starts.
- A crash dump (core file) of a process holding decoded photos holds the original, unobscured faces:
  `no_core_dumps()` prevents one the way each system allows (unseen.system.dumps: RLIMIT_CORE and prctl on
  Linux, RLIMIT_CORE on macOS, the error mode that keeps Windows Error Reporting away on Windows).
"""

from __future__ import annotations

import os
from types import ModuleType

from unseen.system import dumps

# Set whatever the user's environment says: a run of unseen never sends anything.
OFFLINE_ENVIRONMENT = {
    "ORT_DISABLE_TELEMETRY": "1",
    "RAY_USAGE_STATS_ENABLED": "0",
}


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
    """No core file of this process, ever: it would hold the originals' pixels (see unseen.system.dumps)."""
    dumps.prevent()


def dumpable() -> bool:
    """Whether this process may leave a crash dump (for the tests and the report)."""
    return dumps.possible()
