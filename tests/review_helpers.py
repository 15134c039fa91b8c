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
        assert response.status == 200, response.status
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


def wait_for(condition: object, timeout: float = 300.0) -> None:
    # 300 s: a photo's search and check took over 120 s on the shared 2-core machine at load 15-20 (a wait
    # that passes returns as soon as its condition holds; only a failing one waits this long).
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


CLIP_FRAMES, CLIP_SIZE = 60, (480, 360)
BLINDS_FROM = 30  # from this frame on, the face is behind blinds: the detector loses it
CLIP_CARTOON = (350, 190, 450, 330)  # where the drawn cartoon (no person) sits in every frame


def make_clip(path: Path, frames: int = CLIP_FRAMES) -> list[tuple[int, int, int, int]]:
    """A 2-s clip (H.264, 30 fps, with audio): the astronaut's head sliding right, behind blinds from frame
    BLINDS_FROM, and a drawn cartoon face the detector takes for a face. Returns the face box in each frame."""
    from test_video import write_clip

    sample = np.asarray(Image.open(SAMPLE).convert("RGB"))
    crop = sample[25:215, 135:315]  # head and shoulders around the face (185, 65, 265, 175)
    width, height = CLIP_SIZE
    background = np.full((height, width, 3), 200, np.uint8)
    cartoon = _cartoon(background.copy(), (400, 260), 0.75)
    images, boxes = [], []
    for i in range(frames):
        image = cartoon.copy()
        ox, oy = 10 + 2 * (i % CLIP_FRAMES), 20
        head = crop.copy()
        if i >= BLINDS_FROM:
            for row in range(5):  # five rows in eight: more than the photo's blinds, video's detector is keener
                head[row::8] = 0
        image[oy : oy + crop.shape[0], ox : ox + crop.shape[1]] = head
        images.append(image)
        boxes.append((ox + 50, oy + 40, ox + 130, oy + 150))
    write_clip(path, images, audio=True)
    return boxes


def _cartoon(image: np.ndarray, centre: tuple[int, int], scale: float) -> np.ndarray:
    cx, cy = centre

    def at(dx: float, dy: float) -> tuple[int, int]:
        return int(cx + dx * scale), int(cy + dy * scale)

    def size(w: float, h: float) -> tuple[int, int]:
        return int(w * scale), int(h * scale)

    cv2.ellipse(image, at(0, 0), size(60, 80), 0, 0, 360, (200, 160, 130), -1)
    for x in (-25, 25):
        cv2.ellipse(image, at(x, -15), size(12, 6), 0, 0, 360, (40, 30, 30), -1)
    cv2.line(image, at(0, -10), at(0, 20), (150, 110, 90), max(1, int(4 * scale)))
    cv2.ellipse(image, at(0, 45), size(22, 8), 0, 0, 360, (150, 60, 60), -1)
    cv2.ellipse(image, at(0, -50), size(65, 40), 0, 180, 360, (50, 30, 20), -1)
    return cv2.GaussianBlur(image, (0, 0), 5 * scale)
