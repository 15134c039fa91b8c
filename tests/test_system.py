"""unseen.system's branches, each selected explicitly (the Windows and macOS ones with stand-ins for the modules
this machine lacks), never by changing sys.platform."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import REPO

from unseen import publish
from unseen.system import dumps, files, locks, owner, stopping


class FakeMsvcrt:
    """msvcrt.locking's contract: lock `nbytes` from the file's current position; fail if another handle has."""

    LK_NBLCK = 2

    def __init__(self) -> None:
        self.held: dict[tuple[int, int, int], int] = {}  # (device, inode, offset) -> the fd holding it
        self.calls: list[tuple[int, int]] = []

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        assert mode == self.LK_NBLCK and nbytes == 1
        info, where = os.fstat(fd), os.lseek(fd, 0, os.SEEK_CUR)
        self.calls.append((fd, where))
        key = (info.st_dev, info.st_ino, where)
        if self.held.get(key, fd) != fd:
            raise PermissionError(13, "Permission denied")
        self.held[key] = fd


@pytest.fixture
def two_handles(tmp_path: Path):
    path = tmp_path / "file"
    path.write_bytes(b"x" * 100)
    first, second = os.open(path, os.O_RDWR), os.open(path, os.O_RDONLY)
    yield first, second
    os.close(first)
    os.close(second)


def test_posix_locks_tell_a_living_writer_from_a_leftover(tmp_path: Path) -> None:
    import fcntl

    chosen = locks.select(fcntl, None)
    assert chosen.kind == "flock"
    path = tmp_path / "file"
    path.write_bytes(b"")
    writer = os.open(path, os.O_RDWR)
    chosen.hold(writer)
    finder = os.open(path, os.O_RDONLY)
    assert chosen.free(finder) is False  # its writer lives
    os.close(writer)
    assert chosen.free(finder) is True  # its writer is gone
    os.close(finder)


def test_windows_locks_one_byte_far_beyond_the_end_and_leave_the_position(two_handles: tuple[int, int]) -> None:
    """The encoder writes the file through its own handle: a mandatory lock on its bytes would stop it."""
    writer, finder = two_handles
    fake = FakeMsvcrt()
    chosen = locks.select(None, fake)  # type: ignore[arg-type]
    assert chosen.kind == "msvcrt"
    os.lseek(writer, 7, os.SEEK_SET)
    chosen.hold(writer)
    assert fake.calls == [(writer, locks.LOCK_OFFSET)]
    assert os.lseek(writer, 0, os.SEEK_CUR) == 7
    assert chosen.free(finder) is False
    assert os.lseek(finder, 0, os.SEEK_CUR) == 0


def test_without_locks_nothing_is_ever_taken_for_a_leftover(two_handles: tuple[int, int]) -> None:
    writer, finder = two_handles
    chosen = locks.select(None, None)
    assert chosen.kind == "none"
    chosen.hold(writer)  # nothing to hold with, and no error: the run goes on
    assert chosen.free(finder) is False


def test_this_machine_uses_flock() -> None:
    assert locks.LOCKS.kind == "flock"


def test_the_owner_check_with_and_without_user_ids(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"")
    info = os.stat(path)
    assert owner.mine(info)
    assert owner.owned_by(info, os.geteuid())
    assert not owner.owned_by(info, os.geteuid() + 1)
    assert owner.owned_by(info, None)  # Windows: no uid; the folder's access control list decides


@pytest.mark.parametrize(("system", "movable"), [("linux", True), ("macos", True), ("windows", False)])
def test_which_systems_move_an_open_file(system: str, movable: bool) -> None:
    assert files.movable_while_open(system) is movable


@pytest.mark.parametrize("overwrite", [False, True])
def test_publishing_the_windows_way_closes_before_it_renames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overwrite: bool
) -> None:
    """The Windows order (close, then link or rename, then remove) publishes the same file and leaves nothing."""
    monkeypatch.setattr(files, "movable_while_open", lambda name=None: False)
    final = tmp_path / "out" / "a.txt"
    if overwrite:
        final.parent.mkdir()
        final.write_bytes(b"old")
    publish.save(final, overwrite, None, lambda stream: stream.write(b"new"), interruptible=False)
    assert final.read_bytes() == b"new"
    assert os.listdir(final.parent) == ["a.txt"]


def test_a_leftover_is_removed_the_windows_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "movable_while_open", lambda name=None: False)
    leftover = tmp_path / ".a.txt.0123abcd.unseen-tmp"
    leftover.write_bytes(b"half")
    writing = publish.Temporary(tmp_path / "b.txt")  # a living writer's: kept
    try:
        assert publish.remove_leftovers(tmp_path) == 1
        assert not leftover.exists() and writing.path.exists()
    finally:
        writing.discard()
    assert os.listdir(tmp_path) == []


class FakeKernel32:
    def __init__(self) -> None:
        self.mode = 0

    def GetErrorMode(self) -> int:
        return self.mode

    def SetErrorMode(self, mode: int) -> int:
        previous, self.mode = self.mode, mode
        return previous


def test_windows_keeps_error_reporting_away() -> None:
    kernel32 = FakeKernel32()
    assert dumps.possible("windows", kernel32=kernel32)
    dumps.prevent("windows", kernel32=kernel32)
    assert kernel32.mode & dumps.SEM_NOGPFAULTERRORBOX and kernel32.mode & dumps.SEM_FAILCRITICALERRORS
    assert not dumps.possible("windows", kernel32=kernel32)


def test_macos_sets_the_core_limit_and_nothing_else() -> None:
    limits = {"core": (resource.RLIM_INFINITY, resource.RLIM_INFINITY)}
    fake = SimpleNamespace(
        RLIMIT_CORE="core",
        getrlimit=lambda which: limits[which],
        setrlimit=lambda which, value: limits.__setitem__(which, value),
    )
    assert dumps.possible("macos", resource=fake)
    dumps.prevent("macos", resource=fake)
    assert limits["core"] == (0, resource.RLIM_INFINITY)  # the hard limit is left for a child to raise its own
    assert not dumps.possible("macos", resource=fake)


def test_linux_marks_the_process_not_dumpable() -> None:
    code = "from unseen.system import dumps; dumps.prevent('linux'); print(dumps.possible('linux'))"
    env = os.environ | {"PYTHONPATH": str(REPO / "src")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "False"


def test_the_stop_signals_of_each_system() -> None:
    assert stopping.names("linux") == stopping.names("macos") == ("SIGINT", "SIGTERM", "SIGHUP")
    assert stopping.names("windows") == ("SIGINT", "SIGBREAK", "SIGTERM")  # Ctrl-C, Ctrl-Break; no SIGHUP
    # This Python has no SIGBREAK: the Windows set, here, is what it can handle of it.
    assert stopping.stop_signals("windows") == (signal.SIGINT, signal.SIGTERM)
    assert signal.SIGHUP in stopping.stop_signals("linux")
