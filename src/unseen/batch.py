"""Many files in order: photos overlapped two at a time, videos alone, and on interruption what was in flight.

PHOTO_WORKERS photos are in flight at once so that one is decoded and encoded while another is searched (ONNX
Runtime, Pillow and OpenCV release the GIL). A video runs alone on the calling thread: it overlaps its own
stages, and Ctrl-C must stop it at once. When the run is interrupted, `drain` waits for the photos in flight
(each is then published already, or never will be: unseen.publish) and returns their reports.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from typing import Protocol

from unseen import publish, stop
from unseen.paths import Job
from unseen.report import FileReport

PHOTO_WORKERS = 2


class Batches(Protocol):
    """What the command needs of a batch, here (Batch) or on Ray (scale.ray_run.RayBatch)."""

    def __iter__(self) -> Iterator[FileReport]:
        """Each job's report as it is done (each recorded before it is yielded)."""
        ...

    @property
    def reports(self) -> list[FileReport]:
        """Every finished job's report, in the jobs' order."""
        ...

    def drain(self) -> list[FileReport]:
        """Stop: start no other job, let those in flight end, and return every finished job's report."""
        ...

    def written(self) -> int:
        """How many outputs this batch published."""
        ...


class Batch:
    def __init__(self, jobs: list[Job], work: Callable[[Job], FileReport], alone: Callable[[Job], bool]) -> None:
        self.jobs, self.work, self.alone = jobs, work, alone
        self._published = len(publish.published())  # what this process published before the batch
        self._pool = ThreadPoolExecutor(PHOTO_WORKERS, thread_name_prefix="unseen-photo")
        self._pending: deque[Future[FileReport]] = deque()
        self.reports: list[FileReport] = []  # every finished job's report, in order (drain adds the last ones)

    def __iter__(self) -> Iterator[FileReport]:
        """Each job's report, in the jobs' order; each is in `reports` before it is yielded, so that an interruption
        (a KeyboardInterrupt anywhere in the caller's loop) loses none."""
        for job in self.jobs:
            stop.check()  # Ctrl-C: no other file is started
            if self.alone(job):
                yield from self._finish_pending(0)
                yield self._record(self.work(job))
                continue
            self._pending.append(self._pool.submit(self.work, job))
            yield from self._finish_pending(PHOTO_WORKERS)
        yield from self._finish_pending(0)
        self._pool.shutdown()

    def _finish_pending(self, keep: int) -> Iterator[FileReport]:
        while len(self._pending) > keep:
            report = self._pending[0].result()  # the future stays pending until done, for `drain`
            self._pending.popleft()
            yield self._record(report)

    def _record(self, report: FileReport) -> FileReport:
        self.reports.append(report)
        return report

    def drain(self) -> list[FileReport]:
        """Stop: start no other job, wait for those in flight, and return every finished job's report."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        while self._pending:
            future = self._pending.popleft()
            try:
                self.reports.append(future.result())
            except (CancelledError, KeyboardInterrupt, SystemExit):
                continue  # never started, or the interruption itself (a library's sys.exit too)
        return self.reports

    def written(self) -> int:
        return len(publish.published()) - self._published
