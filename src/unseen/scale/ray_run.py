"""The same job on Ray: `unseen IN -o OUT --ray` (a local Ray started for the run) or `--ray ADDRESS`.

Every file goes through the very function a local run gives it (work.make_work: the photo or video pipeline,
or a regions file's decisions), built in each worker from the run's config.RunConfig and the regions file's
decisions, which are all that is pickled; so outputs and reports are the same. What Ray adds is where it runs:

- photos: a Ray Data stream of the planned jobs (paths) into an actor pool. Each actor makes its own ONNX
  Runtime sessions, in its process, with as many intra-op threads as the CPUs it holds (1), and reads,
  decodes, detects, obscures, encodes, checks and publishes each photo (publish.py: a temporary name, the
  check, then a hard link that never replaces a file). Actors ask for half a CPU each, so that Ray's own
  tasks always have room (a pool holding every CPU once deadlocked).
- videos: one task per video, largest first, each streamed inside its task as in a local run; each task holds
  the cluster's CPUs / --ray-workers (at least 1), so that as many videos as workers run at once.
- a task that Ray retries, or runs twice, never leaves a second copy or a partial file: a temporary file of a
  killed try is unlocked and removed by the next try of the same output; a try that finds its output already
  published by an earlier try of this run writes it again under overwrite (the same bytes, an atomic replace).
- a re-run skips a file whose output exists (its report line says so), unless --overwrite: a run stopped
  halfway resumes.
- Ctrl-C, SIGTERM or SIGHUP: the stream stops, Ray is shut down (its workers are killed, so a file they were
  writing is never published; their temporary files are swept by the next run), one line says what was written.

Paths are the driver's: every node must see the inputs and outputs at the same paths (a shared file system),
and workers run in the driver's working folder.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pickle
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

from unseen import device, privacy, publish, stop
from unseen.config import RunConfig
from unseen.errors import UsageError
from unseen.kinds import is_video_job
from unseen.names import display
from unseen.paths import Job
from unseen.report import ALREADY_DONE, FileReport
from unseen.work import Decided, Work, make_work

LOCAL = "local"  # --ray with no address: a Ray started for this run on this machine
ACTOR_CPUS = 0.5  # per photo actor: leaves room for Ray Data's own tasks (a full CPU each once deadlocked)
NEEDS_RAY = "--ray needs Ray: pip install 'unseen[ray]'"

# What a worker is handed: the run, the regions file's decisions, where detection runs, the driver's folder.
Spec = tuple[RunConfig, Decided, device.Setting, str]


def check_address(address: str) -> None:
    """A cluster address, not a path swallowed by --ray (`unseen --ray photos/ -o safe/`)."""
    if address != LOCAL and (Path(address).exists() or "/" in address.removeprefix("ray://")):
        raise UsageError(f"--ray {address}: not a Ray address (give --ray after the paths, or --ray=ADDRESS)")


def threads_for(cpus: float) -> int:
    """ONNX Runtime's intra-op threads for a worker holding `cpus` CPUs (Ray sets OMP_NUM_THREADS=1, which ONNX
    Runtime's own pool does not read)."""
    return max(1, round(cpus))


class RayBatch:
    """What batch.Batch is for a local run (both are batch.Batches): each job's report as it finishes (progress),
    `reports` in the jobs' order at the end, and `drain` on interruption. Ray starts (or is joined) here."""

    def __init__(self, config: RunConfig, jobs: list[Job], decided: Decided, setting: device.Setting) -> None:
        assert config.ray is not None
        check_address(config.ray)
        if importlib.util.find_spec("ray") is None:
            raise UsageError(NEEDS_RAY)
        self.address, self.jobs, self.config, self.decided = config.ray, jobs, config, decided
        self.setting, self.workers = setting, config.ray_workers
        self._found: dict[int, FileReport] = {}
        self._fresh: list[int] = []  # jobs sent to Ray: their outputs did not exist when the run started
        self._temp: str | None = None
        self._ray: Any = None
        self._stderr: _NativeQuiet | None = None

    def _start(self) -> Any:
        """Ray started for this run, or joined (only when there is something to send it)."""
        self._stderr = _NativeQuiet()
        self._ray = _start(self.address, self)
        self.workers = self.workers or max(1, int(self._ray.cluster_resources().get("CPU", 1)))
        stop_handlers()
        return self._ray

    @property
    def reports(self) -> list[FileReport]:
        return [self._found[i] for i in sorted(self._found)]

    def __iter__(self) -> Iterator[FileReport]:
        try:
            yield from self._here()
            if self._fresh:
                self._start()
            photos = [i for i in self._fresh if not is_video_job(self.jobs[i])]
            videos = [i for i in self._fresh if is_video_job(self.jobs[i])]
            if photos:
                yield from self._photos(photos)
            if videos:
                yield from self._videos(videos)
        finally:
            self.close()

    def _record(self, index: int, report: FileReport) -> FileReport:
        self._found[index] = report
        stop.check()  # after it is recorded: an interrupted run's report lists it
        return report

    def _here(self) -> Iterator[FileReport]:
        """Jobs the planner already judged (their report needs no Ray), and outputs done by an earlier run."""
        work = make_work(self.config, self.decided)
        for index, job in enumerate(self.jobs):
            if job.problem is not None:
                yield self._record(index, work(job))
            elif not self.config.photo.overwrite and (done := _existing(job)) is not None:
                report = FileReport(input=display(job.source), output=display(done), status="skipped")
                report.reason = ALREADY_DONE
                yield self._record(index, report)
            else:
                self._fresh.append(index)

    def _photos(self, indices: list[int]) -> Iterator[FileReport]:
        ray = self._ray
        rows = [{"index": i, "job": pickle.dumps(self.jobs[i])} for i in indices]
        gpu = (self.setting.providers or ("",))[0] == device.CUDA
        setting = replace(self.setting, threads=threads_for(ACTOR_CPUS))
        stream = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
            _photos_actor((self.config, self.decided, setting, os.getcwd())),
            compute=ray.data.ActorPoolStrategy(size=min(self.workers or 1, len(rows))),
            num_cpus=ACTOR_CPUS,
            num_gpus=1 if gpu else None,
            batch_size=1,
        )
        for row in stream.iter_rows():
            yield self._record(int(row["index"]), pickle.loads(row["report"]))

    def _videos(self, indices: list[int]) -> Iterator[FileReport]:
        ray = self._ray
        cpus = max(1.0, float(ray.cluster_resources().get("CPU", 1)) // (self.workers or 1))  # N workers: N at once
        task = ray.remote(num_cpus=cpus)(_video)
        largest_first = sorted(indices, key=lambda i: -_size(self.jobs[i].source))
        setting = replace(self.setting, threads=threads_for(cpus))
        work = ray.put((self.config, self.decided, setting, os.getcwd()))
        pending = {task.remote(work, pickle.dumps(self.jobs[i])): i for i in largest_first}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
            stop.check()
            for ref in ready:
                yield self._record(pending.pop(ref), pickle.loads(ray.get(ref)))

    def drain(self) -> list[FileReport]:
        """Stop: Ray shut down (its workers killed, so nothing more is published), the temporary files of the files
        they were writing removed, and the reports received."""
        self.close()
        for folder in {self.jobs[i].target.parent for i in self._fresh}:
            publish.remove_leftovers(folder)  # only unlocked ones: a worker still alive keeps its own
        return self.reports

    def written(self) -> int:
        """How many outputs this run published (also those whose report a stop cut off)."""
        return sum(1 for i in self._fresh if _existing(self.jobs[i]) is not None)

    def close(self) -> None:
        if self._ray is not None and self._ray.is_initialized():
            with suppress(Exception):
                self._ray.shutdown()
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None
        if self._stderr is not None:
            self._stderr.restore()


class _NativeQuiet:
    """Ray's C++ core prints its own log lines (and on SIGTERM a stack trace) straight to file descriptor 2: while
    Ray runs, that descriptor goes to /dev/null and unseen's own lines (progress, a file's problem) to a copy of
    the real stderr."""

    def __init__(self) -> None:
        sys.stderr.flush()
        self.original = sys.stderr
        self.saved = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)
        encoding = getattr(self.original, "encoding", None) or "utf-8"
        sys.stderr = os.fdopen(os.dup(self.saved), "w", buffering=1, encoding=encoding, errors="backslashreplace")

    def restore(self) -> None:
        if self.saved < 0:
            return
        with suppress(OSError, ValueError):
            sys.stderr.flush()
        os.dup2(self.saved, 2)
        os.close(self.saved)
        self.saved = -1
        sys.stderr = self.original  # the copy stays open: a progress bar may still write its last line to it


class _Photos:
    """A photo actor: its own sessions (made at its first photo, in its process), the local run's worker."""

    def __init__(self, spec: Spec) -> None:
        self.work, self.redo, self.overwrite = _in_worker(spec)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        reports = [pickle.dumps(_once(pickle.loads(job), self.work, self.redo, self.overwrite)) for job in batch["job"]]
        return {"index": list(batch["index"]), "report": reports}


def _photos_actor(spec: Spec) -> type[_Photos]:
    """The actor class with its arguments inside: Ray ships a class with the job, while constructor arguments would
    sit in the object store, which a restarted actor might no longer find (Ray warns of it)."""

    class Photos(_Photos):
        def __init__(self) -> None:
            super().__init__(spec)

    return Photos


def _video(spec: Spec, job: bytes) -> bytes:
    """One video, in a Ray task."""
    work, redo, overwrite = _in_worker(spec)
    return pickle.dumps(_once(pickle.loads(job), work, redo, overwrite))


def _in_worker(spec: Spec) -> tuple[Work, Work, bool]:
    """This process set up as the driver's, and the run's work: as asked, and overwriting (for `_once`)."""
    config, decided, setting, cwd = spec
    privacy.quiet_libraries()
    privacy.no_core_dumps()  # a worker holds the originals' pixels too
    os.chdir(cwd)  # the job's paths are the driver's, on a file system every node sees
    device.use(setting)
    work, redo = make_work(config, decided), make_work(config.overwriting(), decided)
    return work, redo, config.photo.overwrite


def _once(job: Job, work: Work, redo: Work, overwrite: bool) -> FileReport:
    """`job` done once whatever Ray retries: an output found published (by an earlier try of this run, its report
    lost with its worker, or by a duplicate of this task) is written again in place, the same bytes, atomically."""
    if overwrite:
        return work(job)
    if _existing(job) is not None:
        return redo(job)
    report = work(job)
    if report.status == "failed" and _existing(job) is not None:
        return redo(job)
    return report


def _existing(job: Job) -> Path | None:
    """The output of `job` already on disk, if any (a video's may take .mp4 when its container cannot hold the
    codec)."""
    names = [*job.final_targets(), job.target.with_suffix(job.source.suffix), job.target.with_suffix(".mp4")]
    return next((p for p in names if p.exists()), None) if job.problem is None else None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _start(address: str, batch: RayBatch) -> Any:
    """Ray imported quietly, then started for this run (LOCAL) or joined; Ray's usage statistics are off in the
    driver and in every worker of the job."""
    privacy.quiet_libraries()
    if address == LOCAL:
        # Token authentication on, with a token made for this run and held in memory (Ray would otherwise write
        # ~/.ray/auth_token); set before Ray is imported, which reads it then.
        os.environ["RAY_AUTH_MODE"] = "token"
        os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
        os.environ.pop("RAY_AUTH_TOKEN_PATH", None)
    try:
        import ray
        import ray.data
    except ImportError:
        raise UsageError(NEEDS_RAY) from None
    for name in ("ray", "ray.data", "ray.serve"):
        logging.getLogger(name).setLevel(logging.ERROR)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # unseen's own bar counts files
    context.print_on_execution_start = False
    settings: dict[str, Any] = {
        "include_dashboard": False,
        "logging_level": logging.ERROR,
        "log_to_driver": False,
        "runtime_env": {"env_vars": dict(privacy.OFFLINE_ENVIRONMENT)},
    }
    if address == LOCAL:  # Ray's session folder (logs, sockets, spilled objects): this run's, removed at the end
        batch._temp = tempfile.mkdtemp(prefix="unseen-ray-", dir=_short_temp())
        settings.update(num_cpus=os.cpu_count() or 1, _temp_dir=batch._temp)
    else:
        settings["address"] = address
    try:
        ray.init(**settings)
    except Exception as error:
        batch.close()
        where = "start a local Ray" if address == LOCAL else f"connect to Ray at {address}"
        raise UsageError(f"cannot {where}: {' '.join(str(error).split())[:300]}") from None
    return ray


def _short_temp() -> str:
    """The temporary folder ($TMPDIR), or /tmp where that is too deep: Ray's sockets live in its session folder,
    and a socket's path must fit in 107 bytes (about 25 are left for the folder above unseen's)."""
    given = tempfile.gettempdir()
    return given if len(os.fsencode(given)) <= 24 or not os.path.isdir("/tmp") else "/tmp"


def stop_handlers() -> None:
    """unseen's own handling of Ctrl-C, SIGTERM and SIGHUP again: Ray's driver installs handlers that print a
    native stack trace on SIGTERM."""
    was = stop.requested()
    stop.install()
    if was:
        stop.request()
