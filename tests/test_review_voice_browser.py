"""A video's voices on the review page, in Debian's chromium driven by Playwright: the timeline shows where speech
is heard, a person marks a span to silence (keys and buttons at the frame shown, and a drag along the lane, then
removed), chooses to disguise the voices, approves and publishes; the written sound is silent over the span and
not elsewhere.

Needs ../shared/data/voices (real speech, never committed). Screenshots of each step are kept under the test's
tmp folder, and copied to .screens/ in the checkout (not committed) to look at after a change to the page.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, SHARED_DATA
from review_helpers import Server, review_server
from test_review_browser import Page, browser  # noqa: F401  (the module's chromium, as a fixture)
from voice_clips import RATE, Sound, talking, write_clip

from unseen.audio.streams import decode_tracks

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SHARED_DATA / "voices").is_dir(), reason="needs ../shared/data/voices"),
]

SECONDS, FPS = 6.0, 10
SCREENS = REPO / ".screens"


class Tab(Page):
    """The review page, its screenshots kept in `folder` (and copied to .screens/)."""

    def __init__(self, chromium: object, server: Server, folder: Path) -> None:
        super().__init__(chromium, server, "voice")
        self.folder = folder

    def shot(self, name: str) -> None:
        self.steps += 1
        path = self.folder / f"{self.prefix}-{self.steps:02d}-{name}.png"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))
        SCREENS.mkdir(exist_ok=True)
        shutil.copyfile(path, SCREENS / path.name)

    def frame(self, k: int) -> None:
        """Frame k shown, as a person drags the slider to it (the boxes and the frame are that frame's)."""
        self.page.fill("#scrub", str(k))
        self.page.wait_for_function(f"() => document.querySelector('#canvas').dataset.frame === '{k}'")

    def regions_file(self, path: Path) -> dict[str, object]:
        return json.loads(path.read_text())["files"][0]  # type: ignore[no-any-return]


def _level(samples: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(samples, dtype=np.float64)) + 1e-20))


def _at(samples: np.ndarray, a: float, b: float) -> np.ndarray:
    return samples[:, round(a * RATE) : round(b * RATE)]


def test_speech_is_shown_a_span_is_silenced_and_the_voices_disguised(browser: object, tmp_path: Path) -> None:  # noqa: F811
    folder = tmp_path / "clips"
    folder.mkdir()
    clip = folder / "talk.mp4"
    write_clip(clip, SECONDS, [Sound(talking(SECONDS))], fps=FPS, size=(320, 240))  # a voice from 1 s to 5 s
    out, report, regions = tmp_path / "out", tmp_path / "report.json", tmp_path / "out.regions.json"
    with review_server(folder, "-o", out, "--report", report) as server:
        tab = Tab(browser, server, tmp_path / "screens")
        tab.all_ready(1)
        tab.open("talk.mp4")
        tab.page.wait_for_selector("#sound .bar.speech")  # listened to: where speech is heard, drawn
        drawn = tab.page.eval_on_selector_all(  # each bar's start and end, in % of the lane
            "#sound .bar.speech", "bars => bars.map(b => [parseFloat(b.style.left), parseFloat(b.style.width)])"
        )
        spans = [(left * SECONDS / 100, (left + width) * SECONDS / 100) for left, width in drawn]
        assert spans and spans[0][0] >= 0.95 and spans[-1][1] <= 5.2, spans  # the voice is heard from 1 s to 5 s
        assert tab.page.input_value("#voice") == "keep" and not tab.page.is_hidden("#soundbar")
        tab.shot("speech-on-the-timeline")

        # A span from frame 20 (2.0 s) to frame 29's end (3.0 s): S with the keyboard, then the button.
        tab.frame(20)
        tab.page.focus("#stage")
        tab.page.keyboard.press("s")
        tab.page.wait_for_function("() => document.querySelector('#marking').textContent.startsWith('Silencing from')")
        tab.page.wait_for_selector("#sound .bar.marking")
        tab.frame(29)
        tab.shot("span-started")
        tab.page.click("#silenceend")
        tab.page.wait_for_function("() => document.querySelectorAll('#spans li').length === 1")
        tab.saved()
        assert tab.regions_file(regions)["silence"] == [[2.0, 3.0]]
        assert tab.page.locator("#sound .bar.silence").count() == 1
        # The list's refresh that follows a save (the row's sound changed) keeps what the page says of the save.
        tab.page.wait_for_timeout(1500)
        assert tab.page.text_content("#filestate") == "Saved"
        tab.shot("span-silenced")

        # A second span dragged along the "silenced" lane, then removed with its ✕.
        lane = tab.page.locator("#sound .silencelane").bounding_box()
        assert lane is not None
        y = lane["y"] + lane["height"] / 2
        tab.page.mouse.move(lane["x"] + lane["width"] * 0.70, y)
        tab.page.mouse.down()
        tab.page.mouse.move(lane["x"] + lane["width"] * 0.80, y, steps=5)
        assert tab.page.locator("#sound .bar.marking").count() == 1  # the span being dragged, drawn
        tab.shot("second-span-dragging")
        tab.page.mouse.up()
        tab.page.wait_for_function("() => document.querySelectorAll('#spans li').length === 2")
        tab.saved()
        assert len(tab.regions_file(regions)["silence"]) == 2  # type: ignore[arg-type]
        tab.shot("second-span-dragged")
        tab.page.click("#spans li:nth-child(2) button.remove")
        tab.page.wait_for_function("() => document.querySelectorAll('#spans li').length === 1")
        tab.saved()
        assert tab.regions_file(regions)["silence"] == [[2.0, 3.0]]
        tab.page.focus("#stage")
        tab.page.keyboard.press("Control+z")  # the removal undone, then done again
        tab.page.wait_for_function("() => document.querySelectorAll('#spans li').length === 2")
        assert tab.page.text_content("#marking") == "Undone"  # not the removal's line any more
        tab.saved()
        assert len(tab.regions_file(regions)["silence"]) == 2  # type: ignore[arg-type]
        tab.page.keyboard.press("Control+Shift+z")
        tab.page.wait_for_function("() => document.querySelectorAll('#spans li').length === 1")
        tab.saved()
        assert tab.regions_file(regions)["silence"] == [[2.0, 3.0]]

        tab.page.select_option("#voice", "disguise")
        tab.saved()
        assert tab.regions_file(regions)["voice"] == "disguise"
        tab.page.wait_for_function(  # the list says what the voices get
            "() => document.querySelector('#list').textContent.includes('voices disguised')"
        )
        tab.shot("voices-disguised")

        tab.page.focus("#stage")
        tab.approve_and_publish()
        assert tab.dialogs == []  # approving asked nothing: no face, nothing flagged
        tab.page.click("#finish")
        assert server.process.wait(timeout=60) == 0
        assert tab.errors == []

    entry = json.loads(report.read_text())["files"][0]
    assert entry["voice"]["setting"] == "disguise" and entry["voice"]["streams"][0]["silenced"] == [[2.0, 3.0]]
    assert entry["voice"]["asked"] == {"regions_file": "disguise", "at_least": "keep"}  # the page's choice, as it is
    (before,), _ = decode_tracks(clip)
    (after,), _ = decode_tracks(out / clip.name)
    assert after.samples.shape == before.samples.shape
    span_in, span_out = _at(before.samples, 2.05, 2.95), _at(after.samples, 2.05, 2.95)
    assert _level(span_in) > -40 and _level(span_out) < _level(span_in) - 40, (_level(span_in), _level(span_out))
    for a, b in ((1.1, 1.9), (3.1, 4.9)):  # the rest of the speech: heard, and disguised (not the input's)
        kept_in, kept_out = _at(before.samples, a, b), _at(after.samples, a, b)
        assert abs(_level(kept_out) - _level(kept_in)) < 10, (a, _level(kept_in), _level(kept_out))
        assert abs(np.corrcoef(kept_in[0], kept_out[0])[0, 1]) < 0.9
