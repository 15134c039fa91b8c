"""Shared fixtures: the bundled sample, the dev data beside the repo, and running the CLI."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample" / "astronaut.png"
# The astronaut's face as the sample shows it (x1, y1, x2, y2), checked by eye once.
SAMPLE_FACE = (185, 65, 265, 175)
SHARED_DATA = REPO.parent / "shared" / "data"


def _stop_signals_reach_children() -> None:
    """`nohup make test` or `make test &` starts the tests with SIGHUP or SIGINT ignored, every child inherits
    that, and unseen rightly keeps an ignored stop signal ignored, so the tests that send one would see it do
    nothing. Handled here (by doing nothing), they reach every child process at their default again."""
    for name in ("SIGINT", "SIGHUP", "SIGTERM"):
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) is signal.SIG_IGN:
            signal.signal(signum, lambda *_: None)


_stop_signals_reach_children()
WIDER = SHARED_DATA / "wider_val_subset"


EXIFTOOL = shutil.which("exiftool")


def require_exiftool() -> str:
    """exiftool, which checks the outputs' metadata: its absence fails the test rather than skipping what matters."""
    if EXIFTOOL is None:
        pytest.fail("exiftool is not installed: make system-deps installs it (Debian: libimage-exiftool-perl)")
    return EXIFTOOL


@pytest.fixture
def exiftool_installed() -> str:
    return require_exiftool()


needs_exiftool = pytest.mark.usefixtures("exiftool_installed")


def exiftool_json(*paths: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        [require_exiftool(), "-j", "-a", "-G1", "-u", *map(str, paths)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_cli(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `unseen` as a user would, in a child process, capturing its output."""
    cmd = [sys.executable, "-m", "unseen", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=300)


def changed_share(before: np.ndarray, after: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Share of the box's pixels where any channel moved by more than 8 (the benchmark's rule)."""
    x1, y1, x2, y2 = box
    a = before[y1:y2, x1:x2].astype(np.int16)
    b = after[y1:y2, x1:x2].astype(np.int16)
    moved = np.abs(a - b) > 8
    return float((moved.any(axis=2) if moved.ndim == 3 else moved).mean())


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A private copy of the bundled sample in its own input folder."""
    folder = tmp_path / "in"
    folder.mkdir()
    target = folder / SAMPLE.name
    shutil.copyfile(SAMPLE, target)
    return target


def wider_faces(name: str) -> list[tuple[int, int, int, int]]:
    """The annotated faces (x, y, w, h) of one dev image, read from the dev set's ground truth at run time:
    nothing drawn from WIDER FACE is kept in the repository."""
    lines = (require_wider() / "wider_face_split" / "wider_face_val_bbx_gt.txt").read_text().splitlines()
    at = lines.index(name)
    rows = [tuple(int(v) for v in line.split()[:4]) for line in lines[at + 2 : at + 2 + int(lines[at + 1])]]
    return [(x, y, w, h) for x, y, w, h in rows if w > 0 and h > 0]


def require_wider() -> Path:
    if not WIDER.is_dir():
        pytest.skip("../shared/data is not beside the repo")
    return WIDER
