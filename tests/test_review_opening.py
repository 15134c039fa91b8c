"""`unseen review` opening the browser: the page's secret is in no process's arguments (which any user of the
computer can read), the page the browser is given is the user's alone and leads to the review, and it is
deleted once the secret has been exchanged. The browser is a stand-in named by BROWSER (as Python's webbrowser
reads it) that records what it was given, follows the page as a browser would, and stays alive."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from review_helpers import URL, make_photos

pytestmark = pytest.mark.slow

FAKE_BROWSER = """#!{python}
import json, os, re, stat, sys, time, urllib.request
from pathlib import Path
page = Path(sys.argv[1].removeprefix("file://"))
mode = stat.S_IMODE(os.stat(page).st_mode)
target = re.search(r'url=([^"]+)"', page.read_text()).group(1).replace("&amp;", "&")
record = {{"argv": sys.argv, "pid": os.getpid(), "mode": mode, "page": str(page)}}
Path(os.environ["FAKE_BROWSER_RECORD"]).write_text(json.dumps(record))
urllib.request.urlopen(target).read()  # the secret exchanged, as the browser does when it follows the page
Path(os.environ["FAKE_BROWSER_RECORD"] + ".done").write_text("")
time.sleep(120)  # a browser stays open
"""


def _every_command_line() -> list[bytes]:
    lines = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines.append((entry / "cmdline").read_bytes())
            except OSError:  # gone meanwhile, or not ours to read
                continue
    return lines


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc")
def test_the_secret_is_in_no_process_arguments_while_the_browser_is_opened(tmp_path: Path) -> None:
    make_photos(tmp_path / "photos")
    browser = tmp_path / "browser"
    browser.write_text(FAKE_BROWSER.format(python=sys.executable))
    browser.chmod(0o700)
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    record = tmp_path / "record.json"
    env = {
        **os.environ,
        "BROWSER": str(browser),
        "DISPLAY": ":99",  # a screen, so that unseen opens a browser
        "XDG_RUNTIME_DIR": str(runtime),
        "FAKE_BROWSER_RECORD": str(record),
        "PYTHONUNBUFFERED": "1",
    }
    cmd = [sys.executable, "-m", "unseen", "review", str(tmp_path / "photos"), "-o", str(tmp_path / "out")]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    fake_pid = None
    try:
        assert process.stdout is not None
        found = URL.search(process.stdout.readline())
        assert found is not None
        secret = found.group(3).encode()
        scans = 0
        deadline = time.monotonic() + 60
        while not Path(f"{record}.done").exists() and time.monotonic() < deadline:
            assert not any(secret in line for line in _every_command_line())
            scans += 1
        assert Path(f"{record}.done").exists(), "the stand-in browser was not opened"
        assert not any(secret in line for line in _every_command_line())  # the browser alive, on the page
        seen = json.loads(record.read_text())
        fake_pid = seen["pid"]
        page = Path(seen["page"])
        assert seen["argv"][1:] == [page.as_uri()] and page.parent == runtime
        assert seen["mode"] == stat.S_IRUSR | stat.S_IWUSR  # 0600
        deadline = time.monotonic() + 10
        while page.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not page.exists()  # deleted once the secret was exchanged
        assert scans > 0 and list(runtime.iterdir()) == []
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        if fake_pid is not None:
            os.kill(fake_pid, signal.SIGKILL)


def test_without_a_runtime_folder_the_page_is_in_a_private_folder_and_removed_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from unseen.review.browser import BrowserPage

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "missing"))
    page = BrowserPage("http://127.0.0.1:1/?key=abc&x=<y>")
    path = page.write()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert 'url=http://127.0.0.1:1/?key=abc&amp;x=&lt;y&gt;"' in text and "<y>" not in text
    assert re.search(r"<script", text) is None
    page.remove()
    assert not path.exists() and not path.parent.exists()
    assert page.open() is False  # removed for good: never written again
