"""Opening the person's browser on the review page, without the page's secret in any process's arguments.

`webbrowser.open(url)` starts the browser with the address in its command line, which any user of the computer
can read (`ps`, /proc/*/cmdline). So the browser is given a file:// address instead, as Jupyter does: a small
page, readable by this user only (0600, in XDG_RUNTIME_DIR, else in a private temporary folder), that refreshes
to the address with the secret. The page is deleted once a browser has exchanged the secret for its cookie,
and at the end of the review whatever happened. The printed address works as before for a person who opens it
by hand.
"""

from __future__ import annotations

import html
import os
import shutil
import stat
import tempfile
import threading
import webbrowser
from pathlib import Path

from unseen.system import owner

FOLDER_PREFIX = "unseen-review-"


class BrowserPage:
    """The redirecting page for `url`; `open()` shows it in the default browser, `remove()` deletes it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.folder: Path | None = None  # a private folder made for the page (removed with it)
        self.path: Path | None = None
        self.lock = threading.Lock()
        self.closed = False  # removed for good: the review ended before the browser was opened

    def write(self) -> Path:
        folder = _runtime_folder()
        if folder is None:
            folder = self.folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))  # 0700
        fd, name = tempfile.mkstemp(prefix=FOLDER_PREFIX, suffix=".html", dir=folder)  # 0600, a fresh name
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(_page(self.url))
        self.path = Path(name)
        return self.path

    def open(self) -> bool:
        """Whether a browser was started on the page."""
        with self.lock:
            if self.closed:
                return False
            path = self.write()
        return webbrowser.open(path.as_uri(), new=2)

    def remove(self) -> None:
        with self.lock:
            self.closed = True
            if self.path is not None:
                self.path.unlink(missing_ok=True)
                self.path = None
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder = None


def _runtime_folder() -> Path | None:
    """The user's runtime folder (XDG_RUNTIME_DIR) if it is theirs and private, else None (Windows and macOS
    have none: a private temporary folder is made instead)."""
    value = os.environ.get("XDG_RUNTIME_DIR")
    user = owner.effective_user()
    if not value or user is None:
        return None
    try:
        info = os.stat(value)
    except OSError:
        return None
    private = owner.owned_by(info, user) and not info.st_mode & 0o077
    return Path(value) if private and stat.S_ISDIR(info.st_mode) else None


def _page(url: str) -> str:
    target = html.escape(url, quote=True)
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">\n'
        f'<meta http-equiv="refresh" content="0;url={target}">\n'
        '<meta name="referrer" content="no-referrer">\n<title>unseen review</title></head>\n'
        f'<body><p><a href="{target}">Open the review page</a></p></body></html>\n'
    )
