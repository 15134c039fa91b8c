"""Publishing a review: every approved file written as decided (decisions.apply / apply_video: obscure, strip,
write, check, atomic publish), in a thread of its own. A photo with a face the check sees and no one answered
is not written: publishing checks its decisions first if the worker has not yet, and a photo whose written
output the check flags goes back to needing a look.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from unseen import decisions, regions, stop
from unseen.faces import Faces
from unseen.review import flags
from unseen.review.state import Item, Publishing, State
from unseen.review.worker import Worker


class Publisher:
    """Writes the approved files of `review`; its progress is `review.publishing`."""

    def __init__(self, review: State, worker: Worker) -> None:
        self.review, self.worker = review, worker

    def start(self) -> bool:
        """Start writing every approved file not yet written as it is now; False if a publish is running."""
        with self.review.lock:
            if self.review.publishing.running:
                return False
            todo = [
                item
                for item in self.review.items
                if item.entry is not None and item.entry.approved and item.published_revision != item.revision
            ]
            self.review.publishing = Publishing(True, 0, len(todo))
        threading.Thread(target=self._publish, args=(todo,), name="unseen-publish", daemon=True).start()
        return True

    def _publish(self, todo: list[Item]) -> None:
        try:
            for item in todo:
                if stop.requested():
                    break
                if not self._publishable(item):
                    continue
                with self.review.lock:
                    entry, revision = item.entry, item.revision
                    again = item.published is not None and item.published.status == "done"
                assert entry is not None
                # A file this review wrote before is replaced by its corrected version; anything else at the
                # output's name is kept unless --overwrite was given.
                options = replace(self.review.options, overwrite=self.review.options.overwrite or again)
                if isinstance(entry, regions.VideoEntry):
                    report = decisions.apply_video(
                        item.job, entry, options, self.review.video_options, self.review.verifier
                    )
                else:
                    report = decisions.apply(item.job, entry, options, self.review.verifier)
                with self.review.lock:
                    item.published, item.published_revision = report, revision
                    self.review.publishing.done += 1
                    if isinstance(entry, regions.Entry) and item.revision == revision:
                        # What the check found in the file as written: not left looking done.
                        item.output_flags = flags.from_report(report.residuals)
                        if len(self.review.flags(item) or Faces()):
                            self.review.reopen(item)
        finally:
            with self.review.lock:
                self.review.publishing.running = False

    def _publishable(self, item: Item) -> bool:
        """Whether a photo may be written: its decisions checked (now, if the worker has not yet) and every flag
        answered; else it is held, with the reason the page shows."""
        with self.review.lock:
            item.held = None
            unchecked = isinstance(item.entry, regions.Entry) and item.checked != item.revision
        if unchecked and self.review.verifier is not None:
            self.worker.check(item)
        with self.review.lock:
            pending = self.review.flags(item)
            if pending is not None and len(pending):
                item.held = flags.said(len(pending))
                self.review.publishing.done += 1
                return False
            return True

    def wait(self) -> None:
        while True:
            with self.review.lock:
                if not self.review.publishing.running:
                    return
            self.review.finished.wait(0.1)
