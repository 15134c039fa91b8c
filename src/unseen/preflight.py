"""What is checked before any file is touched, by `unseen` and `unseen review` alike: a usage error then costs
nothing. Side files (report, regions file, rename map) are placed like outputs; the checks asked for can run;
--voice has a video's sound to act on; a weak method is warned about once."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from unseen.config import RunConfig, Voice
from unseen.errors import UsageError
from unseen.kinds import is_video_job
from unseen.names import display
from unseen.obscure import WEAK_METHOD_WARNING
from unseen.paths import Job
from unseen.verify.reid import ReidUnavailable, ensure_available
from unseen.verify.reid_models import ModelError


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


def check_verify(config: RunConfig) -> None:
    """The checks as asked for can run; else a usage error."""
    photo = config.photo
    if not photo.verify:
        if photo.reid or photo.strict:
            raise UsageError(f"--no-verify cannot be combined with {'--reid' if photo.reid else '--strict'}")
        return
    if photo.reid:
        try:
            ensure_available()
        except (ReidUnavailable, ModelError) as error:
            raise UsageError(str(error)) from None


def check_voice(config: RunConfig, jobs: list[Job]) -> None:
    """--voice disguise or mute acts on a video's sound: a usage error when the run keeps none."""
    voice = config.video.voice
    if voice is Voice.KEEP:
        return
    if not config.video.audio:
        why = f"--no-audio drops the sound, so there is no voice to {voice.value}"
        raise UsageError(f"--voice {voice.value} and --no-audio: {why}")
    if not any(is_video_job(job) for job in jobs):
        raise UsageError(f"--voice {voice.value}: no video among the inputs (photos have no sound)")


def warn_weak_method(config: RunConfig) -> None:
    """Pixelate and blur can be undone by recognisers: said once, on stderr."""
    method = config.photo.method
    if not method.destructive:
        print(WEAK_METHOD_WARNING.format(method=method.value), file=sys.stderr)
