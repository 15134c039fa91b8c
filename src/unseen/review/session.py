"""A review at work: its state and edits (state.py), the background search and check (worker.py), and publishing
(publishing.py), put together for the server and the command.
"""

from __future__ import annotations

from functools import cached_property

from unseen.review.publishing import Publisher
from unseen.review.state import FAILED, READY, SEARCHING, WAITING, Item, Stale, State, check_regions_path
from unseen.review.worker import Worker

__all__ = ["FAILED", "READY", "SEARCHING", "WAITING", "Item", "Review", "Stale", "check_regions_path"]


class Review(State):
    """The files, their decisions, the worker and publishing; every method is safe to call from the server's
    threads."""

    @cached_property
    def worker(self) -> Worker:
        return Worker(self)

    @cached_property
    def publisher(self) -> Publisher:
        return Publisher(self, self.worker)  # keeps no state of its own: self.publishing is the progress

    def start(self) -> None:
        self.worker.start()

    def close(self) -> None:
        self.worker.close()
        self.close_frames()

    def publish_approved(self) -> bool:
        """Start writing every approved file not yet written as it is now; False if a publish is running."""
        return self.publisher.start()

    def wait_publishing(self) -> None:
        self.publisher.wait()
