"""The review page in a real browser (Debian's chromium, driven by Playwright): a person finds what the detector
missed and what it got wrong, corrects both, approves and publishes; then the written files are checked.

Screenshots of each step are kept in out/test-artifacts/review/ (look at them after a change to the page).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, SAMPLE_FACE, changed_share, exiftool_json
from PIL import Image
from review_helpers import (
    BARRED,
    BLINDS_FROM,
    CARTOON,
    CLIP_CARTOON,
    CLIP_FRAMES,
    Server,
    make_clip,
    make_photos,
    review_server,
)

from unseen.media import metadata

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO / "out" / "test-artifacts" / "review"
# Chromium reaches for Google's services at start; the machine is offline and nothing may leave it anyway.
QUIET_FLAGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail("chromium is not installed: make system-deps installs it (Debian: chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=QUIET_FLAGS)
        yield launched
        launched.close()


class Page:
    """One tab on the review page, with what a person does on it."""

    def __init__(self, browser: object, server: Server, step_prefix: str, context: object | None = None) -> None:
        self.context = context or browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.dialogs: list[str] = []  # what the page asked (every question is answered yes)
        self.page.on("dialog", self._answer)
        self.prefix, self.steps = step_prefix, 0
        self.page.goto(server.url)
        self.page.wait_for_url(f"{server.origin}/")  # the secret left the address bar
        self.page.wait_for_selector("#progress")

    def _answer(self, dialog: object) -> None:
        self.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.accept()  # type: ignore[attr-defined]

    def shot(self, name: str) -> None:
        self.steps += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{self.prefix}-{self.steps:02d}-{name}.png"))

    def all_ready(self, count: int, timeout_ms: int = 120_000) -> None:
        self.page.wait_for_function(
            f"() => document.querySelectorAll('#list img').length === {count} && "
            "![...document.querySelectorAll('#list .meta')].some(m => /checking|searching/.test(m.textContent))",
            timeout=timeout_ms,
        )

    def open(self, name: str) -> None:
        self.page.click(f"#list button:has-text('{name}')")
        self.page.wait_for_function(
            f"() => document.querySelector('#list button[aria-current=\"true\"]').textContent.includes('{name}')"
        )
        self.page.wait_for_function(  # the picture shown is the file's own, loaded (never the one before)
            "() => { const photo = document.querySelector('#photo'); "
            "const li = document.querySelector('#list button[aria-current=\"true\"]').closest('li'); "
            "return photo.complete && !!photo.src && photo.dataset.file === li.dataset.index; }"
        )

    def screen(self, x: float, y: float) -> tuple[float, float]:
        """Where a point of the photo (in its pixels) is on the screen now."""
        box = self.page.eval_on_selector(
            "#canvas", "c => { const r = c.getBoundingClientRect(); return [r.left, r.top, r.width, c.offsetWidth]; }"
        )
        scale = box[2] / box[3]
        return box[0] + x * scale, box[1] + y * scale

    def drag(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        mouse = self.page.mouse
        mouse.move(*self.screen(*start))
        mouse.down()
        mouse.move(*self.screen(*end), steps=8)
        mouse.up()

    def saved(self) -> None:
        self.page.wait_for_function(
            "() => { const state = document.querySelector('#filestate').textContent; "
            "return state === 'Saved' || (state !== 'Saving…' && "
            "document.querySelector('#approve').textContent.includes('✓')); }"
        )
        self.page.evaluate("() => new Promise(r => setTimeout(r, 50))")

    def approved(self, name: str) -> None:
        """Wait until the list shows `name` approved."""
        self.page.wait_for_function(
            f"() => [...document.querySelectorAll('#list li')].some(li => li.textContent.includes('{name}') && "
            "[...li.querySelectorAll('.badge.ok')].some(b => b.textContent === 'approved'))"
        )

    def regions(self, kind: str = "") -> int:
        return self.page.locator(f"#canvas .region{kind}").count()

    def approve_and_publish(self) -> None:
        """A (approve) on the only file, Publish approved, and its result listed: written."""
        self.page.keyboard.press("a")
        self.page.wait_for_function("() => document.querySelector('#progress').textContent.includes('1 approved')")
        self.page.click("#publish")
        self.page.wait_for_function("() => document.querySelectorAll('#resultlist li').length === 1", timeout=180_000)
        self.shot("published")
        assert "not written" not in self.page.inner_text("#resultlist")


def _photos_with_metadata(folder: Path) -> dict[str, Path]:
    """The three photos; the astronaut as a JPEG carrying GPS and a description, which must not survive."""
    paths = make_photos(folder)
    exif = Image.Exif()
    exif[0x010E] = "SECRET description"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    jpeg = paths["astronaut"].with_suffix(".jpg")
    Image.open(paths["astronaut"]).convert("RGB").save(jpeg, quality=95, exif=exif)
    paths["astronaut"].unlink()
    paths["astronaut"] = jpeg
    return paths


def test_a_person_corrects_approves_and_publishes(browser: object, tmp_path: Path) -> None:
    photos = _photos_with_metadata(tmp_path / "photos")
    out, report = tmp_path / "out", tmp_path / "report.json"
    with review_server(tmp_path / "photos", "-o", out, "--report", report, "--keep-sensor-noise") as server:
        tab = Page(browser, server, "flow")
        tab.all_ready(3)
        tab.shot("opened")

        tab.open("b_blinds")
        assert tab.regions() == 0  # the detector missed the face behind the blinds
        x1, y1, x2, y2 = BARRED
        tab.drag((x1 - 4, y1 - 4), (x2 + 4, y2 + 4))
        tab.saved()
        assert tab.regions(".person") == 1
        tab.shot("drawn-over-missed-face")
        tab.page.keyboard.press("o")
        tab.page.wait_for_function("() => document.querySelector('#photo').src.includes('obscured=1')")
        tab.shot("preview-as-published")
        tab.page.keyboard.press("o")
        tab.page.keyboard.press("a")  # approve, and on to the next photo
        tab.approved("b_blinds")
        tab.page.wait_for_function(
            "() => document.querySelector('#list button[aria-current=\"true\"]').textContent.includes('c_cartoon')"
        )

        tab.page.wait_for_function("() => document.querySelectorAll('#canvas .region.detector').length === 1")
        tab.page.click("#canvas .region.detector")
        tab.page.keyboard.press("Delete")
        tab.saved()
        assert tab.regions(".removed") == 1
        tab.shot("false-detection-removed")
        tab.page.click("#approve")
        tab.approved("c_cartoon")

        tab.open("a_astronaut")
        assert tab.regions(".detector") == 1
        tab.page.click("#approve")
        tab.approved("a_astronaut")
        tab.page.wait_for_function("() => document.querySelector('#progress').textContent.includes('3 approved')")
        tab.page.click("#publish")
        tab.page.wait_for_function("() => document.querySelectorAll('#resultlist li').length === 3", timeout=120_000)
        tab.shot("published")
        results = tab.page.inner_text("#resultlist")
        assert results.count("written") == 3 and "not written" not in results
        tab.page.click("#finish")
        assert server.process.wait(timeout=60) == 0
        _out, err = server.process.communicate()
        assert tab.errors == []  # no script error, no request the CSP refused
    assert "3 of 3 files approved, 3 published" in err

    # The missed face: every pixel of the drawn box replaced.
    written = {p.stem: p for p in out.rglob("*") if p.is_file()}
    barred = np.asarray(Image.open(written["b_blinds"]).convert("RGB"))
    assert (barred[y1 - 4 : y2 + 4, x1 - 4 : x2 + 4] == 0).all()
    # The false detection removed: the photo as it was.
    cartoon_in = np.asarray(Image.open(photos["cartoon"]).convert("RGB"))
    cartoon_out = np.asarray(Image.open(written["c_cartoon"]).convert("RGB"))
    cx1, cy1, cx2, cy2 = CARTOON
    assert np.array_equal(cartoon_out[cy1:cy2, cx1:cx2], cartoon_in[cy1:cy2, cx1:cx2])
    # The detected face covered, and nothing of the input's metadata left.
    astronaut = np.asarray(Image.open(written["a_astronaut"]).convert("RGB"))
    original = np.asarray(Image.open(photos["astronaut"]).convert("RGB"))
    assert changed_share(original, astronaut, SAMPLE_FACE) >= 0.9
    for found in exiftool_json(*written.values()):
        fmt = {"JPG": "JPEG"}.get(str(found["File:FileType"]), str(found["File:FileType"]))
        assert [t for t in found if t != "SourceFile" and not metadata.allowed(fmt, t)] == []
        assert "SECRET" not in json.dumps(found) and "GPS" not in json.dumps(found)
    # The report says who decided what.
    files = {Path(f["input"]).stem: f for f in json.loads(report.read_text())["files"]}
    assert [r["origin"] for r in files["b_blinds"]["faces"]] == ["person"]
    assert files["c_cartoon"]["faces"] == [{**files["c_cartoon"]["faces"][0], "origin": "detector", "removed": True}]
    assert [r["origin"] for r in files["a_astronaut"]["faces"]] == ["detector"]


def killed(server: Server, tab: Page) -> None:
    """The review's process killed with no goodbye (what it saved is all there is), its tab closed."""
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=30)
    tab.context.close()


def reopened(browser: object, args: tuple, name: str, file: str, drawn: str) -> None:
    """The review started again on the same files: `file` shows exactly one element matching `drawn`."""
    with review_server(*args) as server:
        tab = Page(browser, server, name)
        tab.page.wait_for_selector("#list img")
        tab.open(file)
        tab.page.wait_for_function(f"() => document.querySelectorAll('{drawn}').length === 1")
        tab.shot("resumed")
        assert tab.errors == []


def test_a_review_killed_mid_way_resumes_where_it_stopped(browser: object, tmp_path: Path) -> None:
    make_photos(tmp_path / "photos")
    args = (tmp_path / "photos", "-o", tmp_path / "out")
    with review_server(*args) as server:
        tab = Page(browser, server, "resume")
        tab.all_ready(3)
        tab.open("b_blinds")
        x1, y1, x2, y2 = BARRED
        tab.drag((x1, y1), (x2, y2))
        tab.saved()
        tab.shot("drawn")
        killed(server, tab)
    reopened(browser, args, "resume-again", "b_blinds", "#canvas .region.person")


def test_two_tabs_edit_two_files_and_a_stale_edit_is_not_lost(browser: object, tmp_path: Path) -> None:
    make_photos(tmp_path / "photos")
    with review_server(tmp_path / "photos", "-o", tmp_path / "out") as server:
        one = Page(browser, server, "tabs-one")
        two = Page(browser, server, "tabs-two", context=one.context)
        one.all_ready(3)
        two.all_ready(3)
        one.open("b_blinds")
        two.open("c_cartoon")
        x1, y1, x2, y2 = BARRED
        one.drag((x1, y1), (x2, y2))
        one.saved()
        two.page.click("#canvas .region.detector")
        two.page.keyboard.press("Delete")
        two.saved()
        saved = {Path(f["path"]).stem: f for f in json.loads((tmp_path / "out.regions.json").read_text())["files"]}
        assert [r["origin"] for r in saved["b_blinds"]["regions"]] == ["person"]
        assert saved["c_cartoon"]["regions"][0].get("removed") is True
        # Both tabs on one photo: the second one's edit, made on what it saw before, is not merged blindly.
        two.open("b_blinds")
        one.drag((400, 400), (450, 460))
        one.saved()
        two.drag((600, 100), (650, 150))
        two.page.wait_for_function("() => document.querySelector('#filestate').textContent.includes('another tab')")
        assert two.regions(".person") == 2  # it now shows what the first tab saved
        two.shot("stale-edit-reloaded")
        saved = {Path(f["path"]).stem: f for f in json.loads((tmp_path / "out.regions.json").read_text())["files"]}
        assert len(saved["b_blinds"]["regions"]) == 2
        assert one.errors == [] and [e for e in two.errors if "409" not in e] == []


def test_a_tiny_face_in_a_large_photo_is_found_by_zooming_and_covered(browser: object, tmp_path: Path) -> None:
    """An 8-px face in a 4000-px photo (too small for the detector): zoom in, draw over it, and the box is where it
    was drawn."""
    folder = tmp_path / "photos"
    folder.mkdir()
    big = np.full((3000, 4000, 3), 120, np.uint8)
    face = np.asarray(Image.open(REPO / "sample" / "astronaut.png").convert("RGB"))[65:175, 185:265]
    tiny = np.asarray(Image.fromarray(face).resize((8, 10)))
    big[2100:2110, 3100:3108] = tiny
    Image.fromarray(big).save(folder / "large.png")
    with review_server(folder, "-o", tmp_path / "out") as server:
        tab = Page(browser, server, "zoom")
        tab.all_ready(1, timeout_ms=400_000)  # 12 MP searched and checked: 145 s at a load average of 20
        tab.page.wait_for_function("() => { const p = document.querySelector('#photo'); return p.src && p.complete; }")
        assert tab.regions() == 0
        tab.page.mouse.move(*tab.screen(3104, 2105))
        for _ in range(10):
            tab.page.mouse.wheel(0, -300)
        tab.page.wait_for_function("() => document.querySelector('#photo').src.includes('full=1')")
        tab.shot("zoomed-in")
        tab.drag((3098, 2098), (3110, 2112))
        tab.saved()
        tab.shot("tiny-face-covered")
        saved = json.loads((tmp_path / "out.regions.json").read_text())["files"][0]["regions"]
        person = [r for r in saved if r["origin"] == "person"]
        assert len(person) == 1
        assert np.allclose(person[0]["box"], [3098, 2098, 3110, 2112], atol=0.5)
        assert tab.errors == []


def test_a_video_missed_face_gets_a_person_track_and_a_false_track_is_removed(browser: object, tmp_path: Path) -> None:
    """The face behind blinds from frame BLINDS_FROM is lost by the detector: a person draws it at both ends of
    the stretch (two keyframes, interpolated between), removes the cartoon's track, approves and publishes."""
    from test_video import audio_packets, decoded

    folder = tmp_path / "clips"
    folder.mkdir()
    clip = folder / "march.mp4"
    faces = make_clip(clip)
    out, report = tmp_path / "out", tmp_path / "report.json"
    with review_server(folder, "-o", out, "--report", report) as server:
        tab = Page(browser, server, "video")
        tab.all_ready(1)
        tab.open("march.mp4")
        tab.page.wait_for_function("() => document.querySelectorAll('#canvas .region').length >= 1")
        tab.shot("opened")
        last = CLIP_FRAMES - 1
        # Where the detector's track of the face ends (the tracker covers a few frames past its last find):
        # from there on the face is bare.
        decided = json.loads((tmp_path / "out.regions.json").read_text())["files"][0]["tracks"]
        bare = 1 + max(row[0] for t in decided for row in t["boxes"] if row[1] < CLIP_CARTOON[0])
        assert BLINDS_FROM <= bare < last
        keys = {}
        for frame in (bare, last):
            tab.page.fill("#scrub", str(frame))  # the slider, as a person drags it
            tab.page.wait_for_function(f"() => document.querySelector('#canvas').dataset.frame === '{frame}'")
            x1, y1, x2, y2 = faces[frame]
            keys[frame] = (x1 - 6, y1 - 6, x2 + 6, y2 + 6)
            tab.drag(keys[frame][:2], keys[frame][2:])
            tab.saved()
        assert tab.page.locator("#tracks .lane .tick").count() == 2  # one track of the person's, two keyframes
        tab.shot("person-track-drawn")
        tab.page.click("#canvas .region.detector >> nth=-1")  # the cartoon's box, at the last frame
        tab.page.keyboard.press("Delete")
        tab.saved()
        tab.page.wait_for_function("() => document.querySelectorAll('#tracks .bar.removed').length === 1")
        tab.page.keyboard.press("o")
        tab.page.wait_for_function("() => document.querySelector('#photo').src.includes('obscured=1')")
        tab.shot("preview-as-published")
        tab.approve_and_publish()
        tab.page.click("#finish")
        assert server.process.wait(timeout=60) == 0
        assert tab.errors == []

    frames_in, times_in = decoded(clip)
    frames_out, times_out = decoded(out / "march.mp4")
    assert len(frames_out) == len(frames_in) and times_out == times_in
    assert audio_packets(out / "march.mp4") == audio_packets(clip)
    (a, ka), (b, kb) = sorted(keys.items())
    for frame in range(a, CLIP_FRAMES):
        w = (frame - a) / (b - a)
        box = [round((1 - w) * p + w * q) for p, q in zip(ka, kb, strict=True)]
        inside = frames_out[frame][box[1] + 3 : box[3] - 3, box[0] + 3 : box[2] - 3]
        assert inside.mean() < 25, (frame, inside.mean())  # covered, to the edges of the interpolated box
    cx1, cy1, cx2, cy2 = CLIP_CARTOON
    for frame in range(0, CLIP_FRAMES, 7):  # the cartoon's track removed: as a plain transcode leaves it
        diff = np.abs(frames_out[frame][cy1:cy2, cx1:cx2].astype(int) - frames_in[frame][cy1:cy2, cx1:cx2])
        assert diff.mean() < 4, (frame, diff.mean())
    (entry,) = json.loads(report.read_text())["files"]
    person = [f for f in entry["faces"] if f["origin"] == "person"]
    assert [(p["first_frame"], p["last_frame"], p["keyframes"]) for p in person] == [(a, b, 2)]
    assert [f.get("removed") for f in entry["faces"] if f["origin"] == "detector"].count(True) == 1


@pytest.fixture(autouse=True, scope="module")
def _fresh_artifacts() -> None:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)


def test_a_video_review_killed_mid_way_resumes_with_its_tracks(browser: object, tmp_path: Path) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    faces = make_clip(folder / "march.mp4")
    args = (folder, "-o", tmp_path / "out")
    with review_server(*args) as server:
        tab = Page(browser, server, "video-resume")
        tab.all_ready(1)
        tab.open("march.mp4")
        frame = CLIP_FRAMES - 1
        tab.page.fill("#scrub", str(frame))
        tab.page.wait_for_function(f"() => document.querySelector('#canvas').dataset.frame === '{frame}'")
        x1, y1, x2, y2 = faces[frame]
        tab.drag((x1, y1), (x2, y2))
        tab.saved()
        killed(server, tab)
    reopened(browser, args, "video-resume-again", "march.mp4", "#tracks .bar.person")


# -- what needs an answer before a file is approved ------------------------------------------------------------


def _visible_labels(tab: Page) -> int:
    return tab.page.evaluate(
        "() => [...document.querySelectorAll('#canvas .region .label')].filter(l => l.offsetParent !== null).length"
    )


def test_a_face_whose_only_detection_was_removed_is_not_published_until_its_flag_is_answered(
    browser: object, tmp_path: Path
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("a_notface", "b_cover"):
        shutil.copy(REPO / "sample" / "astronaut.png", folder / f"{name}.png")
    out, report = tmp_path / "out", tmp_path / "report.json"
    with review_server(folder, "-o", out, "--report", report) as server:
        tab = Page(browser, server, "flag")
        tab.all_ready(2)
        for name in ("a_notface", "b_cover"):  # the only detection removed by mistake, approved at once
            tab.open(name)
            tab.page.click("#canvas .region.detector")
            tab.page.keyboard.press("Delete")
            tab.saved()
            tab.page.keyboard.press("a")
        # Publish approved, as the button asks for it, whatever the list says by now.
        tab.page.evaluate(
            "() => fetch('/api/publish', {method: 'POST', body: '{}', "
            "headers: {'Content-Type': 'application/json', 'X-Unseen': '1'}})"
        )
        tab.page.wait_for_function(
            "() => [...document.querySelectorAll('#list .meta')].filter(m => /to answer/.test(m.textContent) && "
            "/not approved/.test(m.textContent)).length === 2",
            timeout=120_000,
        )
        tab.page.wait_for_function("() => !document.querySelector('#progress').textContent.includes('publishing')")
        tab.shot("flagged-nothing-written")
        assert list(out.rglob("*.png")) == []

        tab.open("a_notface")
        tab.page.wait_for_function("() => document.querySelectorAll('#canvas .residual').length === 1")
        assert tab.page.is_visible("#flagbar") and "possible face" in tab.page.inner_text("#flagbar")
        tab.page.keyboard.press("a")  # refused on the page: the flag is not answered
        assert "answer" in tab.page.inner_text("#filestate")
        tab.shot("flag-must-be-answered")
        tab.page.click("#flagbar button:has-text('Not a face')")
        tab.saved()
        tab.page.wait_for_function("() => document.querySelectorAll('#canvas .region.dismissed').length === 1")
        tab.shot("flag-not-a-face")
        tab.page.keyboard.press("a")
        tab.approved("a_notface")

        tab.open("b_cover")
        tab.page.wait_for_function("() => document.querySelectorAll('#canvas .residual').length === 1")
        tab.page.click("#canvas .residual")  # one click covers it
        tab.saved()
        assert tab.regions(".person") == 1
        tab.shot("flag-covered")
        tab.page.keyboard.press("a")
        tab.approved("b_cover")
        tab.page.wait_for_function("() => document.querySelector('#progress').textContent.includes('2 approved')")
        tab.page.click("#publish")
        tab.page.wait_for_function(
            "() => [...document.querySelectorAll('#resultlist li')].filter(l => / written/.test(l.textContent) && "
            "!/not written/.test(l.textContent)).length === 2",
            timeout=120_000,
        )
        tab.shot("answered-and-published")
        tab.page.click("#finish")
        server.process.wait(timeout=60)
        assert tab.errors == []
    original = np.asarray(Image.open(REPO / "sample" / "astronaut.png").convert("RGB"))
    dismissed = np.asarray(Image.open(out / "a_notface.png").convert("RGB"))
    covered = np.asarray(Image.open(out / "b_cover.png").convert("RGB"))
    assert changed_share(original, dismissed, SAMPLE_FACE) < 0.05  # "not a face": written as decided
    assert changed_share(original, covered, SAMPLE_FACE) >= 0.9
    files = {Path(f["input"]).stem: f for f in json.loads(report.read_text())["files"]}
    answers = {name: [f["check"]["answer"] for f in files[name]["faces"] if "check" in f] for name in files}
    assert answers == {"a_notface": ["not a face"], "b_cover": ["covered"]}
    assert all(f["origin"] == "person" for name in files for f in files[name]["faces"] if "check" in f)


def _crowd(folder: Path, regions_path: Path) -> int:
    """A crowd of small faces (the sample's, tiled at 22 to 50 px) and a regions file in which the detector was
    unsure of all but two of them: what a crowd photo looks like to the page. Returns the number of faces."""
    from unseen.digest import file_sha256

    folder.mkdir()
    face = Image.open(REPO / "sample" / "astronaut.png").convert("RGB").crop((160, 40, 290, 200))
    crowd = Image.new("RGB", (1600, 1000), (120, 128, 120))
    rng = np.random.default_rng(7)
    found = []
    for row in range(15):
        for col in range(20):
            side = int(rng.integers(22, 51))
            x, y = 20 + col * 78 + int(rng.integers(0, 20)), 15 + row * 65 + int(rng.integers(0, 8))
            crowd.paste(face.resize((side, round(side * 1.23))), (x, y))
            score = 0.9 if len(found) < 2 else float(rng.uniform(0.08, 0.45))
            found.append({"box": [x, y, x + side, y + round(side * 1.23)], "score": round(score, 3)})
    crowd.save(folder / "crowd.png")
    entry = {"path": f"{folder.name}/crowd.png", "sha256": file_sha256(folder / "crowd.png"), "width": 1600}
    entry |= {"height": 1000, "approved": False, "regions": [{**f, "origin": "detector"} for f in found]}
    regions_path.write_text(json.dumps({"unseen_regions": 2, "files": [entry]}))
    return len(found)


def test_a_crowd_is_readable_and_its_unsure_regions_are_answered_in_a_few_keys(browser: object, tmp_path: Path) -> None:
    count = _crowd(tmp_path / "photos", tmp_path / "out.regions.json")
    with review_server(tmp_path / "photos", "-o", tmp_path / "out") as server:
        tab = Page(browser, server, "crowd")
        tab.all_ready(1)
        tab.open("crowd")
        tab.page.wait_for_function(f"() => document.querySelectorAll('#canvas .region').length === {count}")
        assert tab.regions(".low") == count - 2
        assert _visible_labels(tab) == 0  # at 1280×800 the people are seen, not a carpet of labels
        assert f"{count - 2} unsure" in tab.page.inner_text("#flagbar")
        tab.shot("crowd-1280x800")
        tab.page.hover("#canvas .region.low >> nth=5")
        assert _visible_labels(tab) == 1  # the one under the mouse
        tab.page.keyboard.press("u")
        tab.page.keyboard.press("u")
        assert "Unsure 2 of" in tab.page.inner_text("#filestate")
        assert _visible_labels(tab) >= 1  # up close, the selected one's score is shown
        tab.shot("crowd-unsure-one-by-one")
        tab.page.keyboard.press("f")
        tab.page.keyboard.press("h")
        assert tab.page.locator("#canvas .region").first.is_hidden()
        tab.shot("crowd-bare")
        tab.page.keyboard.press("o")
        tab.page.wait_for_function(
            "() => { const p = document.querySelector('#photo'); return p.src.includes('obscured=1') && p.complete; }"
        )
        tab.shot("crowd-as-published-bare")
        tab.page.keyboard.press("h")
        tab.page.keyboard.press("o")
        tab.page.keyboard.press("a")
        tab.approved("crowd")
        assert len(tab.dialogs) == 1 and f"{count - 4} unsure regions you have not looked at" in tab.dialogs[0]
        tab.shot("crowd-approved")
        assert tab.errors == []
    saved = json.loads((tmp_path / "out.regions.json").read_text())["files"][0]
    assert saved["approved"] is True and not any(r.get("removed") for r in saved["regions"])


def test_a_video_with_flagged_frames_asks_once_before_it_is_approved(browser: object, tmp_path: Path) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    make_clip(folder / "march.mp4")
    with review_server(folder, "-o", tmp_path / "out") as server:
        tab = Page(browser, server, "video-flags")
        tab.all_ready(1)
        tab.open("march.mp4")
        tab.page.wait_for_function("() => document.querySelectorAll('#canvas .region.detector').length >= 1")
        # The face's track removed by mistake (the cartoon's box, when it is there, is the one farther right).
        face = tab.page.evaluate(
            "() => [...document.querySelectorAll('#canvas .region.detector')]"
            ".sort((a, b) => a.offsetLeft - b.offsetLeft)[0].dataset.track"
        )
        tab.page.click(f"#canvas .region[data-track='{face}']")
        tab.page.keyboard.press("Delete")
        tab.saved()
        tab.page.wait_for_function("() => document.querySelectorAll('#tracks .flag').length > 0", timeout=120_000)
        flagged = tab.page.locator("#tracks .flag").count()
        assert "The check sees a face in" in tab.page.inner_text("#flagbar")
        tab.shot("flagged-frames-listed")
        tab.page.keyboard.press("a")
        tab.page.wait_for_function("() => document.querySelector('#progress').textContent.includes('1 approved')")
        assert len(tab.dialogs) == 1 and "in which the check sees a face" in tab.dialogs[0], tab.dialogs
        assert flagged >= 2
        tab.shot("approved-after-asking")
        assert tab.errors == []


def test_the_file_page_unseen_opens_the_browser_with_leads_into_the_review(
    browser: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The browser is given a file:// page (never the secret in its arguments): from it, chromium reaches the
    review with its cookie (a redirect after the secret would have lost the SameSite=Strict cookie)."""
    from unseen.review.browser import BrowserPage

    make_photos(tmp_path / "photos")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "no-such-folder"))
    with review_server(tmp_path / "photos", "-o", tmp_path / "out") as server:
        opened = BrowserPage(server.url)
        path = opened.write()
        context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(path.as_uri())
        page.wait_for_url(f"{server.origin}/")
        page.wait_for_function("() => document.querySelectorAll('#list img').length === 3", timeout=120_000)
        assert "key=" not in page.url and server.secret not in page.content()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "opened-from-file-01-review.png"))
        opened.remove()
        assert not path.exists() and errors == []
        context.close()
