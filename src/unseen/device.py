"""ONNX Runtime for every detector: the model files, one session per model and process, and where they run
(--device auto|cpu|cuda) with how many threads.

Every session unseen makes comes from `session`, which applies what `use` set in this process: the execution
providers chosen by `choose`, and the intra-op thread count (a Ray actor runs with the threads of the CPUs it
was given, not the machine's). Nothing set: the local accelerators the onnxruntime build has first, then the
CPU, with a thread per core.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from unseen.digest import file_sha256
from unseen.errors import UsageError
from unseen.privacy import onnxruntime_module

ort = onnxruntime_module()  # telemetry off before the first session

DEVICES = ("auto", "cpu", "cuda")
CPU, CUDA = "CPUExecutionProvider", "CUDAExecutionProvider"
NO_GPU_PACKAGE = "this onnxruntime has no CUDA support: pip install 'unseen[gpu]' (onnxruntime-gpu)"
PROBE_MODEL = "centerface"  # a shipped model, to see whether a session stays on CUDA


@dataclass(frozen=True)
class Setting:
    providers: tuple[str, ...] | None = None  # None: as the detector asks
    threads: int | None = None  # None: as the detector asks (the machine's cores)


_setting = Setting()


def use(setting: Setting) -> None:
    """Apply `setting` to every session this process makes from now on (call before the first detection)."""
    global _setting
    _setting = setting


def current() -> Setting:
    return _setting


def model_path(name: str) -> Path:
    """The shipped model file `name` (unseen/models/NAME.onnx; MODELS.md says where each comes from)."""
    return Path(str(resources.files("unseen.models").joinpath(f"{name}.onnx")))


@cache
def model_sha256(name: str) -> str:
    return file_sha256(model_path(name))


# Never a provider that runs elsewhere (the PyPI wheel lists AzureExecutionProvider, which calls out to a service).
_LOCAL_PROVIDERS = ("CUDAExecutionProvider", "CoreMLExecutionProvider", "DmlExecutionProvider", "CPUExecutionProvider")
_sessions: dict[str, Any] = {}
_sessions_lock = threading.Lock()


def session(name: str) -> Any:
    """The session of model `name`: one per model for the process, made once even when several threads ask at
    once, with this process's setting applied."""
    with _sessions_lock:
        if name not in _sessions:
            _sessions[name] = _new_session(name)
        return _sessions[name]


def _new_session(name: str) -> Any:
    options = ort.SessionOptions()
    options.intra_op_num_threads = _setting.threads if _setting.threads is not None else os.cpu_count() or 1
    # No busy-waiting between operators: two photos are searched at once, and decoding and encoding need the
    # cores too. Measured on 2 cores (80 dev images, balanced): spinning made the batch 1.2-1.5× slower.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # warnings about the graph are not the user's concern
    # Local accelerators first where this onnxruntime build has them; the CPU always works.
    local = [p for p in ort.get_available_providers() if p in _LOCAL_PROVIDERS]
    chosen = list(_setting.providers) if _setting.providers is not None else local
    return ort.InferenceSession(str(model_path(name)), options, providers=chosen)


def choose(
    requested: str, available: Sequence[str], cuda_works: Callable[[], bool], said: bool = True
) -> tuple[tuple[str, ...] | None, str | None]:
    """The providers for --device `requested` given the onnxruntime build's `available` ones, and the one line to
    print (None: nothing to say). `cuda_works` makes a session on CUDA and says whether it stayed there (called only
    when the build has CUDA). `said`: the user gave --device (auto's fallback is then told even without the GPU
    package); otherwise the default, auto, keeps quiet unless the GPU package is there and cannot be used.
    Raises UsageError when cuda was asked for and cannot be had."""
    if requested not in DEVICES:
        raise UsageError(f"--device {requested}: choose one of {', '.join(DEVICES)}")
    if requested == "cpu":
        return (CPU,), None
    has_cuda = CUDA in available
    works = has_cuda and cuda_works()
    if works:
        return (CUDA, CPU), None
    if requested == "cuda":
        raise UsageError(f"--device cuda: {NO_GPU_PACKAGE if not has_cuda else 'no usable CUDA device found'}")
    if has_cuda:
        return (CPU,), "unseen: no usable CUDA device: detection runs on the CPU"
    return None, (
        "unseen: no CUDA support here (pip install 'unseen[gpu]'): detection runs on the CPU" if said else None
    )


def select(requested: str | None) -> Setting:
    """--device as given (None: not given, auto), its line printed; the setting is applied in this process."""

    def cuda_works() -> bool:
        try:
            probe = ort.InferenceSession(str(model_path(PROBE_MODEL)), providers=[CUDA, CPU])
        except Exception:  # a broken CUDA install: the fallback says so
            return False
        return probe.get_providers()[:1] == [CUDA]

    providers, line = choose(requested or "auto", ort.get_available_providers(), cuda_works, said=requested is not None)
    if line is not None:
        print(line, file=sys.stderr)
    setting = Setting(providers=providers)
    use(setting)
    return setting
