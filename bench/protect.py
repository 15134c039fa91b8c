"""Face-protection benchmark: unseen vs deface on the WIDER FACE DEV subset.

Converts the DEV JPEGs to PNG in a work dir, runs each tool once over all of them (one process, timed),
diffs every output against its input and prints recall per difficulty and face height, collateral and
wall time as a Markdown table. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from metrics import GTImage, Tally, changed_mask, load_ground_truth, score_image

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "wider_val_subset"
DEFACE_VENV = BENCH_DIR / ".venv-deface"
DEFACE_VERSION = "1.5.0"
DEFACE_SUFFIX = "_anonymized"
DEFACE_PROVIDER = "CPUExecutionProvider"
# Every --quality preset, each in its own unseen process, beside deface in the same run.
DEFAULT_CONFIGS = ["fast=--quality fast", "balanced=--quality balanced", "thorough=--quality thorough"]


@dataclass
class ToolResult:
    """One benchmarked tool configuration: its scores and timing."""

    name: str
    command: list[str]
    wall_s: float
    tally: Tally
    missing: int
    extra: dict


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="WIDER subset dir (default: %(default)s)")
    p.add_argument("--work-dir", type=Path, help="work dir (default: a fresh dir under bench/.work/)")
    p.add_argument("--keep", action="store_true", help="keep the work dir afterwards")
    p.add_argument("--limit", type=int, help="only use the first N images")
    p.add_argument("--unseen", type=Path, default=REPO_ROOT / ".venv" / "bin" / "unseen", help="unseen CLI")
    p.add_argument("--unseen-args", default="", help="extra args appended to every unseen run")
    p.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="NAME=ARGS",
        help='an unseen configuration, repeatable, e.g. --config fast="--quality fast" (default: the three presets)',
    )
    p.add_argument("--skip-deface", action="store_true", help="do not run deface")
    p.add_argument("--skip-unseen", action="store_true", help="do not run unseen")
    p.add_argument("--json", type=Path, help="also write the results as JSON here")
    p.add_argument(
        "--turn",
        type=int,
        choices=(0, 90, 180, 270),
        default=0,
        help="turn every image (and its faces) this many degrees counter-clockwise first: how well faces "
        "lying sideways or upside down are found (buckets stay by the face's own height)",
    )
    return p.parse_args(argv)


def parse_configs(specs: list[str], common: str) -> list[tuple[str, list[str]]]:
    """Turn `NAME=ARGS` specs into (name, args) pairs, with `common` args appended to each."""
    configs = []
    for spec in specs or DEFAULT_CONFIGS:
        name, sep, args = spec.partition("=")
        if not sep or not name:
            raise SystemExit(f"--config expects NAME=ARGS, got {spec!r}")
        configs.append((name, shlex.split(args) + shlex.split(common)))
    return configs


# --- preparation -----------------------------------------------------------------------------------------


def png_name(name: str) -> str:
    return str(Path(name).with_suffix(".png"))


TURNS = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}


def convert_to_png(data_dir: Path, names: Iterable[str], dest: Path, turn: int = 0) -> dict[str, tuple[int, int]]:
    """Decode each JPEG, turn it `turn` degrees counter-clockwise, and write it as an RGB PNG at the same
    relative path under `dest`. Returns each original's size (width, height)."""
    sizes = {}
    for name in names:
        out = dest / png_name(name)
        out.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(data_dir / "images" / name) as im:
            sizes[name] = im.size
            rgb = im.convert("RGB")
            (rgb.transpose(TURNS[turn]) if turn else rgb).save(out, compress_level=1)
    return sizes


def turned_truth(g: GTImage, size: tuple[int, int], turn: int) -> GTImage:
    """The faces of `g` in its image turned `turn` degrees counter-clockwise; each keeps its own height for
    the buckets."""
    width, height = size
    x, y, w, h = g.boxes.T
    if turn == 90:  # a pixel at (x, y) moves to (y, width - 1 - x)
        boxes = np.stack([y, width - x - w, h, w], axis=1)
    elif turn == 180:
        boxes = np.stack([width - x - w, height - y - h, w, h], axis=1)
    elif turn == 270:  # a pixel at (x, y) moves to (height - 1 - y, x)
        boxes = np.stack([height - y - h, x, h, w], axis=1)
    else:
        return g
    return GTImage(name=g.name, boxes=boxes.reshape(-1, 4), keep=g.keep, face_heights=g.heights)


def link_tree(src: Path, dest: Path) -> None:
    """Mirror `src` into `dest` with hard links (copies where linking fails)."""
    shutil.copytree(src, dest, copy_function=_link_or_copy)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


# --- running tools ---------------------------------------------------------------------------------------


def run_timed(command: list[str], log: Path) -> float:
    """Run `command` once, output to `log`; return its wall-clock seconds. Fails loudly on non-zero exit."""
    print(f"$ {shlex.join(command)}", file=sys.stderr, flush=True)
    with log.open("wb") as fh:
        start = time.perf_counter()
        proc = subprocess.run(command, stdout=fh, stderr=subprocess.STDOUT, check=False)
        wall = time.perf_counter() - start
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"command failed with exit code {proc.returncode}: {shlex.join(command)}\n{tail}")
    print(f"  done in {wall:.1f} s (log: {log})", file=sys.stderr, flush=True)
    return wall


def ensure_deface() -> Path:
    """Create bench/.venv-deface with deface + onnxruntime on first use; return the deface executable."""
    exe = DEFACE_VENV / "bin" / "deface"
    if exe.exists():
        return exe
    print(f"creating {DEFACE_VENV} (first use)", file=sys.stderr, flush=True)
    subprocess.run(["python3", "-m", "venv", str(DEFACE_VENV)], check=True)
    pip = [str(DEFACE_VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, f"deface=={DEFACE_VERSION}", "onnx", "onnxruntime"], check=True)
    return exe


def deface_versions() -> dict[str, str]:
    code = (
        "import importlib.metadata as m\n"
        "for p in ('deface', 'onnx', 'onnxruntime', 'opencv-python', 'numpy'):\n"
        "    try: print(p, m.version(p))\n"
        "    except m.PackageNotFoundError: print(p, 'missing')\n"
    )
    out = subprocess.run([str(DEFACE_VENV / "bin" / "python"), "-c", code], capture_output=True, text=True, check=False)
    return dict(line.split(" ", 1) for line in out.stdout.splitlines())


def run_deface(png_dir: Path, work: Path, names: list[str]) -> tuple[list[str], float, dict]:
    """Run deface once over a linked copy of the PNGs; return its command, wall time and extra info."""
    exe = ensure_deface()
    in_dir = work / "deface"
    link_tree(png_dir, in_dir)
    inputs = [str(in_dir / png_name(n)) for n in names]
    # Pin the CPU provider: onnxruntime's wheel lists AzureExecutionProvider first, which deface would report
    # (computation falls back to CPU anyway); pinning makes the log state what actually runs.
    command = [str(exe), "--replacewith", "solid", "--execution-provider", DEFACE_PROVIDER, *inputs]
    log = work / "deface.log"
    wall = run_timed(command, log)
    text = log.read_text(errors="replace")
    provider = next((ln.strip() for ln in text.splitlines() if ln.startswith("Running on")), None)
    if provider is None or DEFACE_PROVIDER not in provider:
        raise SystemExit(f"deface did not report running on {DEFACE_PROVIDER} (OpenCV fallback?): see {log}")
    info = {"provider": provider.removeprefix("Running on ").rstrip("."), "out_dir": str(in_dir)}
    return command, wall, info


def deface_output(work: Path, name: str) -> Path:
    p = work / "deface" / png_name(name)
    return p.with_name(p.stem + DEFACE_SUFFIX + p.suffix)


def unseen_version(exe: Path) -> str:
    try:
        out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    if out.returncode != 0:
        return "unknown"
    return (out.stdout or out.stderr).strip().splitlines()[-1].removeprefix("unseen ")


def run_unseen(exe: Path, png_dir: Path, work: Path, name: str, args: list[str]) -> tuple[list[str], float, dict]:
    out_dir = work / f"out-{name}"
    report = work / f"report-{name}.json"
    command = [str(exe), str(png_dir), "-o", str(out_dir), "--quiet", "--report", str(report), *args]
    wall = run_timed(command, work / f"unseen-{name}.log")
    extra: dict = {"out_dir": str(out_dir)}
    if report.exists():
        try:
            data = json.loads(report.read_text())
        except json.JSONDecodeError as exc:
            extra["report_error"] = str(exc)
        else:  # keep the settings and summary; per-file details stay in the work dir
            extra["report"] = {k: v for k, v in data.items() if k != "files"}
    return command, wall, extra


# --- scoring ---------------------------------------------------------------------------------------------


def score_outputs(gt: dict[str, GTImage], png_dir: Path, output_of: Callable[[str], Path]) -> tuple[Tally, int]:
    """Score every image's output against its input PNG; a missing output counts as unchanged."""
    tally = Tally()
    missing = 0
    for name, g in gt.items():
        original = load_rgb(png_dir / png_name(name))
        out_path = output_of(name)
        if out_path.exists():
            changed = changed_mask(original, load_rgb(out_path))
        else:
            missing += 1
            changed = np.zeros(original.shape[:2], dtype=bool)
        tally.add(g, score_image(changed, g))
    if missing:
        print(f"WARNING: {missing} outputs missing (counted as unchanged)", file=sys.stderr)
    return tally, missing


# --- reporting -------------------------------------------------------------------------------------------


def machine_info() -> dict[str, str | int]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "nproc": len(os.sched_getaffinity(0)), "platform": platform.platform()}


def git_commit() -> str:
    out = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, check=False
    )
    return out.stdout.decode().strip() or "none"


def table_rows(results: list[ToolResult]) -> list[list[str]]:
    """Markdown table body: recall rows, collateral, wall time, time ratio vs deface."""
    base = next((r for r in results if r.name == "deface"), None)
    per_tool = [list(r.tally.rows()) for r in results]
    rows = []
    for i, row in enumerate(per_tool[0]):
        rows.append([row.label, str(row.total), *(f"{rows_[i].recall * 100:.1f}" for rows_ in per_tool)])
    rows.append(["collateral %", "", *(f"{r.tally.collateral * 100:.2f}" for r in results)])
    rows.append(["wall s", "", *(f"{r.wall_s:.1f}" for r in results)])
    ratio = [f"{r.wall_s / base.wall_s:.2f}×" if base else "—" for r in results]
    rows.append(["time ratio vs deface", "", *ratio])
    return rows


def markdown_table(results: list[ToolResult]) -> str:
    header = ["", "faces", *(r.name for r in results)]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(results)]
    return "\n".join(lines)


def to_json(results: list[ToolResult], meta: dict) -> dict:
    tools = {}
    for r in results:
        tools[r.name] = {
            "command": r.command,
            "wall_s": r.wall_s,
            "missing_outputs": r.missing,
            "images": r.tally.images,
            "collateral": r.tally.collateral,
            "recall": {row.label: {"hits": row.hits, "total": row.total} for row in r.tally.rows()},
            **{k: v for k, v in r.extra.items() if k != "out_dir"},
        }
    return {**meta, "tools": tools}


# --- main ------------------------------------------------------------------------------------------------


def prepare_work_dir(arg: Path | None) -> Path:
    if arg is not None:
        if arg.exists() and any(arg.iterdir()):
            raise SystemExit(f"work dir {arg} is not empty")
        arg.mkdir(parents=True, exist_ok=True)
        return arg
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    work = BENCH_DIR / ".work" / f"run-{stamp}-{os.getpid()}"
    work.mkdir(parents=True)
    return work


def run_all(args: argparse.Namespace, gt: dict[str, GTImage], work: Path) -> tuple[list[ToolResult], dict]:
    png_dir = work / "png"
    names = list(gt)
    print(f"converting {len(names)} JPEGs to PNG in {png_dir}", file=sys.stderr, flush=True)
    sizes = convert_to_png(args.data, names, png_dir, args.turn)
    gt = {name: turned_truth(g, sizes[name], args.turn) for name, g in gt.items()}
    results: list[ToolResult] = []
    versions: dict[str, str] = {}
    if not args.skip_deface:
        command, wall, extra = run_deface(png_dir, work, names)
        tally, missing = score_outputs(gt, png_dir, lambda n: deface_output(work, n))
        results.append(ToolResult("deface", command, wall, tally, missing, extra))
        versions.update({f"deface-venv {k}": v for k, v in deface_versions().items()})
    if not args.skip_unseen:
        if not args.unseen.exists():
            raise SystemExit(f"unseen CLI not found at {args.unseen} (use --skip-unseen)")
        versions["unseen"] = unseen_version(args.unseen)
        for name, extra_args in parse_configs(args.config, args.unseen_args):
            command, wall, extra = run_unseen(args.unseen, png_dir, work, name, extra_args)
            out_dir = Path(extra["out_dir"])
            tally, missing = score_outputs(gt, png_dir, lambda n, d=out_dir: d / png_name(n))
            results.append(ToolResult(name, command, wall, tally, missing, extra))
    return results, versions


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.skip_deface and args.skip_unseen:
        raise SystemExit("nothing to run: both --skip-deface and --skip-unseen given")
    gt = load_ground_truth(args.data)
    if args.limit is not None:
        gt = dict(list(gt.items())[: args.limit])
    work = prepare_work_dir(args.work_dir)
    try:
        results, versions = run_all(args, gt, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "Pillow": Image.__version__,
        **versions,
    }
    meta = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine_info(),
        "versions": versions,
        "git_commit": git_commit(),
        "data": str(args.data),
        "images": len(gt),
        "boxes": sum(len(g.boxes) for g in gt.values()),
        "turn": args.turn,
        "work_dir": str(work) if args.keep else None,
    }
    print_report(results, meta)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(to_json(results, meta), indent=2, ensure_ascii=False) + "\n")
    return 0


def print_report(results: list[ToolResult], meta: dict) -> None:
    m = meta["machine"]
    print(f"Date: {meta['date']}  ")
    print(f"Machine: {m['cpu']}, {m['nproc']} CPUs ({m['platform']})  ")
    print("Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + "  ")
    turned = f", every image turned {meta['turn']}° counter-clockwise" if meta["turn"] else ""
    print(f"Data: {meta['images']} images, {meta['boxes']} faces (WIDER FACE val DEV subset{turned})  ")
    print(f"Repo commit: {meta['git_commit']}")
    print()
    print("Recall (% of ground-truth faces with ≥70% of box pixels changed by >8 in some channel):")
    print()
    print(markdown_table(results))
    for r in results:
        if "provider" in r.extra:
            print(f"\n{r.name}: onnxruntime {r.extra['provider']}")
        if r.missing:
            print(f"\n{r.name}: {r.missing} outputs missing (counted as unchanged)")


if __name__ == "__main__":
    raise SystemExit(main())
