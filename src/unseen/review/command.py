"""`unseen review PATH… -o OUT`: detect in the background, serve the review page, publish what is approved.

The decisions live in a regions file (default: OUT.regions.json beside the output folder, never inside it or
an input folder), saved at every change: running the command again resumes. Publishing writes the approved
photos through the same path as `unseen --regions` (obscure, strip, write, check, atomic publish); the
command ends when the person presses Finish on the page or Ctrl-C here, with the usual summary and exit code.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from unseen import stop
from unseen.config import ReviewConfig, RunConfig
from unseen.detectors.presets import build_detector
from unseen.errors import EXIT_INTERRUPTED, EXIT_OK, UsageError
from unseen.names import display, printable
from unseen.outcome import finish, new_report
from unseen.paths import plan
from unseen.preflight import check_side_file, check_verify, check_voice, warn_weak_method
from unseen.review.browser import BrowserPage
from unseen.review.server import serve
from unseen.review.session import Review, check_regions_path
from unseen.work import verifier


def review(asked: ReviewConfig) -> int:
    """The review of `asked` (arguments.review_config), to its exit code."""
    config = asked.run
    assert config.output is not None  # -o is required
    jobs = plan(config.inputs, config.output, config.fmt, writing=True)
    for job in jobs:  # what cannot be reviewed is said at once, as a run says it
        if job.problem is not None and not job.skipped:
            print(printable(f"unseen: {display(job.source)}: {job.problem}"), file=sys.stderr)
    if not any(job.problem is None for job in jobs):
        raise UsageError("no photos or videos to review in the given paths")
    path = asked.regions or default_regions(config.output)
    check_regions_path(path, config.inputs, config.output)
    if config.report is not None:
        check_side_file(config.report, config.inputs, jobs, config.photo.overwrite, "report")
    check_verify(config)
    check_voice(config, jobs)
    warn_weak_method(config)
    detector = build_detector(config.quality, config.threshold)
    session = Review(jobs, config.inputs, path, config.photo, detector, verifier(config), config.video.voice)
    session.start()  # the first photo is searched while the server starts
    with serve(session) as guard:
        print(f"unseen review: open {guard.url}", flush=True)
        if not config.quiet:
            print(
                f"unseen review: decisions are saved in {display(path)} as you go; press Finish on the page, "
                "or Ctrl-C here, to end",
                file=sys.stderr,
                flush=True,
            )
        if session.others:
            plural = "s" if len(session.others) > 1 else ""
            print(
                f"unseen review: {display(path)} also holds decisions for {len(session.others)} file{plural} "
                "not reviewed here (not among the inputs, changed, or videos): kept in it as they were",
                file=sys.stderr,
            )
        opened = BrowserPage(guard.url)
        if asked.browser:
            threading.Thread(target=_open, args=(opened,), daemon=True).start()
            threading.Thread(target=_forget, args=(opened, guard.exchanged), daemon=True).start()
        try:
            while not session.finished.wait(0.2) and not stop.requested():
                pass
            session.wait_publishing()
        finally:
            opened.remove()
    session.close()
    return _end(session, config, path)


def default_regions(out: Path) -> Path:
    name = out.name or out.resolve().name
    return out.parent / f"{name}.regions.json"


def _open(page: BrowserPage) -> None:
    """The browser opened on a page that leads to the address: never the secret in its arguments."""
    # Without a screen, Python's webbrowser falls back to a text browser that would take over this terminal.
    headless = sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless or not page.open():
        page.remove()
        print("unseen review: no browser could be opened here; open the address above in one", file=sys.stderr)


def _forget(page: BrowserPage, exchanged: threading.Event) -> None:
    """The page with the secret deleted once a browser has brought the secret (webbrowser may wait for the
    browser it started to end: not this)."""
    exchanged.wait()
    page.remove()


def _end(session: Review, config: RunConfig, path: Path) -> int:
    report = new_report(config, None)
    with session.lock:
        report.files = [item.published for item in session.items if item.published is not None]
        approved = sum(1 for item in session.items if item.entry is not None and item.entry.approved)
        total = len(session.items)
    interrupted = stop.requested() and session.publishing.total > session.publishing.done
    if not config.quiet or interrupted:
        what = "interrupted while publishing" if interrupted else "ended"
        print(
            f"unseen review: {what}; {approved} of {total} files approved, {len(report.files)} published; "
            f"decisions in {display(path)}",
            file=sys.stderr,
        )
    if interrupted:
        return EXIT_INTERRUPTED
    if not report.files:
        return EXIT_OK  # nothing was asked to be written: the decisions are saved for the next review
    return finish(report, config)
