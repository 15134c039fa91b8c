"""Convert Resemblyzer's GE2E voice encoder (its wheel's `pretrained.pt`) to ONNX, without torch.

    pip download --no-deps resemblyzer==0.1.4 -d /tmp/rz && unzip /tmp/rz/Resemblyzer-0.1.4-py3-none-any.whl -d /tmp/rz
    python tools/convert_resemblyzer.py /tmp/rz/resemblyzer/pretrained.pt src/unseen/models/voice_encoder.onnx

`pretrained.pt` is a torch checkpoint in torch's legacy (pre-zip) format: a few pickles followed by the raw
bytes of each storage. It is read here with `pickle` alone (a restricted unpickler that knows only the handful
of names a state dict uses), so converting needs no torch. The network (Resemblyzer 0.1.4,
`voice_encoder.py`): a 3-layer LSTM (40 → 256), a linear layer (256 → 256) on the last layer's final hidden
state, ReLU, L2 normalisation. ONNX's LSTM op takes the same weights with its gates in the order
input, output, forget, cell where torch has input, forget, cell, output, and one bias per set of weights.
The mel front end stays in numpy (`unseen/audio/speaker.py`). Needs the `onnx` package (not a runtime one).
"""

from __future__ import annotations

import argparse
import io
import pickle
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN = 256
MELS = 40
LAYERS = 3
_DTYPES = {"FloatStorage": np.float32, "LongStorage": np.int64, "IntStorage": np.int32, "DoubleStorage": np.float64}


class _Storage:
    def __init__(self, dtype: type) -> None:
        self.dtype = dtype
        self.data: np.ndarray | None = None


class _Tensor:
    def __init__(self, storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...]) -> None:
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def array(self) -> np.ndarray:
        assert self.storage.data is not None
        item = self.storage.data.itemsize
        flat = self.storage.data[self.offset :]
        view = np.lib.stride_tricks.as_strided(flat, self.size, tuple(s * item for s in self.stride))
        return np.array(view)


def _rebuild(storage: _Storage, offset: int, size: Any, stride: Any, *_: Any) -> _Tensor:
    return _Tensor(storage, offset, size, stride)


class _Unpickler(pickle.Unpickler):
    """Only the names a torch state dict pickles; anything else in the file is refused."""

    def __init__(self, file: io.BufferedReader, storages: dict[str, _Storage]) -> None:
        super().__init__(file)
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in {("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor")}:
            return _rebuild
        if module == "torch" and name in _DTYPES:
            return name
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        raise pickle.UnpicklingError(f"unexpected object in the checkpoint: {module}.{name}")

    def persistent_load(self, pid: Any) -> _Storage:
        _kind, dtype_name, key, _location, _numel = pid[:5]
        if key not in self.storages:
            self.storages[key] = _Storage(_DTYPES[dtype_name])
        return self.storages[key]


def read_state_dict(path: Path) -> dict[str, np.ndarray]:
    storages: dict[str, _Storage] = {}
    with path.open("rb") as file:
        for _ in range(3):  # magic number, protocol version, system info: plain values
            _Unpickler(file, storages).load()
        checkpoint = _Unpickler(file, storages).load()
        keys = _Unpickler(file, storages).load()
        for key in keys:
            count = int(np.frombuffer(file.read(8), "<i8")[0])
            storage = storages[key]
            storage.data = np.frombuffer(file.read(count * np.dtype(storage.dtype).itemsize), storage.dtype)
    state = checkpoint["model_state"]
    return {name: value.array() for name, value in state.items() if isinstance(value, _Tensor)}


def _gates(weights: np.ndarray) -> np.ndarray:
    """torch's gate order (i, f, g, o) to ONNX's (i, o, f, c)."""
    i, f, g, o = np.split(weights, 4, axis=0)
    return np.concatenate([i, o, f, g], axis=0)


def build(state: dict[str, np.ndarray]) -> onnx.ModelProto:
    """mels (batch × frames × 40, not log) → embedding (batch × 256), L2-normalised, as Resemblyzer's forward."""
    nodes, inits = [], []
    current = "mels_tbf"
    nodes.append(helper.make_node("Transpose", ["mels"], [current], perm=[1, 0, 2]))  # ONNX LSTM is time-major
    for layer in range(LAYERS):
        w = _gates(state[f"lstm.weight_ih_l{layer}"])[None]
        r = _gates(state[f"lstm.weight_hh_l{layer}"])[None]
        b = np.concatenate([_gates(state[f"lstm.bias_ih_l{layer}"]), _gates(state[f"lstm.bias_hh_l{layer}"])])[None]
        names = [f"W{layer}", f"R{layer}", f"B{layer}"]
        inits += [numpy_helper.from_array(a.astype(np.float32), n) for a, n in zip((w, r, b), names, strict=True)]
        outputs = [f"y{layer}", f"h{layer}"]
        nodes.append(helper.make_node("LSTM", [current, *names], outputs, hidden_size=HIDDEN))
        nodes.append(helper.make_node("Squeeze", [f"y{layer}", "axis1"], [f"seq{layer}"]))  # T×1×B×H → T×B×H
        current = f"seq{layer}"
    inits.append(numpy_helper.from_array(np.array([1], np.int64), "axis1"))
    inits.append(numpy_helper.from_array(np.array([0], np.int64), "axis0"))
    inits.append(numpy_helper.from_array(state["linear.weight"].T.astype(np.float32), "linear_w"))
    inits.append(numpy_helper.from_array(state["linear.bias"].astype(np.float32), "linear_b"))
    nodes += [
        helper.make_node("Squeeze", [f"h{LAYERS - 1}", "axis0"], ["last"]),  # 1×B×H → B×H: the final hidden state
        helper.make_node("MatMul", ["last", "linear_w"], ["projected"]),
        helper.make_node("Add", ["projected", "linear_b"], ["biased"]),
        helper.make_node("Relu", ["biased"], ["raw"]),
        helper.make_node("LpNormalization", ["raw"], ["embedding"], axis=1, p=2),
    ]
    graph = helper.make_graph(
        nodes,
        "resemblyzer_ge2e_voice_encoder",
        [helper.make_tensor_value_info("mels", TensorProto.FLOAT, ["batch", "frames", MELS])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", HIDDEN])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="unseen")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, help="resemblyzer/pretrained.pt from the Resemblyzer 0.1.4 wheel")
    parser.add_argument("output", type=Path, help="where to write the ONNX model")
    args = parser.parse_args(argv)
    state = read_state_dict(args.checkpoint)
    print({name: value.shape for name, value in state.items()}, file=sys.stderr)
    onnx.save(build(state), str(args.output))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
