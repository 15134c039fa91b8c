"""Scale benchmark: one local process vs Ray with 1 and 2 workers, photos and videos, in one run.

Photos: the first --limit JPEGs of the WIDER FACE dev subset (../shared/data/wider_val_subset, read only; the
copies live in bench/.work/scale, git-ignored, removed afterwards unless --keep). Videos: --videos copies of a
clip made at run time from one dev image (a pan across it, --frames frames of 1280x720 at 30 fps, H.264).

Each configuration is its own `unseen` process (the same options), run over all inputs and over one input;
reported: wall time, files per second (wall, Ray's start included), the steady rate ((n-1) / (T_n - T_1)),
and for Ray with 1 worker its per-file overhead: the steady wall time per file less the seconds the worker
itself spent on it (the report's per-file seconds). Ratios against the local process are in the same run.

    .venv/bin/python bench/scale.py                        # 60 photos, 4 videos
    .venv/bin/python bench/scale.py --limit 244 --videos 8 --json bench/.work/scale.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
from PIL import Image

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DATA = REPO.parent / "shared" / "data" / "wider_val_subset"
CONFIGS = {"local": [], "ray-1": ["--ray", "--ray-workers", "1"], "ray-2": ["--ray", "--ray-workers", "2"]}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--limit", type=int, default=60, help="photos (default 60; the dev subset has 244)")
    p.add_argument("--videos", type=int, default=4, help="copies of the clip (default 4; 0: no videos)")
    p.add_argument("--frames", type=int, default=60, help="frames per clip (default 60: 2 s)")
    p.add_argument("--unseen-args", default="", help="options for every run, e.g. '--quality fast'")
    p.add_argument("--work-dir", type=Path, default=BENCH / ".work" / "scale")
    p.add_argument("--json", type=Path, help="write the figures here too")
    p.add_argument("--keep", action="store_true")
    return p.parse_args(argv)


def make_clip(source: Path, path: Path, frames: int) -> None:
    """A pan across a dev image, 1280x720 at 30 fps."""
    with Image.open(source) as image:
        rgb = np.asarray(image.convert("RGB").resize((1600, 900)))
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        for i in range(frames):
            x, y = round(320 * i / max(1, frames - 1)), round(180 * i / max(1, frames - 1))
            out.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[y : y + 720, x : x + 1280]))))
        out.mux(stream.encode(None))


def run(inputs: Path, out: Path, extra: list[str]) -> tuple[float, dict]:
    report = out.with_suffix(".json")
    cmd = [sys.executable, "-m", "unseen", str(inputs), "-o", str(out), "-q", "--report", str(report), *extra]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return wall, json.loads(report.read_text())


def measure(kind: str, folder: Path, one: Path, work: Path, common: list[str]) -> dict[str, dict[str, float]]:
    n = sum(1 for _ in folder.iterdir())
    figures: dict[str, dict[str, float]] = {}
    for name, extra in CONFIGS.items():
        wall_n, report_n = run(folder, work / f"{kind}-{name}", [*common, *extra])
        wall_1, report_1 = run(one, work / f"{kind}-{name}-one", [*common, *extra])
        inside_n = sum(f["seconds"] for f in report_n["files"])
        inside_1 = sum(f["seconds"] for f in report_1["files"])
        steady = (wall_n - wall_1) / (n - 1) if n > 1 else float("nan")
        figures[name] = {
            "files": n,
            "wall_s": round(wall_n, 2),
            "per_s": round(n / wall_n, 3),
            "steady_per_s": round(1 / steady, 3) if steady > 0 else float("nan"),
            "worker_s_per_file": round((inside_n - inside_1) / (n - 1), 3) if n > 1 else float("nan"),
            "overhead_ms_per_file": round(1000 * (steady - (inside_n - inside_1) / (n - 1)), 1) if n > 1 else 0.0,
        }
        print(f"{kind:6} {name:6} {figures[name]}", flush=True)
    return figures


def table(kind: str, figures: dict[str, dict[str, float]]) -> str:
    base = figures["local"]
    rows = [
        f"| {kind} | config | files | wall s | files/s | steady files/s | × local (steady) | worker s/file |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, f in figures.items():
        ratio = f["steady_per_s"] / base["steady_per_s"] if base["steady_per_s"] else float("nan")
        rows.append(
            f"| | {name} | {f['files']} | {f['wall_s']} | {f['per_s']} | {f['steady_per_s']} | {ratio:.2f} | "
            f"{f['worker_s_per_file']} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    common = args.unseen_args.split()
    jpegs = sorted((args.data / "images").rglob("*.jpg"))[: args.limit]
    if not jpegs:
        raise SystemExit(f"no dev images under {args.data}/images")
    work = args.work_dir
    shutil.rmtree(work, ignore_errors=True)
    (work / "photos").mkdir(parents=True)
    (work / "photo-one").mkdir()
    for path in jpegs:
        shutil.copyfile(path, work / "photos" / path.name)
    shutil.copyfile(jpegs[0], work / "photo-one" / jpegs[0].name)
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, {len(jpegs)} photos", flush=True)
    result = {"photos": measure("photos", work / "photos", work / "photo-one", work, common)}
    if args.videos:
        (work / "videos").mkdir()
        (work / "video-one").mkdir()
        make_clip(jpegs[0], work / "video-one" / "clip.mp4", args.frames)
        for i in range(args.videos):
            shutil.copyfile(work / "video-one" / "clip.mp4", work / "videos" / f"clip{i}.mp4")
        result["videos"] = measure("videos", work / "videos", work / "video-one", work, common)
    ray1 = result["photos"]["ray-1"]
    print(f"\nRay per-file overhead (1 worker, photos): {ray1['overhead_ms_per_file']} ms")
    for kind, figures in result.items():
        print("\n" + table(kind, figures))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
