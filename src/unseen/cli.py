"""The `unseen` command: arguments in, one line per problem, a summary, an exit code out.

The command line is read once into a config.RunConfig (arguments.py); this module plans the jobs, runs the
checks that come before any file (preflight.py), runs each file's work (work.py) on a batch here or on Ray
(scale/ray_run.py), and ends with the report and summary (outcome.py).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import NoReturn

from unseen import decisions, device, errors, privacy, publish, regions, renaming, stop
from unseen.arguments import review_config, run_config
from unseen.batch import Batch, Batches
from unseen.config import RunConfig
from unseen.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Interrupted, UsageError
from unseen.kinds import is_video_job
from unseen.names import display, printable
from unseen.outcome import finish, named_as_asked, new_report, report_as_asked
from unseen.paths import Job, output_roots, plan
from unseen.preflight import check_side_file, check_verify, check_voice, warn_weak_method
from unseen.report import FileReport, RunReport
from unseen.video import describe_video
from unseen.work import Decided, detect_only, make_work


def command() -> NoReturn:
    """The `unseen` program: `main`, then an exit that neither a late signal nor a native library can spoil.

    Every output is published or removed and every stream closed when `main` returns. Python's finalization
    would then put the default action back on Ctrl-C (a second one would kill the process) and tear down
    ONNX Runtime's and FFmpeg's threads, which once crashed the process (SIGSEGV) after an interrupted video:
    the exit status would no longer say what was done. So the stop signals are ignored and the process ends
    at once, its output flushed.
    """
    code = main()
    stop.ignore()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; every problem a user can cause ends as one line on stderr and an exit code."""
    _printable_stderr()
    privacy.no_core_dumps()  # a core dump would hold the originals' pixels
    restore = stop.install()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv[:1] == ["review"]:  # `unseen review IN -o OUT`; a folder called review is ./review
            from unseen.review.command import review  # the review page's modules, only when asked for

            return review(review_config(argv[1:]))
        return _run(run_config(argv))
    except UsageError as error:
        print(f"unseen: {printable(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # before any file was started
        print("unseen: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit as done:  # --help, --version and argument errors: argparse's exit, as a return value
        return done.code if isinstance(done.code, int) else EXIT_USAGE
    finally:
        restore()


def _printable_stderr() -> None:
    """A file name or message that the terminal's encoding cannot show must never crash the run."""
    reconfigure = getattr(sys.stderr, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")


def _run(config: RunConfig) -> int:
    _check_regions_args(config)
    renaming.check_args(config.rename, config.rename_map, config.output, detect_only=config.detect_only)
    jobs = plan(config.inputs, config.output, config.fmt, writing=not config.detect_only, rename=config.rename)
    sides = ((config.report, "report"), (config.regions_out, "regions file"), (config.rename_map, "rename map"))
    for side, what in sides:
        if side is not None:
            check_side_file(side, config.inputs, jobs, config.photo.overwrite, what)
    decided = regions.load(config.regions) if config.regions is not None else {}
    if decided and config.regions is not None:
        _warn_unlisted(config.regions, decided, {decisions.name_of(job.source, config.inputs) for job in jobs})
    check_verify(config)
    check_voice(config, jobs)
    warn_weak_method(config)
    setting = device.select(config.device)
    found: list[regions.AnyEntry] = []
    report = new_report(config, describe_video(config.video, config.threshold))
    _remove_leftovers(config)
    started = time.perf_counter()
    batch = _batch(config, jobs, decided, found, setting)
    try:
        for _ in _with_progress(batch, len(jobs), config.quiet):
            pass
        stop.check()  # a signal during the last file: that file was not published
        report.files = batch.reports
    except (KeyboardInterrupt, Interrupted, SystemExit):
        # also when the interruption came from a worker, or a library ended the run with sys.exit (Ray's SIGTERM
        # handler does, where it got the signal first): nothing more is published, and the run says what it wrote
        stop.request()
        report.interrupted = True
        report.files = batch.drain()  # with the photos in flight: published before the signal, or not at all
    report.seconds = round(time.perf_counter() - started, 3)
    mapped = _write_rename_map(report, config)
    if report.interrupted:
        return _interrupted(report, config, batch.written())
    if config.regions_out is not None:
        _write_regions(config, jobs, found)
    code = finish(report, config)
    return EXIT_FAILED if code == EXIT_OK and not mapped else code


def _batch(
    config: RunConfig, jobs: list[Job], decided: Decided, found: list[regions.AnyEntry], setting: device.Setting
) -> Batches:
    """The jobs done here (photos two at a time, videos alone), or on Ray (unseen.scale.ray_run)."""
    if config.ray is None:
        work = detect_only(config, found) if config.detect_only else make_work(config, decided)
        return Batch(jobs, work, alone=is_video_job)
    from unseen.scale.ray_run import RayBatch  # Ray's modules, only when asked for

    if config.detect_only:
        raise UsageError("--regions-out is not run on Ray: leave out --ray")
    return RayBatch(config, jobs, decided, setting)


def _warn_unlisted(path: Path, decided: Decided, names: set[str]) -> None:
    """A regions file that names files not among the inputs (moved, renamed, another folder given): one line,
    so that decisions are never silently left unused."""
    missing = sorted(set(decided) - names)
    if missing:
        plural = "s" if len(missing) > 1 else ""
        print(
            printable(
                f"unseen: warning: {display(path)} lists {len(missing)} file{plural} not among the inputs "
                f"(e.g. {missing[0]}): nothing is written for {'them' if plural else 'it'}"
            ),
            file=sys.stderr,
        )


def _check_regions_args(config: RunConfig) -> None:
    if config.regions_out is not None and config.regions is not None:
        raise UsageError("--regions-out detects and --regions writes from decisions: give one of them")
    if config.regions_out is not None and config.output is not None:
        raise UsageError("--regions-out writes no output: leave out -o (then write with --regions FILE -o OUT)")


def _write_regions(config: RunConfig, jobs: list[Job], found: list[regions.AnyEntry]) -> None:
    """The decisions in the jobs' order (photos finish in any order, two being searched at once)."""
    assert config.regions_out is not None
    order = {decisions.name_of(job.source, config.inputs): index for index, job in enumerate(jobs)}
    text = regions.dumps(sorted(found, key=lambda e: order.get(e.path, len(order)))).encode("utf-8")
    publish.save(config.regions_out, config.photo.overwrite, None, lambda s: s.write(text), interruptible=False)


def _remove_leftovers(config: RunConfig) -> None:
    """Temporary files a killed run left in the output folders go first (only unseen's own, unlocked ones)."""
    removed = sum(publish.sweep(root) for root in output_roots(config.inputs, config.output) if root.is_dir())
    if removed and not config.quiet:
        plural = "s" if removed > 1 else ""
        print(f"unseen: removed {removed} unfinished file{plural} left by an interrupted run", file=sys.stderr)


def _interrupted(report: RunReport, config: RunConfig, written: int) -> int:
    """Say exactly what an interrupted run wrote; its report (when asked for) lists those files."""
    what = f"{written} file{'' if written == 1 else 's'} written and checked before it stopped"
    if config.report is not None:
        try:
            report_as_asked(report, config).write(config.report, config.photo.overwrite)
            what += f" (listed in {display(config.report)})"
        except OSError as error:
            what += f"; cannot write report {display(config.report)}: {error.strerror or error}"
    print(f"unseen: interrupted; {what}; nothing else was written", file=sys.stderr)
    return EXIT_INTERRUPTED


def _write_rename_map(report: RunReport, config: RunConfig) -> bool:
    """--rename-map: the originals' names beside their outputs', paths as in the report; whether it was written."""
    if config.rename_map is None:
        return True
    try:
        renaming.write_map(config.rename_map, named_as_asked(report, config), config.photo.overwrite)
    except OSError as error:
        print(f"unseen: cannot write rename map {display(config.rename_map)}: {errors.reason(error)}", file=sys.stderr)
        return False
    return True


def _with_progress(results: Iterable[FileReport], total: int, quiet: bool) -> Iterator[FileReport]:
    from tqdm import tqdm

    show = not quiet and sys.stderr.isatty()
    with tqdm(total=total, unit="file", disable=not show, file=sys.stderr, leave=False) as bar:
        for result in results:
            if (result.status == "failed" or result.flagged) and not stop.requested():  # the stop has its own line
                tqdm.write(_problem_line(result), file=sys.stderr)
            elif result.notice and result.status == "done":  # said even with -q, as the weak-method warning is
                tqdm.write(printable(f"unseen: {result.input}: {result.notice}"), file=sys.stderr)
            bar.update()
            yield result


def _problem_line(result: FileReport) -> str:
    """A file's one line, whatever it is called and whatever its reason says: the reason's own line breaks become
    spaces, and every control character left (a path that a message names, a library's text) is escaped, so that
    no name can forge a line or send the terminal an escape sequence."""
    reason = " ".join(str(result.reason).splitlines())
    warning = "warning: " if result.status == "done" else ""
    return printable(f"unseen: {warning}{result.input}: {reason}")
