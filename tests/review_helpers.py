"""Running `unseen review` as a user would (a child process), and the photos its tests review."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from conftest import SAMPLE
from PIL import Image

URL = re.compile(r"open (http://127\.0\.0\.1:(\d+)/\?key=([A-Za-z0-9_-]+))")
# Where the drawn cartoon and the barred face sit in the test photos (x1, y1, x2, y2).
CARTOON = (330, 210, 470, 390)
BARRED = (100, 100, 230, 260)


def make_photos(folder: Path) -> dict[str, Path]:
    """Three photos: the sample (a face the detector finds), a real face seen through blinds (black bars every
    8 rows: the detector misses it), and a drawn cartoon face (no person; the detector takes it for a face)."""
    folder.mkdir(parents=True, exist_ok=True)
    sample = np.asarray(Image.open(SAMPLE).convert("RGB"))
    face = sample[40:200, 160:290].copy()
    background = np.full((600, 800, 3), 200, np.uint8)
    barred = background.copy()
    blinds = face.copy()
    for row in range(3):
        blinds[row::8] = 0
    x1, y1, x2, y2 = BARRED
    barred[y1:y2, x1:x2] = blinds
    cartoon = background.copy()
    cv2.ellipse(cartoon, (400, 300), (60, 80), 0, 0, 360, (200, 160, 130), -1)
    for x in (375, 425):
        cv2.ellipse(cartoon, (x, 285), (12, 6), 0, 0, 360, (40, 30, 30), -1)
    cv2.line(cartoon, (400, 290), (400, 320), (150, 110, 90), 4)
    cv2.ellipse(cartoon, (400, 345), (22, 8), 0, 0, 360, (150, 60, 60), -1)
    cv2.ellipse(cartoon, (400, 250), (65, 40), 0, 180, 360, (50, 30, 20), -1)
    cartoon = cv2.GaussianBlur(cartoon, (0, 0), 5)
    paths = {
        "astronaut": folder / "a_astronaut.png",
        "barred": folder / "b_blinds.png",
        "cartoon": folder / "c_cartoon.png",
    }
    Image.open(SAMPLE).save(paths["astronaut"])
    Image.fromarray(barred).save(paths["barred"])
    Image.fromarray(cartoon).save(paths["cartoon"])
    return paths


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    port: int
    secret: str

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None
    ) -> http.client.HTTPResponse:
        """A raw request (any Host, any header), read whole."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        sent = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        for name, value in sent.items():
            if value is not None:
                connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        response.read_body = response.read()  # type: ignore[attr-defined]
        connection.close()
        return response

    def cookie(self) -> str:
        """The session cookie, as a browser gets it on its first visit."""
        response = self.request("GET", f"/?key={self.secret}")
        assert response.status == 303, response.status
        return response.getheader("Set-Cookie").split(";")[0]


@contextmanager
def review_server(*args: object, cwd: Path | None = None) -> Iterator[Server]:
    """`unseen review ARGS --no-browser` running; stopped (SIGTERM) on the way out unless it ended itself."""
    cmd = [sys.executable, "-m", "unseen", "review", *map(str, args), "--no-browser"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    found = URL.search(line)
    if found is None:
        process.kill()
        raise AssertionError(f"no URL printed: {line!r} {process.stderr.read() if process.stderr else ''}")
    server = Server(process, found.group(1), int(found.group(2)), found.group(3))
    try:
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for(condition: object, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out")
