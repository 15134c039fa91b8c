"""--device auto|cpu|cuda: which ONNX Runtime providers detection gets (the selection logic, on a CPU machine)."""

from __future__ import annotations

import numpy as np
import pytest

from unseen import device
from unseen.errors import UsageError

CPU_BUILD = ["AzureExecutionProvider", "CPUExecutionProvider"]  # the PyPI onnxruntime wheel
GPU_BUILD = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]  # onnxruntime-gpu


def never() -> bool:
    raise AssertionError("no CUDA probe on a build without CUDA")


def test_cpu_is_the_cpu_whatever_the_build() -> None:
    assert device.choose("cpu", GPU_BUILD, never) == (("CPUExecutionProvider",), None)
    assert device.choose("cpu", CPU_BUILD, never) == (("CPUExecutionProvider",), None)


def test_auto_takes_a_working_cuda_device() -> None:
    assert device.choose("auto", GPU_BUILD, lambda: True) == (("CUDAExecutionProvider", "CPUExecutionProvider"), None)
    assert device.choose("cuda", GPU_BUILD, lambda: True)[0] == ("CUDAExecutionProvider", "CPUExecutionProvider")


def test_auto_falls_back_to_the_cpu_with_one_line() -> None:
    providers, line = device.choose("auto", GPU_BUILD, lambda: False)
    assert providers == ("CPUExecutionProvider",) and line is not None and "CPU" in line and "\n" not in line
    providers, line = device.choose("auto", CPU_BUILD, never)
    assert providers is None and line is not None and "unseen[gpu]" in line  # asked for: told
    assert device.choose("auto", CPU_BUILD, never, said=False) == (None, None)  # the default on a CPU build: quiet


@pytest.mark.parametrize(
    ("build", "works", "says"), [(CPU_BUILD, never, r"unseen\[gpu\]"), (GPU_BUILD, lambda: False, "no usable")]
)
def test_cuda_that_cannot_be_had_is_a_usage_error(build: list[str], works, says: str) -> None:
    with pytest.raises(UsageError, match=says):
        device.choose("cuda", build, works)


def test_the_setting_reaches_every_new_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """What `use` sets (a Ray actor's threads, the chosen providers) is what a detector's session gets."""
    from unseen.detectors import centerface

    made: list[tuple[int, list[str]]] = []
    real = device.ort.InferenceSession

    def spy(path, options, providers):
        made.append((options.intra_op_num_threads, list(providers)))
        return real(path, options, providers=providers)

    monkeypatch.setattr(device.ort, "InferenceSession", spy)
    monkeypatch.setattr(device, "_sessions", {})
    before = device.current()
    try:
        device.use(device.Setting(providers=("CPUExecutionProvider",), threads=1))
        centerface.CenterFace()(np.zeros((64, 64, 3), np.uint8))
    finally:
        device.use(before)
    assert made == [(1, ["CPUExecutionProvider"])]
    assert device.select("cpu").providers == ("CPUExecutionProvider",)
    device.use(before)


def test_command_refuses_cuda_on_a_cpu_build_in_one_line(tmp_path) -> None:
    import onnxruntime
    from conftest import SAMPLE, run_cli

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    done = run_cli(SAMPLE, "-o", tmp_path / "out", "--device", "cuda")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "unseen[gpu]" in done.stderr, done.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
