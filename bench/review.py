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
    p.add_argument("--seconds", type=int, default=60, help="length of the 1080p clip for the video figures")
    args = p.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    try:
        many, large = _folders(args.photos, args.large)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            results = {"start": _start(browser, many), **_large(browser, large)}
            clip = _clip(WORK / "clip" / "long.mp4", sources_for_clip(), args.seconds)
            results["video"] = _video(browser, clip.parent)
            browser.close()
        results["anchor_frame_ms"] = _frame_decode_ms(clip)
        results["anchor_import_s"] = _import_time()
        results["anchor_decode_s"] = _decode_time(next(large.iterdir()))
        _print(results, args)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


def sources_for_clip() -> list[Path]:
    return sorted(DATA.rglob("*.jpg"))[:12]


def _clip(path: Path, sources: list[Path], seconds: int) -> Path:
    """A 1080p, 30 fps H.264 clip (x264's default keyframe interval) panning slowly over a few dev photos."""
    import av

    path.parent.mkdir(parents=True)
    pictures = [cv2.resize(cv2.imread(str(s))[..., ::-1], (2400, 1350)) for s in sources]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "23"}
        for n in range(30 * seconds):
            picture = pictures[(n // 150) % len(pictures)]
            x = (n % 150) * 3
            frame = av.VideoFrame.from_ndarray(picture[135:1215, x : x + 1920].copy(), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _video(browser: object, folder: Path) -> dict[str, object]:
    """Opening a long video (frames viewable while it is searched), one-frame steps, scrubbing, and the
    server's resident memory before and after (it must not grow with what was looked at)."""
    process, url, started = _serve(folder, "out-video")
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
        page.goto(url)
        _loaded(page)  # the page opens the first file that can be looked at: this one, while it is searched
        shown = time.perf_counter() - started
        rss_start = _rss_mb(process.pid)
        steps = [_shown_after_key(page, "ArrowRight") for _ in range(20)]
        frames = int(page.eval_on_selector("#scrub", "s => s.max")) + 1
        scrubs = [_scrub(page, (n * 7919) % frames) for n in range(12)]
        rss_middle = _rss_mb(process.pid)
        scrubs += [_scrub(page, (n * 104729) % frames) for n in range(12)]
        rss_end = _rss_mb(process.pid)
        searching = "searching" in page.inner_text("#list")
        page.close()
    finally:
        _stop(process)
    return {
        "first_frame_s": shown,
        "step_ms": steps,
        "scrub_ms": scrubs,
        "rss_mb": [rss_start, rss_middle, rss_end],
        "frames": frames,
        "still_searching": searching,
    }


def _scrub(page: Page, frame: int) -> float:
    return page.evaluate(
        """async (frame) => {
          const photo = document.querySelector('#photo');
          const scrub = document.querySelector('#scrub');
          const start = performance.now();
          scrub.value = String(frame);
          scrub.dispatchEvent(new Event('input'));
          while (!(photo.src.includes(`/frame/${frame}?`) && photo.complete)) {
            await new Promise(r => requestAnimationFrame(r));
          }
          return performance.now() - start;
        }""",
        frame,
    )


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) / 1024


def _frame_decode_ms(clip: Path) -> float:
    import av

    started = time.perf_counter()
    with av.open(str(clip)) as container:
        count = sum(1 for _ in container.decode(video=0))
    return 1000 * (time.perf_counter() - started) / count


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
            switches.append(_shown_after_key(page, "n"))
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


def _shown_after_key(page: Page, key: str) -> float:
    """Milliseconds from pressing `key` (in the page) until #photo shows a picture it did not show before."""
    return page.evaluate(
        """async (key) => {
          const photo = document.querySelector('#photo');
          const before = photo.src;
          const start = performance.now();
          window.dispatchEvent(new KeyboardEvent('keydown', {key}));
          const shown = () => photo.src && photo.src !== before && photo.complete;  // a cleared picture is not shown
          while (!shown()) await new Promise(r => requestAnimationFrame(r));
          return performance.now() - start;
        }""",
        key,
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
    v = r["video"]
    frame_ms = float(r["anchor_frame_ms"])  # type: ignore[arg-type]
    sm, sw = statistics.median(v["step_ms"]), max(v["step_ms"])  # type: ignore[index]
    cm, cw = statistics.median(v["scrub_ms"]), max(v["scrub_ms"])  # type: ignore[index]
    rss = v["rss_mb"]  # type: ignore[index]
    print(
        f"| a {v['frames']}-frame 1080p video: first frame shown | {v['first_frame_s']:.2f} s | "  # type: ignore[index]
        f"import unseen: {imports:.2f} s | {v['first_frame_s'] / imports:.1f}× | ≤ 5 s (searching on: "  # type: ignore[index]
        f"{'yes' if v['still_searching'] else 'no'}) |"
    )  # type: ignore[index]
    print(
        f"| one frame on (median / worst of {len(v['step_ms'])}) | {sm:.0f} / {sw:.0f} ms | "  # type: ignore[index]
        f"decode one 1080p frame: {frame_ms:.1f} ms | {sm / frame_ms:.1f}× | ≤ 100 ms |"
    )
    print(
        f"| scrub to a frame (median / worst of {len(v['scrub_ms'])}) | {cm:.0f} / {cw:.0f} ms | "  # type: ignore[index]
        f"decode one 1080p frame: {frame_ms:.1f} ms | {cm / frame_ms:.1f}× | ≤ 300 ms |"
    )
    print(
        f"| server memory: opened / after 20 steps and 12 scrubs / after 12 more | {rss[0]:.0f} / {rss[1]:.0f} / "
        f"{rss[2]:.0f} MB | | | bounded |"
    )
    print(json.dumps(r), file=sys.stderr)


if __name__ == "__main__":
    main()
