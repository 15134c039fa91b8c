"""The README's picture of the review page, made from the public-domain sample only (never from WIDER FACE).

    .venv/bin/python tools/review_screenshot.py          # writes docs/review-page.png and docs/review-video.png

Three photos made from sample/astronaut.png (as it is, mirrored, and cropped), reviewed in Debian's chromium
at 1280×800, the first one shown with its detection; and a 4-s clip of the astronaut sliding across a grey
background, shown at a frame with its timeline.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageOps
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample" / "astronaut.png"
OUT = REPO / "docs" / "review-page.png"
OUT_VIDEO = REPO / "docs" / "review-video.png"
FLAGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "march"
        folder.mkdir()
        sample = Image.open(SAMPLE).convert("RGB")
        sample.save(folder / "IMG_0001.png")
        ImageOps.mirror(sample).save(folder / "IMG_0002.png")
        sample.crop((100, 0, 412, 400)).save(folder / "IMG_0003.png")
        _clip(folder / "VID_0004.mp4", np.asarray(sample))
        cmd = [sys.executable, "-m", "unseen", "review", str(folder), "-o", str(Path(tmp) / "safe"), "--no-browser"]
        server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert server.stdout is not None
            url = re.search(r"open (\S+)", server.stdout.readline()).group(1)  # type: ignore[union-attr]
            _shoot(url)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    print(f"wrote {OUT.relative_to(REPO)} and {OUT_VIDEO.relative_to(REPO)}")


def _shoot(url: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(url)
        page.wait_for_function("() => document.querySelectorAll('#list img').length === 4", timeout=120_000)
        page.wait_for_function("() => !document.querySelector('#progress').textContent.includes('checking')")
        page.click("#list button:has-text('IMG_0001')")
        page.wait_for_function("() => document.querySelectorAll('#canvas .region').length > 0")
        page.click("#canvas .region")
        page.wait_for_timeout(300)
        OUT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(OUT))
        page.wait_for_function(
            "() => !document.querySelector('#list').textContent.includes('searching')", timeout=120_000
        )
        page.click("#list button:has-text('VID_0004')")
        page.wait_for_function("() => document.querySelectorAll('#tracks .lane').length > 0")
        page.fill("#scrub", "60")
        page.wait_for_function("() => document.querySelector('#canvas').dataset.frame === '60'")
        page.click("#tracks .lane")
        page.wait_for_timeout(500)
        page.screenshot(path=str(OUT_VIDEO))
        browser.close()


def _clip(path: Path, sample: np.ndarray) -> None:
    """The astronaut's head and shoulders sliding right across grey, 4 s at 30 fps, H.264."""
    crop = sample[25:215, 135:315]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for n in range(120):
            image = np.full((360, 640, 3), 170, np.uint8)
            x = 20 + 3 * n
            image[80 : 80 + crop.shape[0], x : x + crop.shape[1]] = crop
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode(None))


if __name__ == "__main__":
    main()
