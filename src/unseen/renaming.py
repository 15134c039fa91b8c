"""--rename: outputs named by number instead of after their originals, and the originals' names kept out of the report.

paths.plan numbers the outputs. A report is made to be shared; under --rename it names no original: each file is
told by its output's number ("0003"), and a file that has no output (failed, skipped) as WITHHELD, its reason
cleared of its name. The one place the originals' names are written is the rename map, and only when asked for
(--rename-map FILE.csv): a file of its own, to keep apart from what is shared.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import replace
from pathlib import Path

from unseen import publish
from unseen.errors import UsageError
from unseen.names import display
from unseen.report import FileReport, RunReport

WITHHELD = "(name withheld: --rename)"
MAP_COLUMNS = ("original", "output", "status")


def check_args(rename: bool, mapping: Path | None, out: Path | None, detect_only: bool) -> None:
    """The --rename options asked for together make sense; else a usage error, before any file is touched."""
    if mapping is not None and not rename:
        raise UsageError("--rename-map lists what --rename named each output: give --rename too")
    if rename and detect_only:
        raise UsageError("--rename names outputs, and --regions-out writes none: give one of them")
    if rename and out is None:
        raise UsageError("--rename needs -o: the renamed outputs go into a folder of their own")
    if mapping is not None and out is not None and mapping.resolve().is_relative_to(out.resolve()):
        raise UsageError(
            f"rename map {display(mapping)} is inside the output folder: keep it apart from what is shared"
        )


def withhold(report: RunReport) -> RunReport:
    """A copy of the report that names no original (nor, in its reasons, any file by its original name)."""
    copy = replace(report, files=[replace(entry) for entry in report.files])
    for entry in copy.files:
        told = _number(entry)
        if entry.reason is not None:
            for name in sorted({entry.input, os.path.basename(entry.input)} - {""}, key=len, reverse=True):
                entry.reason = entry.reason.replace(name, told)
        entry.input = told
    return copy


def _number(entry: FileReport) -> str:
    """What a file is called in a report under --rename: its output's number, or WITHHELD where none was written."""
    if entry.output is None:
        return WITHHELD
    return Path(entry.output).name.split(".", 1)[0]


def write_map(path: Path, report: RunReport, overwrite: bool) -> None:
    """Every file of the run, its original path beside its output's (empty where none was written) and what became
    of it, as CSV; published like an output (never half a file)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(MAP_COLUMNS)
    writer.writerows((entry.input, entry.output or "", entry.status) for entry in report.files)
    data = text.getvalue().encode("utf-8")
    publish.save(path, overwrite, None, lambda stream: stream.write(data), interruptible=False)
