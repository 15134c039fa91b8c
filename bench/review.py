"""Review page latency, measured in Debian's chromium driven by Playwright (never a timed assert in a test).

Three figures the review issue sets, each beside an anchor measured in the same run on the same machine:
- start: from launching `unseen review` on a folder of 500 photos to the first photo shown on the page
  (detection goes on behind). Anchor: a Python process that imports unseen and exits.
- switch: pressing N on a 12-MP photo until the next 12-MP photo's view has loaded (median and worst of the
  switches). Anchor: decoding one of those 12-MP JPEGs with Pillow.
- preview: with "Show as published" on, a region drawn on a 12-MP photo until its obscured view has loaded.
  Anchor: the same decode.

The 500 photos are the WIDER FACE DEV subset beside the repo (../shared/data, read-only, never committed),
copied in turn under new names; the 12-MP photos are ten of them enlarged to 4000×3000 (JPEG, quality 92).
Everything is made in bench/.work/review/ and removed afterwards.

    .venv/bin/python bench/review.py            # about 3 min on 2 cores
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
from PIL import Image
from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "wider_val_subset" / "images"
WORK = REPO / "bench" / ".work" / "review"
FLAGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--photos", type=int, default=500, help="photos in the start-up folder (default 500)")
    p.add_argument("--large", type=int, default=10, help="12-MP photos switched between (default 10)")
    args = p.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    try:
        many, large = _folders(args.photos, args.large)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            results = {"start": _start(browser, many), **_large(browser, large)}
            browser.close()
        results["anchor_import_s"] = _import_time()
        results["anchor_decode_s"] = _decode_time(next(large.iterdir()))
        _print(results, args)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


def _folders(count: int, large: int) -> tuple[Path, Path]:
    sources = sorted(DATA.rglob("*.jpg"))
    if not sources:
        sys.exit(f"bench/review.py: no photos in {DATA}")
    many = WORK / "many"
    many.mkdir()
    for n in range(count):
        shutil.copyfile(sources[n % len(sources)], many / f"{n:04d}.jpg")
    big = WORK / "large"
    big.mkdir()
    for n, source in enumerate(sources[:large]):
        image = cv2.imread(str(source))
        cv2.imwrite(str(big / f"{n:02d}.jpg"), cv2.resize(image, (4000, 3000)), [cv2.IMWRITE_JPEG_QUALITY, 92])
    return many, big


def _serve(folder: Path, out: str) -> tuple[subprocess.Popen[str], str, float]:
    started = time.perf_counter()
    cmd = [str(REPO / ".venv" / "bin" / "unseen"), "review", str(folder), "-o", str(WORK / out), "--no-browser"]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    url = re.search(r"open (\S+)", process.stdout.readline())
    if url is None:
        process.kill()
        sys.exit("bench/review.py: unseen review printed no address")
    return process, url.group(1), started


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=120)


def _start(browser: object, folder: Path) -> dict[str, float]:
    process, url, started = _serve(folder, "out-many")
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
        address = time.perf_counter() - started
        page.goto(url)
        page.wait_for_function("() => { const p = document.querySelector('#photo'); return p.src && p.complete; }")
        shown = time.perf_counter() - started
        page.close()
    finally:
        _stop(process)
    return {"address_s": address, "first_shown_s": shown}


def _large(browser: object, folder: Path) -> dict[str, object]:
    process, url, _started = _serve(folder, "out-large")
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
        page.goto(url)
        count = len(list(folder.iterdir()))
        page.wait_for_function(f"() => document.querySelectorAll('#list img').length === {count}", timeout=600_000)
        page.click("#list li:first-child button")
        _loaded(page)
        page.wait_for_timeout(1000)  # the next photo's view is made ahead, as when a person looks for a second
        switches = []
        for _ in range(count - 1):
            switches.append(_next_shown(page))
            page.wait_for_timeout(1000)
        page.keyboard.press("o")
        _loaded(page)
        previews = []
        for n in range(3):
            x, y = _screen(page, 1000 + 600 * n, 1000)
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x + 60, y + 60, steps=4)
            started = page.evaluate("() => performance.now()")
            page.mouse.up()
            page.wait_for_function("n => document.querySelectorAll('#canvas .region.person').length === n", arg=n + 1)
            previews.append(_until_loaded(page, started, revision=True))
        page.close()
    finally:
        _stop(process)
    return {"switch_ms": switches, "preview_ms": previews}


def _loaded(page: Page) -> None:
    page.wait_for_function("() => { const p = document.querySelector('#photo'); return p.src && p.complete; }")


def _next_shown(page: Page) -> float:
    """Milliseconds from pressing N (in the page) until #photo shows a picture it did not show before."""
    return page.evaluate(
        """async () => {
          const photo = document.querySelector('#photo');
          const before = photo.src;
          const start = performance.now();
          window.dispatchEvent(new KeyboardEvent('keydown', {key: 'n'}));
          while (photo.src === before || !photo.complete) await new Promise(r => requestAnimationFrame(r));
          return performance.now() - start;
        }"""
    )


def _until_loaded(page: Page, started: float, revision: bool) -> float:
    """Milliseconds from `started` (performance.now() in the page) until #photo shows the current revision."""
    return page.evaluate(
        """async (started) => {
          const photo = document.querySelector('#photo');
          const fresh = async () => (await (await fetch(`/api/state`)).json());
          const rows = (await fresh()).files;
          const current = rows.find(r => document.querySelector('#list button[aria-current="true"]')
                                          .textContent.includes(r.name.split('/').pop()));
          while (!(photo.src.includes(`rev=${current.revision}`) && photo.complete)) {
            await new Promise(r => requestAnimationFrame(r));
            current.revision = (await fresh()).files[current.index].revision;
          }
          return performance.now() - started;
        }""",
        started,
    )


def _screen(page: Page, x: float, y: float) -> tuple[float, float]:
    box = page.eval_on_selector(
        "#canvas", "c => { const r = c.getBoundingClientRect(); return [r.left, r.top, r.width, c.offsetWidth]; }"
    )
    scale = box[2] / box[3]
    return box[0] + x * scale, box[1] + y * scale


def _import_time() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import unseen.cli, unseen.review.command"], check=True)
    return time.perf_counter() - started


def _decode_time(path: Path) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        with Image.open(path) as image:
            image.load()
        times.append(time.perf_counter() - started)
    return min(times)


def _print(r: dict[str, object], args: argparse.Namespace) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "?")
    switch, preview = r["switch_ms"], r["preview_ms"]
    decode_ms = 1000 * float(r["anchor_decode_s"])  # type: ignore[arg-type]
    start = r["start"]
    print(f"# bench/review.py, {dt.date.today()}, commit {commit.stdout.strip()}, {cpu}")
    print("| what | measured | anchor (same run) | ratio | target |")
    print("|---|---|---|---|---|")
    first = start["first_shown_s"]  # type: ignore[index]
    imports = float(r["anchor_import_s"])  # type: ignore[arg-type]
    print(
        f"| first photo shown, {args.photos} photos | {first:.2f} s | import unseen: {imports:.2f} s | "
        f"{first / imports:.1f}× | ≤ 2 s |"
    )
    med, worst = statistics.median(switch), max(switch)  # type: ignore[type-var, arg-type]
    print(
        f"| next 12-MP photo shown (median / worst of {len(switch)}) | {med:.0f} / {worst:.0f} ms | "  # type: ignore[arg-type]
        f"decode one: {decode_ms:.0f} ms | {med / decode_ms:.2f}× | ≤ 200 ms |"
    )
    pm, pw = statistics.median(preview), max(preview)  # type: ignore[type-var, arg-type]
    print(
        f"| obscured preview of a drawn region, 12 MP (median / worst of {len(preview)}) | {pm:.0f} / {pw:.0f} ms | "  # type: ignore[arg-type]
        f"decode one: {decode_ms:.0f} ms | {pm / decode_ms:.2f}× | ≤ 300 ms |"
    )
    print(json.dumps(r), file=sys.stderr)


if __name__ == "__main__":
    main()
