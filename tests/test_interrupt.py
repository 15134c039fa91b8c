"""Nothing lingers: no core dump of originals, interruptions that publish nothing unfinished, no leftover files."""

from __future__ import annotations

import fcntl
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SAMPLE
from test_video import scene, write_clip

from unseen import publish, stop
from unseen.errors import Interrupted
from unseen.report import FileReport, RunReport

UNSEEN = [sys.executable, "-m", "unseen"]
INTERRUPTED = re.compile(r"^unseen: interrupted; (\d+) files? written and checked before it stopped.*nothing else")


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clip long enough (300 frames) to be stopped halfway."""
    path = tmp_path_factory.mktemp("clip") / "long.mp4"
    images, _ = scene(60)
    write_clip(path, images * 5)
    return path


def temporaries(root: Path) -> list[Path]:
    return [Path(here) / n for here, _, names in os.walk(root) for n in names if n.endswith(publish.TMP_SUFFIX)]


def outputs(root: Path) -> list[Path]:
    found = [Path(here) / n for here, _, names in os.walk(root) for n in names]
    return [p for p in found if not p.name.endswith(publish.TMP_SUFFIX)]


def start_and_wait_for_a_temporary(cmd: list[str], out: Path, **popen: object) -> subprocess.Popen[str]:
    """Start the command and return once it is writing (its temporary file exists)."""
    child = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, **popen)  # type: ignore[call-overload]
    deadline = time.monotonic() + 120
    while not temporaries(out) and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.01)
    assert temporaries(out), "the run never started writing"
    return child


# ---------------------------------------------------------------- core dumps


def test_the_command_cannot_dump_core(tmp_path: Path, long_clip: Path) -> None:
    """A crash while the originals are in memory leaves no core file, even where core dumps are allowed."""
    pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()

    def allow_cores() -> None:  # as far as the hard limit lets a process
        hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))

    # The control: a plain Python that crashes the same way does leave a core here (else this test shows nothing).
    control = tmp_path / "control"
    control.mkdir()
    crash = "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
    subprocess.run([sys.executable, "-c", crash], cwd=control, preexec_fn=allow_cores, check=False)
    cores_can_be_seen = not pattern.startswith("|") and bool(list(control.iterdir()))

    work = tmp_path / "work"
    work.mkdir()
    child = start_and_wait_for_a_temporary(
        [*UNSEEN, str(long_clip), "-o", "out"], work / "out", cwd=work, preexec_fn=allow_cores
    )
    limits = Path(f"/proc/{child.pid}/limits").read_text()
    child.send_signal(signal.SIGSEGV)
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGSEGV
    assert re.search(r"Max core file size\s+0\s", limits), limits
    if cores_can_be_seen:
        assert [p.name for p in work.iterdir()] == ["out"], "a core file was written"
        shutil.rmtree(control)


def test_no_core_dumps_sets_the_limit_and_the_flag() -> None:
    code = "from unseen import privacy; privacy.no_core_dumps(); print(privacy.dumpable())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# ---------------------------------------------------------------- signals


@pytest.mark.parametrize(
    "signals",
    [(signal.SIGINT, signal.SIGINT), (signal.SIGTERM, signal.SIGTERM), (signal.SIGINT, signal.SIGTERM)],
    ids=["SIGINT-twice", "SIGTERM-twice", "SIGINT-then-SIGTERM"],
)
def test_two_signals_stop_a_video_cleanly(tmp_path: Path, long_clip: Path, signals: tuple[int, int]) -> None:
    """Ctrl-C twice (or `timeout`'s signals) once aborted inside ONNX Runtime; now the run ends as after one."""
    out = tmp_path / "out"
    child = start_and_wait_for_a_temporary([*UNSEEN, str(long_clip), "-o", str(out)], out)
    for signum in signals:
        child.send_signal(signum)
        time.sleep(0.05)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr
    assert "terminate called" not in stderr and "Traceback" not in stderr
    assert temporaries(out) == [] and outputs(out) == []
    (line,) = stderr.splitlines()
    match = INTERRUPTED.match(line)
    assert match is not None and match.group(1) == "0", line


def test_sighup_stops_like_sigterm(tmp_path: Path, long_clip: Path) -> None:
    """A closed terminal (SIGHUP) once left a hidden temporary file behind."""
    out = tmp_path / "out"

    def as_from_a_terminal() -> None:  # under `nohup make test` SIGHUP is inherited ignored, and unseen keeps it so
        signal.signal(signal.SIGHUP, signal.SIG_DFL)

    command = [*UNSEEN, str(long_clip), "-o", str(out)]
    child = start_and_wait_for_a_temporary(command, out, preexec_fn=as_from_a_terminal)
    child.send_signal(signal.SIGHUP)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr
    assert temporaries(out) == [] and outputs(out) == []


def test_a_sighup_ignored_by_nohup_stays_ignored(tmp_path: Path, long_clip: Path) -> None:
    """`nohup unseen …` means: keep going when the terminal closes. The run ignores SIGHUP and publishes."""

    def as_under_nohup() -> None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    out = tmp_path / "out"
    command = [*UNSEEN, str(long_clip), "-o", str(out)]
    child = start_and_wait_for_a_temporary(command, out, preexec_fn=as_under_nohup)
    child.send_signal(signal.SIGHUP)
    _, stderr = child.communicate(timeout=300)
    assert child.returncode == 0, stderr
    assert temporaries(out) == [] and [p.name for p in outputs(out)] == ["long.mp4"]


def test_an_interrupted_batch_says_exactly_what_it_wrote(tmp_path: Path) -> None:
    """The photos in flight when the signal came are not published; the line counts what was, and the report
    lists those files."""
    root = tmp_path / "in"
    root.mkdir()
    for i in range(40):
        os.link(SAMPLE, root / f"{i:03}.png")
    out, report = tmp_path / "out", tmp_path / "report.json"
    child = subprocess.Popen(
        [*UNSEEN, str(root), "-o", str(out), "--report", str(report)], stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not outputs(out) and time.monotonic() < deadline:
        time.sleep(0.005)
    child.send_signal(signal.SIGINT)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr
    match = INTERRUPTED.match(stderr.splitlines()[-1])
    assert match is not None, stderr
    written = sorted(p.name for p in outputs(out))
    assert len(written) == int(match.group(1)) and 0 < len(written) < 40
    assert temporaries(out) == []
    import json

    data = json.loads(report.read_text())
    assert data["interrupted"] is True
    assert sorted(Path(f["output"]).name for f in data["files"] if f["status"] == "done") == written


def test_nothing_is_published_once_stopped(tmp_path: Path) -> None:
    stop.reset()
    try:
        stop.request()
        with pytest.raises(Interrupted):
            publish.save(tmp_path / "a.txt", False, None, lambda stream: stream.write(b"x"))
        assert list(tmp_path.iterdir()) == []
    finally:
        stop.reset()


# ---------------------------------------------------------------- files left behind


def test_a_temporary_file_is_owner_only_until_it_is_published(tmp_path: Path) -> None:
    seen: list[int] = []

    def check(path: Path) -> None:
        seen.append(stat.S_IMODE(path.stat().st_mode))

    final = publish.save(tmp_path / "a.bin", False, check, lambda stream: stream.write(b"x"))
    umask = os.umask(0)
    os.umask(umask)
    assert seen == [0o600]
    assert stat.S_IMODE(final.stat().st_mode) == 0o666 & ~umask
    assert os.listdir(tmp_path) == ["a.bin"]


def test_a_report_gets_the_permissions_of_an_output(tmp_path: Path) -> None:
    RunReport("0", {}, {}, "now").write(tmp_path / "r.json")
    publish.save(tmp_path / "o.bin", False, None, lambda stream: stream.write(b"x"))
    assert (tmp_path / "r.json").stat().st_mode == (tmp_path / "o.bin").stat().st_mode


def test_a_killed_run_leaves_an_owner_only_file_the_next_run_removes(tmp_path: Path, long_clip: Path) -> None:
    out = tmp_path / "out"
    child = start_and_wait_for_a_temporary([*UNSEEN, str(long_clip), "-o", str(out)], out)
    child.kill()
    child.communicate(timeout=60)
    (left,) = temporaries(out)
    assert stat.S_IMODE(left.stat().st_mode) == 0o600
    result = subprocess.run([*UNSEEN, str(SAMPLE), "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "removed 1 unfinished file left by an interrupted run" in result.stderr
    assert temporaries(out) == [] and [p.name for p in outputs(out)] == [SAMPLE.name]


def test_only_unseens_own_abandoned_temporaries_are_removed(tmp_path: Path) -> None:
    keep = [
        tmp_path / "notes.unseen-tmp",  # not unseen's shape: no hidden name, no token
        tmp_path / ".a.png.xyz.unseen-tmp",  # no 8-hex token
        tmp_path / ".a.png.0123abcd.unseen-tmp.bak",
    ]
    for path in keep:
        path.write_bytes(b"someone's")
    abandoned = tmp_path / ".a.png.0123abcd.unseen-tmp"
    abandoned.write_bytes(b"half")
    alive = tmp_path / ".b.png.89abcdef.unseen-tmp"
    alive.write_bytes(b"being written")
    target = tmp_path / "elsewhere"
    target.write_bytes(b"not ours")
    link = tmp_path / ".c.png.00000000.unseen-tmp"
    link.symlink_to(target)
    with alive.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another run is writing it
        removed = publish.remove_leftovers(tmp_path)
    assert removed == 1
    assert not abandoned.exists()
    assert all(p.exists() for p in [*keep, alive, target]) and link.is_symlink()


def test_leftovers_in_an_input_folder_are_never_touched(tmp_path: Path) -> None:
    """Only the output folders are swept: a file of that shape among the inputs is not unseen's to remove."""
    root = tmp_path / "in"
    root.mkdir()
    shutil.copyfile(SAMPLE, root / "a.png")
    stray = root / ".a.png.0123abcd.unseen-tmp"
    stray.write_bytes(b"x")
    result = subprocess.run([*UNSEEN, str(root), "-o", str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert stray.exists()


# ---------------------------------------------------------------- the report's paths


def test_the_report_holds_no_folder_above_what_was_given(tmp_path: Path) -> None:
    private = tmp_path / "home" / "jane" / "Tahrir protest 2026-11-30"
    (private / "day1").mkdir(parents=True)
    shutil.copyfile(SAMPLE, private / "day1" / "arrest.png")
    shutil.copyfile(SAMPLE, private / "single.png")
    safe, report = tmp_path / "home" / "jane" / "safe", tmp_path / "report.json"
    cmd = [*UNSEEN, str(private / "day1"), str(private / "single.png"), "-o", str(safe), "--report", str(report)]
    assert subprocess.run(cmd, capture_output=True, text=True).returncode == 0
    text = report.read_text()
    assert "jane" not in text and "Tahrir" not in text and str(tmp_path) not in text
    import json

    files = {f["input"]: f["output"] for f in json.loads(text)["files"]}
    assert files == {"day1/arrest.png": "safe/arrest.png", "single.png": "safe/single.png"}

    cmd += ["--overwrite", "--report-full-paths"]
    assert subprocess.run(cmd, capture_output=True, text=True).returncode == 0
    assert str(private / "day1" / "arrest.png") in report.read_text()


def test_relative_paths_also_in_the_reasons() -> None:
    report = RunReport("0", {}, {}, "now")
    report.files.append(FileReport("/x/in/a.png", None, "failed", reason="/x/out/a.png exists (use --overwrite)"))
    shown = report.with_relative_paths([("/x/in", "in"), ("/x/out", "out")])
    assert (shown.files[0].input, shown.files[0].reason) == ("in/a.png", "out/a.png exists (use --overwrite)")
    assert report.files[0].input == "/x/in/a.png"  # the run's own record is unchanged
