"""The `unseen` command: arguments in, one line per problem, a summary, an exit code out."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from datetime import datetime, timezone
from pathlib import Path
from typing import NoReturn

from unseen import __version__, decisions, device, errors, formats, privacy, publish, regions, renaming, stop
from unseen.audio.voice import Voice
from unseen.batch import Batch
from unseen.detectors.centerface import MODEL_NAME, model_sha256
from unseen.detectors.presets import PRESETS, Quality, build_detector, describe, describe_orientation
from unseen.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    Interrupted,
    UsageError,
)
from unseen.faces import Detector
from unseen.media.image import DEFAULT_MAX_PIXELS
from unseen.names import display, printable
from unseen.obscure import DEFAULT_GROW, WEAK_METHOD_WARNING, Method
from unseen.paths import NOT_AN_IMAGE, Job, output_roots, plan
from unseen.photo import Options, process
from unseen.report import FileReport, RunReport
from unseen.verify import residual
from unseen.verify.photo_check import Verifier
from unseen.verify.reid import MIN_HEIGHT, ReidUnavailable, ensure_available
from unseen.verify.reid_models import ModelError
from unseen.verify.video_check import CHECK_EVERY
from unseen.video import (
    DEFAULT_CRF,
    DEFAULT_FULL_EVERY,
    VIDEO_CODECS,
    VIDEO_MODEL,
    VideoOptions,
    describe_video,
    is_video,
    process_video,
    video_detector,
)

# --format takes a writable format's name or its output suffix: jpeg or jpg, png, webp, tiff or tif.
FORMAT_NAMES = {key: name for name in formats.WRITABLE for key in (name.lower(), formats.write_suffix(name)[1:])}


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: the user asked for something that cannot be done.
        self.exit(EXIT_USAGE, f"unseen: {printable(message)} (see {self.prog} --help)\n")  # it may quote an argument


def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="unseen",
        description="Make photos and videos safe to share: obscure every face, strip metadata. "
        "To look at and correct what it does before anything is written: unseen review PATH -o OUT",
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="image and video files, and folders (recursive)")
    p.add_argument("-o", "--output", type=Path, help="output folder (default: NAME_unseen beside each input)")
    p.add_argument(
        "--rename",
        action="store_true",
        help="name the outputs 0001.jpg, 0002.mp4, ... in the order found, straight in -o, instead of after the "
        "originals and their folders (phone names hold the time taken); the report then names no original",
    )
    p.add_argument(
        "--rename-map",
        type=Path,
        metavar="FILE.csv",
        help="with --rename: write which original became which output to FILE, the only place their names are kept",
    )
    add_shared_options(p)
    v = p.add_argument_group("videos")
    v.add_argument(
        "--crf", type=_crf, default=DEFAULT_CRF, help=f"video quality, 0 (lossless) to 51 (default {DEFAULT_CRF})"
    )
    v.add_argument("--codec", choices=VIDEO_CODECS, help="video codec (default: h264; gif for an animated GIF)")
    v.add_argument("--no-audio", action="store_true", help="drop the audio streams (default: copied unchanged)")
    v.add_argument(
        "--voice",
        choices=[v.value for v in Voice],
        help="the voices in a video's sound: keep (default: as recorded; a line says when speech is heard), disguise "
        "(changed so that a speaker verifier cannot link them; the words stay), or mute (silence where speech is "
        "heard, every other sound kept); see docs/voices-in-videos.md",
    )
    v.add_argument(
        "--full-every",
        type=_positive_int,
        default=DEFAULT_FULL_EVERY,
        metavar="N",
        help=f"search every N-th frame at full resolution, the others reduced (default {DEFAULT_FULL_EVERY}; 1: all; "
        "at 45 fps and more, frames are taken in steps of about 1/30 s and N counts steps)",
    )
    r = p.add_argument_group("regions file (decisions a person can check and correct; see also: unseen review)")
    r.add_argument(
        "--regions-out",
        type=Path,
        metavar="FILE.json",
        help="detect only: write what would be obscured in each photo and video to FILE, and no output",
    )
    r.add_argument(
        "--regions",
        type=Path,
        metavar="FILE.json",
        help="write the outputs from FILE: each file it lists gets exactly its regions obscured, without detection",
    )
    add_scale_options(p)
    p.add_argument("--version", action="version", version=f"unseen {__version__}")
    return p


def add_scale_options(p: argparse.ArgumentParser) -> None:
    """Where the work runs: a Ray cluster (unseen.scale.ray_run) and the device detection runs on."""
    s = p.add_argument_group("scale (pip install 'unseen[ray]' for --ray, 'unseen[gpu]' for --device cuda)")
    s.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="run on Ray: a local Ray started for the run, or the cluster at ADDRESS (every node must see the "
        "inputs and -o at the same paths); a re-run skips outputs already done",
    )
    s.add_argument("--ray-workers", type=_positive_int, metavar="N", help="photo workers on Ray (default: one a CPU)")
    s.add_argument("--device", choices=device.DEVICES, help="where detection runs (default: auto, CUDA if usable)")


def add_shared_options(p: argparse.ArgumentParser) -> None:
    """The options `unseen` and `unseen review` share: how faces are found, obscured, checked and written."""
    p.add_argument("--format", choices=sorted(FORMAT_NAMES), help="write this format instead of the input's")
    p.add_argument(
        "--method",
        choices=[m.value for m in Method],
        default=Method.SOLID.value,
        help="how faces are obscured (default: solid; pixelate and blur can be undone by recognisers)",
    )
    p.add_argument("--strength", type=_fraction, default=1.0, help="pixelate/blur coarseness in (0, 1] (default 1)")
    p.add_argument("--grow", type=_grow, default=DEFAULT_GROW, help=f"region size / face box (default {DEFAULT_GROW})")
    p.add_argument(
        "--quality",
        choices=[q.value for q in Quality],
        default=Quality.BALANCED.value,
        help="detection effort (default: balanced)",
    )
    p.add_argument("--threshold", type=_fraction, help="detection score threshold (default: the preset's)")
    p.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        help="do not re-read each written photo or video to look for faces left visible (the residual check, "
        f"on by default; in a video, on every {CHECK_EVERY}th frame, or step at 45 fps and more, and the last)",
    )
    p.add_argument(
        "--reid",
        action="store_true",
        help=f"also check that a face recogniser cannot match any obscured face of {MIN_HEIGHT} px or more "
        "to the original (photos only; needs: pip install 'unseen[verify]')",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="an output the checks flag is not written: that file fails and the run exits 3 "
        "(exit codes: 0 all done, 1 some failed, 2 usage error, 3 some refused by --strict, which wins over 1)",
    )
    p.add_argument("--report", type=Path, metavar="FILE.json", help="write a JSON report of what was done")
    p.add_argument(
        "--report-full-paths",
        action="store_true",
        help="give full paths in the report (default: paths from the folders and files given, which keeps the "
        "folders above them, often a user name or an event, out of a report that is shared)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing output files (never an input)")
    p.add_argument(
        "--max-pixels",
        type=_positive_int,
        default=DEFAULT_MAX_PIXELS,
        help=f"refuse images with more pixels than this (default {DEFAULT_MAX_PIXELS:,})",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary; problems only")


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def _fraction(text: str) -> float:
    value = _float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not in (0, 1]")
    return value


def _grow(text: str) -> float:
    value = _float(text)
    if not 1.0 <= value <= 4.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 1 and 4")
    return value


def _crf(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 51:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 51")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


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
            from unseen.review.command import review

            return review(argv[1:])
        args = _parser().parse_args(argv)
        return _run(args)
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


def _run(args: argparse.Namespace) -> int:
    fmt = FORMAT_NAMES[args.format] if args.format else None
    _check_regions_args(args)
    renaming.check_args(args.rename, args.rename_map, args.output, detect_only=args.regions_out is not None)
    jobs = plan(args.paths, args.output, fmt, writing=args.regions_out is None, rename=args.rename)
    sides = ((args.report, "report"), (args.regions_out, "regions file"), (args.rename_map, "rename map"))
    for side, what in sides:
        if side is not None:
            check_side_file(side, args.paths, jobs, args.overwrite, what)
    decided = regions.load(args.regions) if args.regions is not None else {}
    if decided:
        _warn_unlisted(args.regions, decided, {decisions.name_of(job.source, args.paths) for job in jobs})
    verifier = verifier_of(args)
    options = options_of(args)
    video = VideoOptions(
        crf=args.crf,
        codec=args.codec,
        audio=not args.no_audio,
        voice=voice_setting(args.voice, args.no_audio, jobs),
        full_every=args.full_every,
        fast=args.quality == "fast",
        progress=not args.quiet,
    )
    setting = device.select(args.device)
    photos = build_detector(Quality(args.quality), args.threshold)

    def make_work(options: Options) -> Callable[[Job], FileReport]:  # the worker for these options, here or on Ray
        worker = _worker(photos, options, verifier, video, args.threshold)
        return _decided_or(worker, decided, options, verifier, args, video)

    found: list[regions.AnyEntry] = []
    if args.regions_out is not None:
        work = _detect_only(photos, options, args.paths, found, video, args.threshold)
    else:
        work = make_work(options)
    report = new_report(args, describe_video(video, args.threshold))
    _remove_leftovers(args, jobs)
    started, published = time.perf_counter(), len(publish.published())
    batch = (
        Batch(jobs, work, alone=_is_video) if args.ray is None else _ray_batch(args, jobs, options, setting, make_work)
    )
    try:
        for _ in _with_progress(batch, len(jobs), args.quiet):
            pass
        stop.check()  # a signal during the last file: that file was not published
        report.files = batch.reports
    except (KeyboardInterrupt, Interrupted):
        stop.request()  # also when the interruption came from a worker: nothing more is published
        report.interrupted = True
        report.files = batch.drain()  # with the photos in flight: published before the signal, or not at all
    report.seconds = round(time.perf_counter() - started, 3)
    mapped = _write_rename_map(report, args)
    if report.interrupted:
        return _interrupted(report, args, len(publish.published()) - published if args.ray is None else batch.written())
    if args.regions_out is not None:
        _write_regions(args, jobs, found)
    code = finish(report, args)
    return EXIT_FAILED if code == EXIT_OK and not mapped else code


def voice_setting(voice: str | None, no_audio: bool, jobs: list[Job]) -> Voice:
    """--voice as asked; a usage error where it cannot apply."""
    if voice is None:
        return Voice.KEEP
    if no_audio:
        raise UsageError(f"--voice {voice} and --no-audio: --no-audio drops the sound, so there is no voice to {voice}")
    if not any(_is_video(job) for job in jobs):
        raise UsageError(f"--voice {voice}: no video among the inputs (photos have no sound)")
    return Voice(voice)


def _ray_batch(
    args: argparse.Namespace,
    jobs: list[Job],
    options: Options,
    setting: device.Setting,
    make_work: Callable[[Options], Callable[[Job], FileReport]],
) -> Batch:
    """The same jobs, each done by the same worker as here, on Ray (unseen.scale.ray_run)."""
    from unseen.scale.ray_run import RayBatch

    if args.regions_out is not None:
        raise UsageError("--regions-out is not run on Ray: leave out --ray")
    return RayBatch(args.ray, jobs, make_work, options, _is_video, args.ray_workers, setting)  # type: ignore[return-value]


def _warn_unlisted(path: Path, decided: dict[str, regions.AnyEntry], names: set[str]) -> None:
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


def options_of(args: argparse.Namespace) -> Options:
    """The photo options as asked for (with the warning a weak method earns, once)."""
    method = Method(args.method)
    if not method.destructive:
        print(WEAK_METHOD_WARNING.format(method=method.value), file=sys.stderr)
    return Options(
        method=method,
        strength=args.strength,
        grow=args.grow,
        overwrite=args.overwrite,
        max_pixels=args.max_pixels,
        verify=args.verify,
        reid=args.reid,
        strict=args.strict,
    )


def new_report(args: argparse.Namespace, video: dict[str, object] | None) -> RunReport:
    """The run's report, with its settings, before any file is done."""
    quality = Quality(args.quality)
    return RunReport(
        unseen_version=__version__,
        model={"name": MODEL_NAME, "sha256": model_sha256()},
        models=_models(quality),
        settings={
            "method": args.method,
            "strength": args.strength,
            "grow": args.grow,
            "quality": args.quality,
            "passes": describe(quality, args.threshold),
            "orientation_probe": describe_orientation(quality),
            "format": FORMAT_NAMES[args.format] if args.format else None,
            "verify": _verify_settings(args),
            **({"video": video} if video is not None else {}),
        },
        started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def _check_regions_args(args: argparse.Namespace) -> None:
    if args.regions_out is not None and args.regions is not None:
        raise UsageError("--regions-out detects and --regions writes from decisions: give one of them")
    if args.regions_out is not None and args.output is not None:
        raise UsageError("--regions-out writes no output: leave out -o (then write with --regions FILE -o OUT)")


def _detect_only(
    detector: Detector,
    options: Options,
    inputs: list[Path],
    found: list[regions.AnyEntry],
    video: VideoOptions,
    threshold: float | None,
) -> Callable[[Job], FileReport]:
    """Each photo and video detected (a video tracked too, as a plain run does) and recorded; nothing written."""
    videos: list[Detector] = []  # the video detector, made when first needed

    def work(job: Job) -> FileReport:
        name = decisions.name_of(job.source, inputs)
        if _is_video(job):
            videos[:] = videos or [video_detector(threshold)]
            return decisions.detect_only_video(job, videos[0], options, video, name, found)
        return decisions.detect_only(job, detector, options, name, found)

    return work


def _decided_or(
    work: Callable[[Job], FileReport],
    decided: dict[str, regions.AnyEntry],
    options: Options,
    verifier: Verifier | None,
    args: argparse.Namespace,
    video: VideoOptions,
) -> Callable[[Job], FileReport]:
    """A photo or video the regions file lists is written as decided; anything else as `work` does it."""

    def either(job: Job) -> FileReport:
        entry = decided.get(decisions.name_of(job.source, args.paths)) if job.problem is None else None
        if entry is None:
            return work(job)
        if isinstance(entry, regions.VideoEntry) != _is_video(job):
            kind = "a video" if _is_video(job) else "not a video"
            return _failed(job, f"is {kind}, unlike its entry in the regions file: refused, not obscured")
        if isinstance(entry, regions.VideoEntry):
            return decisions.apply_video(job, entry, options, video, verifier)
        return decisions.apply(job, entry, options, verifier)

    return either


def _failed(job: Job, problem: str) -> FileReport:
    return FileReport(input=display(job.source), output=None, status="failed", reason=problem)


def _write_regions(args: argparse.Namespace, jobs: list[Job], found: list[regions.AnyEntry]) -> None:
    """The decisions in the jobs' order (photos finish in any order, two being searched at once)."""
    order = {decisions.name_of(job.source, args.paths): index for index, job in enumerate(jobs)}
    text = regions.dumps(sorted(found, key=lambda e: order.get(e.path, len(order)))).encode("utf-8")
    publish.save(args.regions_out, args.overwrite, None, lambda stream: stream.write(text), interruptible=False)


def _remove_leftovers(args: argparse.Namespace, jobs: list[Job]) -> None:
    """Temporary files a killed run left in the output folders go first (only unseen's own, unlocked ones)."""
    removed = sum(publish.sweep(root) for root in output_roots(args.paths, args.output) if root.is_dir())
    if removed and not args.quiet:
        plural = "s" if removed > 1 else ""
        print(f"unseen: removed {removed} unfinished file{plural} left by an interrupted run", file=sys.stderr)


def _interrupted(report: RunReport, args: argparse.Namespace, written: int) -> int:
    """Say exactly what an interrupted run wrote; its report (when asked for) lists those files."""
    what = f"{written} file{'' if written == 1 else 's'} written and checked before it stopped"
    if args.report is not None:
        try:
            _report_as_asked(report, args).write(args.report, args.overwrite)
            what += f" (listed in {display(args.report)})"
        except OSError as error:
            what += f"; cannot write report {display(args.report)}: {error.strerror or error}"
    print(f"unseen: interrupted; {what}; nothing else was written", file=sys.stderr)
    return EXIT_INTERRUPTED


def _write_rename_map(report: RunReport, args: argparse.Namespace) -> bool:
    """--rename-map: the originals' names beside their outputs', paths as in the report; whether it was written."""
    if args.rename_map is None:
        return True
    try:
        renaming.write_map(args.rename_map, _named(report, args), args.overwrite)
    except OSError as error:
        print(f"unseen: cannot write rename map {display(args.rename_map)}: {errors.reason(error)}", file=sys.stderr)
        return False
    return True


def _report_as_asked(report: RunReport, args: argparse.Namespace) -> RunReport:
    named = _named(report, args)
    return renaming.withhold(named) if getattr(args, "rename", False) else named  # `unseen review` has no --rename


def _named(report: RunReport, args: argparse.Namespace) -> RunReport:
    """The report with its paths as asked: from the folders and files given, or whole (--report-full-paths)."""
    if args.report_full_paths:
        return report
    roots = [*args.paths, *output_roots(args.paths, args.output)]
    return report.with_relative_paths([(display(p), _shown_name(p)) for p in roots])


def _shown_name(path: Path) -> str:
    return display(path.name or path.resolve().name)


def _worker(
    photos: Detector, options: Options, verifier: Verifier | None, video: VideoOptions, threshold: float | None
) -> Callable[[Job], FileReport]:
    """What to do with each job: the photo pipeline, or the video one (its detector made once, when first needed)."""
    videos: list[Detector] = []

    def work(job: Job) -> FileReport:
        if _is_video(job):
            if not videos:
                videos.append(video_detector(threshold))
            return process_video(job, videos[0], options, video, verifier)
        return process(job, photos, options, verifier)

    return work


def _is_video(job: Job) -> bool:
    return job.problem is None and is_video(job.source)


def _models(quality: Quality) -> list[dict[str, str]]:
    """Every model file the run may use, with its sha256: the preset's passes, the model videos are searched with,
    and the fp32 model the residual check runs (`model` above names that one alone, as reports before 0.1 did)."""
    names = sorted(PRESETS[quality].models() | {MODEL_NAME, VIDEO_MODEL})
    return [{"name": name, "sha256": model_sha256(name)} for name in names]


def verifier_of(args: argparse.Namespace) -> Verifier | None:
    """The checks as asked for; a check that cannot run is a usage error, before any file is touched."""
    if not args.verify:
        if args.reid or args.strict:
            raise UsageError(f"--no-verify cannot be combined with {'--reid' if args.reid else '--strict'}")
        return None
    if args.reid:
        try:
            ensure_available()
        except (ReidUnavailable, ModelError) as error:
            raise UsageError(str(error)) from None
    return Verifier(reid=args.reid, detector=residual.residual_detector(residual.scales_for(args.quality)))


def _verify_settings(args: argparse.Namespace) -> dict[str, object]:
    if not args.verify:
        return {"residuals": False, "reid": False, "strict": False}
    scales = residual.scales_for(args.quality)
    check = {
        "passes": [{"scale": s, "flip": True, "model": MODEL_NAME} for s in scales],
        "threshold": residual.THRESHOLD,
    }
    # Videos get the residual check on sampled frames of the decoded output; --reid is for photos only.
    frames = f"every {CHECK_EVERY}th from the first, and the last (at 45 fps and more, every {CHECK_EVERY}th step)"
    videos = {"residuals": True, "frames": frames, "reid": False}
    return {"residuals": check, "reid": args.reid, "strict": args.strict, "videos": videos}


def check_side_file(path: Path, inputs: list[Path], jobs: list[Job], overwrite: bool, what: str) -> None:
    """The report (or regions file) is written like an output: never over an input, into an input folder, or
    over a file unasked."""
    if path.is_dir():
        raise UsageError(f"{what} {display(path)} is a folder")
    resolved = path.resolve()
    if any(resolved.is_relative_to(given.resolve()) for given in inputs if given.is_dir()):
        raise UsageError(f"{what} {display(path)} is inside an input folder")
    if any(path.exists() and os.path.samefile(path, job.source) for job in jobs if job.source.exists()):
        raise UsageError(f"{what} {display(path)} is an input")
    if any(resolved in {t.resolve() for t in job.final_targets()} for job in jobs):
        raise UsageError(f"{what} {display(path)} is also an output path")
    if path.exists() and not overwrite:
        raise UsageError(f"{what} {display(path)} exists (use --overwrite to replace it)")


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


SKIPPED_NAMED = 5  # skipped files named after the summary; past these, a count (the report lists them all)


def _skipped_line(report: RunReport) -> str | None:
    """Which files were skipped (not images or videos unseen reads: a camera's raw file, say), so that none is left
    out unnoticed."""
    names = [printable(Path(f.input).name) for f in report.files if f.status == "skipped" and f.reason == NOT_AN_IMAGE]
    if not names:
        return None
    shown = ", ".join(names[:SKIPPED_NAMED])
    more = f" and {len(names) - SKIPPED_NAMED} more (the report lists them)" if len(names) > SKIPPED_NAMED else ""
    return f"unseen: skipped, not images or videos unseen reads: {shown}{more}"


def _detect_only_line(report: RunReport, args: argparse.Namespace) -> str:
    s = report.summary()
    faces = f"{s['faces']} face{'' if s['faces'] == 1 else 's'} found"  # in a video: faces followed (tracks)
    files = f"{s['done']} file{'' if s['done'] == 1 else 's'} searched"
    return (
        f"unseen: {files}, {s['failed']} failed, {s['skipped']} skipped, {faces}; "
        f"decisions in {display(args.regions_out)}, nothing else written, {report.seconds:.1f} s"
    )


def finish(report: RunReport, args: argparse.Namespace) -> int:
    """The report written as asked, the summary lines, and the exit code."""
    code = EXIT_FAILED if report.count("failed") else EXIT_OK
    if args.strict and any(f.status == "failed" and f.flagged for f in report.files):
        code = EXIT_REFUSED  # wins over EXIT_FAILED
    if args.report is not None:
        try:
            _report_as_asked(report, args).write(args.report, args.overwrite)
        except OSError as error:
            print(f"unseen: cannot write report {display(args.report)}: {error.strerror or error}", file=sys.stderr)
            code = EXIT_FAILED
    if not args.quiet:
        print(
            _detect_only_line(report, args) if args.regions_out is not None else report.summary_line(), file=sys.stderr
        )
        skipped = _skipped_line(report)
        if skipped:
            print(skipped, file=sys.stderr)
    if not report.files:
        print("unseen: no files found in the given paths", file=sys.stderr)
        code = EXIT_FAILED
    return code
