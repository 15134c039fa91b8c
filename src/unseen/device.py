"""Where detection runs (--device auto|cpu|cuda) and with how many threads: one setting per process.

Every ONNX Runtime session unseen makes goes through `session` (detectors/centerface.py), which applies what
`use` set in this process: the execution providers chosen by `choose`, and the intra-op thread count (a Ray
actor runs with the threads of the CPUs it was given, not the machine's). Nothing set: the session is made
exactly as the detector asked, the local accelerators its onnxruntime build has first, then the CPU.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from unseen.errors import UsageError

DEVICES = ("auto", "cpu", "cuda")
CPU, CUDA = "CPUExecutionProvider", "CUDAExecutionProvider"
NO_GPU_PACKAGE = "this onnxruntime has no CUDA support: pip install 'unseen[gpu]' (onnxruntime-gpu)"


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


def session(ort: Any, path: str, options: Any, providers: Sequence[str]) -> Any:
    """An ONNX Runtime session for the model at `path`, with this process's setting applied."""
    if _setting.threads is not None:
        options.intra_op_num_threads = _setting.threads
    chosen = list(_setting.providers) if _setting.providers is not None else list(providers)
    return ort.InferenceSession(path, options, providers=chosen)


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
    from unseen.detectors.centerface import model_path, ort

    def cuda_works() -> bool:
        try:
            probe = ort.InferenceSession(str(model_path()), providers=[CUDA, CPU])
        except Exception:  # a broken CUDA install: the fallback says so
            return False
        return probe.get_providers()[:1] == [CUDA]

    providers, line = choose(requested or "auto", ort.get_available_providers(), cuda_works, said=requested is not None)
    if line is not None:
        print(line, file=sys.stderr)
    setting = Setting(providers=providers)
    use(setting)
    return setting
