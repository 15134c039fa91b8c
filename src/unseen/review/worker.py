"""The review's background work, at a lower priority than the page: in one thread, each file searched in the
list's order (it becomes reviewable as it finishes), then the residual check on each one's decisions, covered
as the page previews them (in memory), so that the list can say which files need a look; a changed file is
checked again once the person pauses. In a second thread, beside the search, each video listened to for where
speech is heard (for its timeline; the voice-activity detector runs many times faster than the search).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace

import numpy as np

from unseen import decisions, regions, stop
from unseen.audio.streams import AudioReadError
from unseen.audio.voice import speech_heard
from unseen.faces import Faces
from unseen.obscure import obscure
from unseen.review import checks
from unseen.review.state import FAILED, READY, SEARCHING, WAITING, Item, State, video_of
from unseen.verify.photo_check import Verifier
from unseen.verify.residual import residuals

# Seconds after a change before its file is checked again: a person drawing several regions is not slowed by
# a check of each intermediate state (which would compete with the preview for the CPU).
CHECK_DELAY = 1.5
SEARCH_NICENESS = 10  # added to the search's niceness: scrubbing and previews stay quick while it goes on


class Worker:
    """Searches and checks the files of `review`; `check` is also what publishing runs on a file not checked yet."""

    def __init__(self, review: State) -> None:
        self.review = review
        self._closing = False
        self._thread = threading.Thread(target=self._work, name="unseen-review", daemon=True)
        self.listener = Listener(review)  # where speech is heard in each video, beside the search

    def start(self) -> None:
        self._thread.start()
        self.listener.start()

    def close(self) -> None:
        self.listener.close()
        with self.review.lock:
            self._closing = True
            self.review.wake.notify_all()
        if self._thread.is_alive():  # never started: nothing to wait for
            self._thread.join(timeout=60)

    def _work(self) -> None:
        lower_priority()
        while True:
            with self.review.lock:
                task = self._next()
                while task is None and not self._closing:
                    self.review.wake.wait(CHECK_DELAY)  # a check waits for the person to pause
                    task = self._next()
                if self._closing or task is None:
                    return
            if stop.requested():
                return
            task()

    def _next(self) -> Callable[[], None] | None:
        """Detection first, in the list's order (files become reviewable one by one), then the checks."""
        for item in self.review.items:
            if item.state == WAITING:
                return lambda item=item: self._detect(item)  # type: ignore[misc]  # the default binds this item
        settled = time.monotonic() - CHECK_DELAY
        for item in self.review.items:
            if item.state == READY and item.checked != item.revision and item.edited <= settled:
                return lambda item=item: self.check(item)  # type: ignore[misc]  # the default binds this item
        return None

    def _detect(self, item: Item) -> None:
        if item.job.problem is not None:
            with self.review.lock:
                item.state, item.reason = FAILED, item.job.problem
            return
        if self.review.kinds.of(item.job) is self.review.kinds.videos:
            self._detect_video(item)
            return
        found: list[regions.AnyEntry] = []
        shown: list[np.ndarray] = []  # the photo's pixels as shown: the page's views are made from them
        report = self.review.kinds.photos.search(item.job, item.name, found, shown)
        with self.review.lock:
            if report.status != "done" or not found:
                item.state, item.reason = FAILED, report.reason
                return
            pixels = shown[0]
            item.entry, item.state = found[0], READY
            self.review.save()
        self.review.images.keep(item.index, pixels)
        if abs(item.index - self.review.viewed) == 1:  # found after the photo beside it was shown: its view made ahead
            self.review.images.warm(item.index)
        self.check(item, pixels)

    def _detect_video(self, item: Item) -> None:
        """A video searched and tracked as a plain run does (kinds.Videos.search). While it is searched, its frames
        and the tracks found so far can be looked at (not changed); it is reviewable once done."""
        gatherer = decisions.TrackGatherer()
        stop_showing = threading.Event()
        try:
            width, height, frames, fps = self.review.source(item.index).probe()
        except Exception:  # the search says what is wrong with the file, in its one line
            stop_showing.set()
        else:
            with self.review.lock:
                item.entry = regions.VideoEntry(item.name, "", width, height, frames, fps, [])
                item.state = SEARCHING
            showing = threading.Thread(target=self._show_partial, args=(item, gatherer, stop_showing), daemon=True)
            showing.start()
        found: list[regions.AnyEntry] = []
        report = self.review.kinds.videos.search(item.job, item.name, found, gatherer)
        stop_showing.set()
        with self.review.lock:
            if report.status != "done" or not found:
                item.entry, item.state, item.reason = None, FAILED, report.reason
                return
            item.entry, item.state = self.review.voiced(found[0]), READY
            item.revision += 1  # the page reloads the finished tracks; the worker checks them next
            self.review.save()

    def _show_partial(self, item: Item, gatherer: decisions.TrackGatherer, done: threading.Event) -> None:
        """Every second, the tracks found so far become the video's (read-only) entry."""
        while not done.wait(1.0):
            with self.review.lock:
                entry = video_of(item.entry)
            if entry is None or item.state != SEARCHING:
                return
            tracks = gatherer.built(entry.width, entry.height)
            with self.review.lock:
                if item.state == SEARCHING:
                    item.entry = replace(entry, tracks=tracks)
                    item.searched = gatherer.released
                    item.revision += 1

    def check(self, item: Item, pixels: np.ndarray | None = None) -> None:
        """The residual check on the decisions as they would be written: a face it still finds is a reason to look
        (publishing checks the written file again). The result is kept only if the decisions did not change."""
        with self.review.lock:
            revision, entry = item.revision, item.entry
        if self.review.verifier is None:
            found: Faces | list[int] = Faces()
        elif (video := video_of(entry)) is not None:
            current = lambda: item.revision == revision  # noqa: E731 (asked between frames)
            flagged = checks.flagged_frames(
                item.job.source, video, self.review.options, self.review.verifier.detector, current
            )
            if flagged is None:
                return
            found = flagged
        else:
            found = self._photo_residuals(item.index, self.review.verifier, pixels)
        with self.review.lock:
            if item.revision != revision:
                return
            if isinstance(found, Faces):
                item.residuals = found
            else:
                item.flagged = found
            item.checked = revision
            if len(self.review.flags(item) or Faces()):
                self.review.reopen(item)

    def _photo_residuals(self, index: int, verifier: Verifier, pixels: np.ndarray | None) -> Faces:
        """The faces the check finds in the photo's pixels obscured as the page previews them."""
        kept = self.review.kept(index)
        if pixels is None:
            pixels = self.review.images.pixels(index)
        o = self.review.options
        return residuals(obscure(pixels, kept, o.method, o.strength, o.grow), kept, verifier.detector, o.grow)


def lower_priority() -> None:
    """The calling thread at a lower priority than the page: on Linux a thread's niceness is its own, and the
    threads it starts (the video pipeline's, ONNX Runtime's pool, made on first use) inherit it."""
    with suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), SEARCH_NICENESS)


class Listener:
    """Listens to each video of `review` in the list's order (audio/voice.speech_heard: every audio stream of the
    original, through the voice-activity detector), in a thread of its own beside the search, so that a video's
    speech is on its timeline early and a long search never waits for it, nor it for the search."""

    def __init__(self, review: State) -> None:
        self.review = review
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._work, name="unseen-review-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._closing.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)  # a daemon thread: one long file's listening is not waited for

    def _work(self) -> None:
        lower_priority()
        for item in self.review.items:
            if self._closing.is_set() or stop.requested():
                return
            if item.job.problem is None and self.review.kinds.of(item.job) is self.review.kinds.videos:
                self._listen(item)

    def _listen(self, item: Item) -> None:
        try:
            heard, unheard = speech_heard(item.job.source), None
        except AudioReadError as error:  # the page says so; publishing says it again in the file's line
            heard, unheard = None, f"its sound cannot be listened to ({error})"
        except Exception:  # anything else: this video's timeline goes without, the next ones are listened to
            heard, unheard = None, "its sound could not be listened to"
        with self.review.lock:
            item.speech, item.unheard = heard, unheard
