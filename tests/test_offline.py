"""Nothing leaves the machine: no telemetry, no network, no file opened as a URL, no file left outside the output.

These run on every `make test` (the Makefile installs strace): they are the promise the README makes.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE
from test_video import scene, write_clip

from unseen.formats import DEMUXERS
from unseen.media.videofile import local_url


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-frame clip with a face and a sound track."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    images, _ = scene(12)
    write_clip(path, images, audio=True)
    return path


@pytest.fixture
def inputs(tmp_path: Path, clip: Path) -> Path:
    """A folder with a photo and a video."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copyfile(SAMPLE, folder / "photo.png")
    shutil.copyfile(clip, folder / "clip.mp4")
    return folder


def clean_environment(home: Path) -> dict[str, str]:
    """The environment of a user whose home is `home`, without anything that would turn telemetry off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORT_", "XDG_", "RAY_"))}
    env |= {"HOME": str(home), "PYTHONPATH": str(REPO / "src")}
    return env


def files_in(root: Path) -> list[Path]:
    return sorted(Path(here) / name for here, _, names in os.walk(root) for name in names)


def test_a_run_leaves_nothing_in_the_home_folder(tmp_path: Path, inputs: Path) -> None:
    """ONNX Runtime's telemetry writes a device id and events under ~/.cache/Microsoft when it is on."""
    home = tmp_path / "home"
    home.mkdir()
    out = tmp_path / "out"
    before = files_in(tmp_path)
    cmd = [sys.executable, "-m", "unseen", str(inputs), "-o", str(out), "--quality", "fast"]
    result = subprocess.run(cmd, capture_output=True, text=True, env=clean_environment(home), timeout=300)
    assert result.returncode == 0, result.stderr
    assert files_in(home) == [], "unseen wrote into the home folder"
    new = [p for p in files_in(tmp_path) if p not in before]
    assert sorted(p.name for p in new) == ["clip.mp4", "photo.png"]
    assert all(p.parent == out for p in new)


def test_the_package_turns_onnxruntime_telemetry_off_before_it_is_imported(tmp_path: Path) -> None:
    """The Python API too, not only the command: a session made after `import unseen` writes nothing home."""
    code = (
        "import unseen, numpy as np; unseen.detect(np.zeros((64, 64, 3), np.uint8));"
        "import os; print(os.environ['ORT_DISABLE_TELEMETRY'])"
    )
    env = clean_environment(tmp_path) | {"ORT_DISABLE_TELEMETRY": "0"}  # a user's setting does not turn it on
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"
    assert files_in(tmp_path) == []


def test_no_socket_but_unix_ones_under_strace(tmp_path: Path, inputs: Path) -> None:
    """Every network system call of the whole process tree, for a photo and a video: only AF_UNIX is allowed
    (the C library's own local sockets); any other family is a way off the machine."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.fail("strace is not installed (make test installs it: apt-get install strace)")
    log = tmp_path / "strace.log"
    home = tmp_path / "home"
    home.mkdir()
    cmd = [strace, "-f", "-qq", "-e", "trace=network", "-o", str(log), sys.executable, "-m", "unseen"]
    cmd += [str(inputs), "-o", str(tmp_path / "out"), "--quality", "fast"]
    result = subprocess.run(cmd, capture_output=True, text=True, env=clean_environment(home), timeout=300)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    families = {m.group(1) for line in calls if (m := re.search(r"\b(AF_[A-Z0-9]+|PF_[A-Z0-9]+)", line))}
    assert families <= {"AF_UNIX"}, [line for line in calls if "AF_UNIX" not in line]
    assert not [line for line in calls if re.search(r"\b(connect|sendto|sendmsg)\(", line) and "AF_UNIX" not in line]


def test_strace_sees_a_socket_when_there_is_one(tmp_path: Path) -> None:
    """The check above can fail: the same command line catches a process that opens an internet socket."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.fail("strace is not installed (make test installs it: apt-get install strace)")
    log = tmp_path / "strace.log"
    code = "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()"
    subprocess.run([strace, "-f", "-qq", "-e", "trace=network", "-o", str(log), sys.executable, "-c", code], check=True)
    assert "AF_INET" in log.read_text()


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP listener on 127.0.0.1 that records what anything sends it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.2)
    received: list[bytes] = []
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                peer, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            with peer:
                peer.settimeout(1)
                try:
                    received.append(peer.recv(200) or b"(connected)")
                except OSError:
                    received.append(b"(connected)")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    done.set()
    thread.join()
    server.close()


@pytest.mark.parametrize("scheme", ["tcp", "http"])
@pytest.mark.parametrize("given", ["folder", "file"])
def test_a_file_named_like_a_url_is_read_as_a_file(
    tmp_path: Path, clip: Path, listener: tuple[int, list[bytes]], scheme: str, given: str
) -> None:
    port, received = listener
    folder = tmp_path / "in"
    folder.mkdir()
    name = f"{scheme}:127.0.0.1:{port}.mp4"
    shutil.copyfile(clip, folder / name)
    # Run from inside the folder, as "." or "./name": both reach FFmpeg as the bare name (Path drops the "./").
    target, cwd = ("." if given == "folder" else f"./{name}"), folder
    cmd = [sys.executable, "-m", "unseen", target, "-o", str(tmp_path / "out"), "--quality", "fast"]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=300)
    assert received == [], "FFmpeg opened the file name as a URL"
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / name).is_file()


@pytest.mark.parametrize(
    "listing",
    [
        "ffconcat version 1.0\nfile '{other}'\n",
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{other}\n#EXT-X-ENDLIST\n",
    ],
    ids=["ffconcat", "hls"],
)
def test_a_playlist_named_mp4_is_refused_and_opens_nothing(tmp_path: Path, clip: Path, listing: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copyfile(clip, folder / "other.mp4")  # a file the list would pull in (a relative name FFmpeg deems safe)
    (folder / "list.mp4").write_text(listing.format(other="other.mp4"))
    cmd = [sys.executable, "-m", "unseen", "list.mp4", "-o", str(tmp_path / "out")]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=folder)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()[:-1]  # the summary line follows
    assert line.startswith("unseen: list.mp4: a playlist or list of other files, not a video: refused")
    assert not (tmp_path / "out").exists() or files_in(tmp_path / "out") == []


def test_ffmpeg_gets_file_urls_of_absolute_paths(tmp_path: Path) -> None:
    assert local_url(Path("tcp:1.2.3.4:80.mp4")) == "file:" + os.path.join(os.getcwd(), "tcp:1.2.3.4:80.mp4")
    assert local_url(tmp_path / "a b#?.mp4") == f"file:{tmp_path}/a b#?.mp4"
    assert not {"concat", "hls", "dash", "image2", "tee"} & set(DEMUXERS.split(","))
