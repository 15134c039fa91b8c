"""`unseen --ray`: the same outputs and report as a local run, a worker killed halfway, a re-run that resumes.

Each Ray run starts a local Ray of its own (about 10 s on 2 cores with its actors), with HOME and TMPDIR pointed
at empty folders, so that what Ray leaves on disk is seen.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE, load_rgb, sha256
from PIL import Image
from test_video import scene, write_clip

pytest.importorskip("ray", reason="make test installs Ray (unseen[ray])")

pytestmark = pytest.mark.slow
# The same options on both sides; the fast preset keeps the runs short; the sensor-noise treatment kept off, as its
# fresh noise (and so the check's correlation in the report) differs from run to run by design.
FAST = ("--quality", "fast", "--keep-sensor-noise")


def photos(folder: Path, count: int) -> None:
    """`count` different photos: the astronaut shifted, a corrupt file, a file that is not an image."""
    folder.mkdir(parents=True)
    pixels = load_rgb(SAMPLE)
    for i in range(count):
        Image.fromarray(np.roll(pixels, 7 * i, axis=1)).save(folder / f"p{i:02d}.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (folder / "notes.txt").write_text("not an image")


def unseen(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "unseen", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)


def isolated(tmp: Path) -> dict[str, str]:
    """The environment of a Ray run: HOME an empty folder of the test's, TMPDIR a short one (Ray's socket paths must
    fit in 107 bytes) linked from the test's folder as tmp/."""
    (tmp / "home").mkdir(exist_ok=True)
    short = tempfile.mkdtemp(prefix="u")
    (tmp / "tmp").symlink_to(short)
    return {**os.environ, "HOME": str(tmp / "home"), "TMPDIR": short}


def left_on_disk(tmp: Path) -> list[str]:
    """What the run left in HOME and TMPDIR (the short folder is removed once looked at)."""
    found = sorted(str(p.relative_to(tmp)) for name in ("home", "tmp") for p in (tmp / name).rglob("*"))
    shutil.rmtree((tmp / "tmp").resolve(), ignore_errors=True)
    return found


def timeless(report: dict) -> dict:
    """A report without its timings (and its start time)."""
    files = [{k: v for k, v in f.items() if k != "seconds"} for f in report["files"]]
    return {**{k: v for k, v in report.items() if k not in ("seconds", "started")}, "files": files}


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of photos and a short video, done by a local run (tmp/local/out, tmp/local/report.json)."""
    root = tmp_path_factory.mktemp("ray")
    photos(root / "in", 6)
    images, _ = scene(12)
    write_clip(root / "in" / "walk.mp4", images)
    (root / "local").mkdir()
    done = unseen(root / "in", "-o", root / "local" / "out", "--report", root / "local" / "report.json", *FAST)
    assert done.returncode == 1, done.stderr  # broken.jpg
    return root


def test_same_outputs_and_report_as_a_local_run_and_nothing_left_in_home(local: Path) -> None:
    run = local / "on-ray"
    run.mkdir()
    env = isolated(run)
    done = unseen(local / "in", "-o", run / "out", "--report", run / "report.json", *FAST, "--ray", env=env)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert all(line.startswith("unseen: ") for line in lines), done.stderr  # no Ray log line, no traceback
    assert any("broken.jpg" in line for line in lines)
    outputs = sorted(p.name for p in (local / "local" / "out").iterdir())
    assert outputs == sorted(p.name for p in (run / "out").iterdir()) and "walk.mp4" in outputs
    for name in outputs:
        assert sha256(run / "out" / name) == sha256(local / "local" / "out" / name), name
    ours = json.loads((run / "report.json").read_text())
    theirs = json.loads((local / "local" / "report.json").read_text())
    assert timeless(ours) == timeless(theirs)
    assert left_on_disk(run) == [], "Ray wrote into HOME or left its temporary folder"


def test_a_rerun_skips_what_is_done_and_does_the_rest(local: Path) -> None:
    run = local / "rerun"
    shutil.copytree(local / "local" / "out", run / "out")
    (run / "out" / "p03.png").unlink()
    kept = {p.name: p.stat().st_ino for p in (run / "out").iterdir()}
    done = unseen(local / "in", "-o", run / "out", "--report", run / "report.json", *FAST, "--ray", env=isolated(run))
    assert done.returncode == 1, done.stderr  # broken.jpg, still
    report = {Path(f["input"]).name: f for f in json.loads((run / "report.json").read_text())["files"]}
    assert report["p03.png"]["status"] == "done"
    again = [name for name, f in report.items() if f["status"] == "skipped" and f["reason"].startswith("already done")]
    assert sorted(again) == sorted(kept)
    assert {p.name: p.stat().st_ino for p in (run / "out").iterdir() if p.name in kept} == kept  # not rewritten
    assert sha256(run / "out" / "p03.png") == sha256(local / "local" / "out" / "p03.png")
    assert "already done" in done.stderr
    assert left_on_disk(run) == []


def _workers(driver: int) -> list[int]:
    """The photo actors of this run: descendants of its driver (never another Ray on the machine), by /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        try:
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (ValueError, OSError, IndexError):
            continue
    mine, grew = {driver}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in mine} - mine
        mine, grew = mine | more, bool(more)
    found = []
    for pid in sorted(mine - {driver}):
        try:
            if b"Photos" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def test_a_worker_killed_halfway_still_leaves_every_file_done_exactly_once(tmp_path: Path) -> None:
    photos(tmp_path / "in", 14)
    env = isolated(tmp_path)
    cmd = [sys.executable, "-m", "unseen", str(tmp_path / "in"), "-o", str(tmp_path / "out"), *FAST]
    cmd += ["--report", str(tmp_path / "report.json"), "--ray"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as proc:
        driver, killed = proc.pid, None
        deadline = time.monotonic() + 240
        while killed is None and time.monotonic() < deadline and proc.poll() is None:
            written = [p for p in (tmp_path / "out").glob("p*.png")] if (tmp_path / "out").is_dir() else []
            workers = _workers(driver)
            if len(written) >= 3 and workers:
                killed = workers[0]
                os.kill(killed, signal.SIGKILL)
            time.sleep(0.05)
        _, stderr = proc.communicate(timeout=300)
    assert killed is not None, f"no worker to kill before the run ended: {stderr}"
    assert proc.returncode == 1, stderr  # broken.jpg
    report = json.loads((tmp_path / "report.json").read_text())["files"]
    names = [Path(f["input"]).name for f in report]
    assert sorted(names) == sorted(p.name for p in (tmp_path / "in").iterdir())  # each input once
    done = sorted(Path(f["output"]).name for f in report if f["status"] == "done")
    assert done == [f"p{i:02d}.png" for i in range(14)]
    assert sorted(os.listdir(tmp_path / "out")) == done  # one copy each, no temporary file left
    expected = unseen(tmp_path / "in" / "p05.png", "-o", tmp_path / "check", *FAST)
    assert expected.returncode == 0, expected.stderr
    assert sha256(tmp_path / "out" / "p05.png") == sha256(tmp_path / "check" / "p05.png")
    assert left_on_disk(tmp_path) == []


def test_sigterm_stops_a_ray_run_with_one_line(tmp_path: Path) -> None:
    photos(tmp_path / "in", 10)
    cmd = [sys.executable, "-m", "unseen", str(tmp_path / "in"), "-o", str(tmp_path / "out"), *FAST, "--ray"]
    with subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=isolated(tmp_path)) as proc:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if (tmp_path / "out").is_dir() and any((tmp_path / "out").glob("p*.png")):
                break
            time.sleep(0.05)
        ended = proc.poll()  # a run that ended by itself cannot be signalled (send_signal does nothing then)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    assert ended is None, f"the run ended by itself (exit {ended}) before it was signalled: {stderr!r}"
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1].startswith("unseen: interrupted;"), stderr
    assert all(line.startswith("unseen: ") for line in stderr.strip().splitlines()), stderr
    assert not [p for p in os.listdir(tmp_path / "out") if p.endswith(".unseen-tmp")]
    assert left_on_disk(tmp_path) == []


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--ray", "IN"], "not a Ray address"),
        (["--regions-out", "r.json", "--ray"], "--regions-out is not run on Ray"),
    ],
)
def test_ray_usage_errors_in_one_line(tmp_path: Path, args: list[str], says: str) -> None:
    shutil.copyfile(SAMPLE, tmp_path / "a.png")
    args = [str(tmp_path / "a.png") if a == "IN" else str(tmp_path / a) if a == "r.json" else a for a in args]
    done = unseen(tmp_path / "a.png", *([] if "--regions-out" in args else ["-o", tmp_path / "out"]), *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and says in done.stderr
