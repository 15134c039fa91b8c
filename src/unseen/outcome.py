"""The end of a run, for `unseen` and `unseen review` alike: the report with the run's settings, written as
asked (paths shortened, names withheld under --rename), the summary lines, and the exit code."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

from unseen import __version__, renaming
from unseen.config import RunConfig
from unseen.detectors.centerface import MODEL_NAME
from unseen.detectors.presets import PRESETS, Quality, describe, describe_orientation
from unseen.device import model_sha256
from unseen.errors import EXIT_FAILED, EXIT_OK, EXIT_REFUSED
from unseen.names import display, printable
from unseen.paths import NOT_AN_IMAGE, output_roots
from unseen.report import RunReport
from unseen.verify import residual
from unseen.verify.video_check import CHECK_EVERY
from unseen.video import VIDEO_MODEL

SKIPPED_NAMED = 5  # skipped files named after the summary; past these, a count (the report lists them all)


def new_report(config: RunConfig, video: dict[str, object] | None) -> RunReport:
    """The run's report, with its settings, before any file is done."""
    quality, photo = config.quality, config.photo
    return RunReport(
        unseen_version=__version__,
        model={"name": MODEL_NAME, "sha256": model_sha256(MODEL_NAME)},
        models=_models(quality),
        settings={
            "method": photo.method.value,
            "strength": photo.strength,
            "grow": photo.grow,
            "quality": quality.value,
            "passes": describe(quality, config.threshold),
            "orientation_probe": describe_orientation(quality),
            "format": config.fmt,
            "verify": _verify_settings(config),
            **({"video": video} if video is not None else {}),
        },
        started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def _models(quality: Quality) -> list[dict[str, str]]:
    """Every model file the run may use, with its sha256: the preset's passes, the model videos are searched with,
    and the fp32 model the residual check runs (`model` above names that one alone, as reports before 0.1 did)."""
    names = sorted(PRESETS[quality].models() | {MODEL_NAME, VIDEO_MODEL})
    return [{"name": name, "sha256": model_sha256(name)} for name in names]


def _verify_settings(config: RunConfig) -> dict[str, object]:
    photo = config.photo
    if not photo.verify:
        return {"residuals": False, "reid": False, "strict": False}
    scales = PRESETS[config.quality].check_scales
    check = {
        "passes": [{"scale": s, "flip": True, "model": MODEL_NAME} for s in scales],
        "threshold": residual.THRESHOLD,
    }
    # Videos get the residual check on sampled frames of the decoded output; --reid is for photos only.
    frames = f"every {CHECK_EVERY}th from the first, and the last (at 45 fps and more, every {CHECK_EVERY}th step)"
    videos = {"residuals": True, "frames": frames, "reid": False}
    return {"residuals": check, "reid": photo.reid, "strict": photo.strict, "videos": videos}


def report_as_asked(report: RunReport, config: RunConfig) -> RunReport:
    named = named_as_asked(report, config)
    return renaming.withhold(named) if config.rename else named


def named_as_asked(report: RunReport, config: RunConfig) -> RunReport:
    """The report with its paths as asked: from the folders and files given, or whole (--report-full-paths)."""
    if config.report_full_paths:
        return report
    roots = [*config.paths, *output_roots(config.inputs, config.output)]
    return report.with_relative_paths([(display(p), _shown_name(p)) for p in roots])


def _shown_name(path: Path) -> str:
    return display(path.name or path.resolve().name)


def _skipped_line(report: RunReport) -> str | None:
    """Which files were skipped (not images or videos unseen reads: a camera's raw file, say), so that none is left
    out unnoticed."""
    names = [printable(Path(f.input).name) for f in report.files if f.status == "skipped" and f.reason == NOT_AN_IMAGE]
    if not names:
        return None
    shown = ", ".join(names[:SKIPPED_NAMED])
    more = f" and {len(names) - SKIPPED_NAMED} more (the report lists them)" if len(names) > SKIPPED_NAMED else ""
    return f"unseen: skipped, not images or videos unseen reads: {shown}{more}"


def _detect_only_line(report: RunReport, regions_out: Path) -> str:
    s = report.summary()
    faces = f"{s['faces']} face{'' if s['faces'] == 1 else 's'} found"  # in a video: faces followed (tracks)
    files = f"{s['done']} file{'' if s['done'] == 1 else 's'} searched"
    return (
        f"unseen: {files}, {s['failed']} failed, {s['skipped']} skipped, {faces}; "
        f"decisions in {display(regions_out)}, nothing else written, {report.seconds:.1f} s"
    )


def finish(report: RunReport, config: RunConfig) -> int:
    """The report written as asked, the summary lines, and the exit code."""
    code = EXIT_FAILED if report.count("failed") else EXIT_OK
    if config.photo.strict and any(f.status == "failed" and f.flagged for f in report.files):
        code = EXIT_REFUSED  # wins over EXIT_FAILED
    if config.report is not None:
        try:
            report_as_asked(report, config).write(config.report, config.photo.overwrite)
        except OSError as error:
            print(f"unseen: cannot write report {display(config.report)}: {error.strerror or error}", file=sys.stderr)
            code = EXIT_FAILED
    if not config.quiet:
        regions_out = config.regions_out
        print(report.summary_line() if regions_out is None else _detect_only_line(report, regions_out), file=sys.stderr)
        skipped = _skipped_line(report)
        if skipped:
            print(skipped, file=sys.stderr)
    if not report.files:
        print("unseen: no files found in the given paths", file=sys.stderr)
        code = EXIT_FAILED
    return code
