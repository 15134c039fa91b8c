"""The portable code paths, run here: a child process without fcntl, resource and os.geteuid (as on Windows)
imports unseen and anonymises a photo and a video, and a run's leftovers are kept rather than guessed at."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO, SAMPLE, SAMPLE_FACE, changed_share, load_rgb
from test_video import scene, write_clip

LAUNCHER = Path(__file__).with_name("without_posix.py")


def without_posix(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO / "tests")])}
    cmd = [sys.executable, str(LAUNCHER), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_import_works_without_the_posix_modules() -> None:
    code = (
        "import os, sys, unseen, unseen.cli, unseen.publish, unseen.privacy, unseen.stop\n"
        "from unseen.system import locks\n"
        "assert not hasattr(os, 'geteuid') and 'fcntl' not in sys.modules and 'resource' not in sys.modules\n"
        "print(locks.LOCKS.kind)\n"
    )
    done = without_posix("-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "none"


def test_the_launcher_really_removes_them() -> None:
    done = without_posix("-c", "import fcntl")
    assert done.returncode != 0 and "No module named 'fcntl'" in done.stderr


def test_a_photo_end_to_end_without_the_posix_modules(tmp_path: Path) -> None:
    out, report = tmp_path / "out", tmp_path / "report.json"
    done = without_posix("-m", "unseen", SAMPLE, "-o", out, "--report", report)
    assert done.returncode == 0, done.stderr
    assert changed_share(load_rgb(SAMPLE), load_rgb(out / SAMPLE.name), SAMPLE_FACE) > 0.9
    entry = json.loads(report.read_text())["files"][0]
    assert entry["status"] == "done" and entry["faces"]
    assert sorted(os.listdir(out)) == [SAMPLE.name]  # no temporary file left beside it


def test_a_video_end_to_end_without_the_posix_modules(tmp_path: Path) -> None:
    clip = tmp_path / "in" / "clip.mp4"
    clip.parent.mkdir()
    images, _ = scene(8)
    write_clip(clip, images, audio=True)
    out = tmp_path / "out"
    done = without_posix("-m", "unseen", clip.parent, "-o", out, "--report", tmp_path / "report.json")
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(out)) == ["clip.mp4"]
    entry = json.loads((tmp_path / "report.json").read_text())["files"][0]
    assert entry["status"] == "done" and entry["faces"]


def test_without_locks_a_leftover_is_kept_not_guessed_at(tmp_path: Path) -> None:
    """Nothing can tell a killed run's file from one another run is writing: it stays, and is not an input."""
    leftover = tmp_path / ".astronaut.png.0123abcd.unseen-tmp"
    leftover.write_bytes(b"half a photo")
    code = "import sys; from pathlib import Path; from unseen import publish; print(publish.sweep(Path(sys.argv[1])))"
    done = without_posix("-c", code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0" and leftover.exists()
