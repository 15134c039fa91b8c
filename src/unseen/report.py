"""The machine-readable report of a run: what was done to each file. Never pixels."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

from unseen import publish

Status = Literal["done", "failed", "skipped"]
# What the checks on the output say: clean, residuals (a face left visible or still re-identifiable, or the
# camera's sensor noise left),
# unverified (not checked: --no-verify), or the file was not done at all.
Verdict = Literal["clean", "residuals", "unverified", "failed", "skipped"]
# Why a file is skipped when its output is there from an earlier run (a re-run on Ray resumes: scale/ray_run.py).
ALREADY_DONE = "already done: its output exists (--overwrite does it again)"


@dataclass
class FileReport:
    input: str
    output: str | None
    status: Status
    reason: str | None = None
    width: int | None = None
    height: int | None = None
    # Per face (box, score; from a regions file also origin and removed); in a video per track: first and last
    # frame, and from a regions file its origin, a person's keyframe count, a detector track's removed or trim.
    faces: list[dict[str, object]] = field(default_factory=list)
    verified: bool = False  # whether the output was checked
    # Faces the check found left visible: box and score (in a video also the frame index and time in seconds).
    residuals: list[dict[str, object]] = field(default_factory=list)
    reid: list[dict[str, object]] | None = None  # per large obscured face; None when the check was not run
    # A video's voices (audio/voice.py): the --voice setting, speech heard and its seconds, per audio stream what
    # was heard, silenced and how it was written; None for a photo or with --no-audio. Voice residuals are in
    # `residuals`, with "kind": "voice".
    voice: dict[str, object] | None = None
    notice: str | None = None  # a line said about a file nothing is wrong with (speech heard in a kept video)
    # The camera's fine noise left in the output: its correlation with the input's, and whether that is too
    # much (media/sensor_noise.py); in an animation or multi-page file, the frame with the most left, its "frame"
    # index beside; None when not checked (the treatment off, or too few flat pixels to say).
    sensor_noise: dict[str, object] | None = None
    seconds: float = 0.0

    @property
    def flagged(self) -> bool:
        """Whether the checks found a face left visible or still re-identifiable, or the camera's noise left."""
        noise = bool(self.sensor_noise and self.sensor_noise["left"])
        return bool(self.residuals) or any(not r["passed"] for r in self.reid or []) or noise

    @property
    def verdict(self) -> Verdict:
        if self.status != "done":
            return self.status
        if not self.verified:
            return "unverified"
        return "residuals" if self.flagged else "clean"


@dataclass
class RunReport:
    unseen_version: str
    model: dict[str, str]
    settings: dict[str, object]
    started: str
    files: list[FileReport] = field(default_factory=list)
    seconds: float = 0.0
    models: list[dict[str, str]] = field(default_factory=list)  # every model file the run may use, with its sha256
    interrupted: bool = False  # stopped by a signal: `files` lists the files finished before it

    def count(self, status: Status) -> int:
        return sum(1 for f in self.files if f.status == status)

    def summary(self) -> dict[str, int]:
        # A region a person removed (a regions file's decision) is in the record, not among the faces obscured.
        faces = sum(1 for f in self.files if f.status == "done" for face in f.faces if not face.get("removed"))
        return {
            "done": self.count("done"),
            "failed": self.count("failed"),
            "skipped": self.count("skipped"),
            "faces": faces,
            "clean": self.verdicts("clean"),
            "residuals": self.verdicts("residuals"),
            "unverified": self.verdicts("unverified"),
        }

    def verdicts(self, verdict: Verdict) -> int:
        return sum(1 for f in self.files if f.verdict == verdict)

    def summary_line(self) -> str:
        s = self.summary()
        faces = f"{s['faces']} face{'' if s['faces'] == 1 else 's'} obscured"
        line = f"unseen: {s['done']} done, {s['failed']} failed, {faces}"
        resumed = sum(1 for f in self.files if f.status == "skipped" and f.reason == ALREADY_DONE)
        if s["skipped"] - resumed:
            line += f", {s['skipped'] - resumed} skipped (not images or videos)"
        if resumed:
            line += f", {resumed} already done"
        line += f"; {s['clean']} clean, {s['residuals']} with residuals"
        if s["unverified"]:
            line += f", {s['unverified']} not verified"
        return line + f", {self.seconds:.1f} s"

    def to_json(self) -> str:
        data = asdict(self)
        for entry, file in zip(data["files"], self.files, strict=True):
            entry["verdict"] = file.verdict
        data["summary"] = self.summary()
        return json.dumps(data, indent=2, ensure_ascii=False)

    def write(self, path: Path, overwrite: bool = True) -> None:
        """Published like every output (unseen.publish): a reader never sees half a report."""
        text = (self.to_json() + "\n").encode("utf-8")
        publish.save(path, overwrite, None, lambda stream: stream.write(text), interruptible=False)

    def with_relative_paths(self, roots: list[tuple[str, str]]) -> RunReport:
        """A copy whose paths start at the folders and files named on the command line (and the output
        folders), not at the file system's root: a report is shared, and the folders above what was given
        (a home folder, a user name, a folder named for the event) are nobody's business. `roots` pairs
        each given path, as displayed, with the name it is shown under."""
        copy = replace(self, files=[replace(f) for f in self.files])
        ordered = sorted(roots, key=lambda pair: len(pair[0]), reverse=True)  # the deepest root first
        for entry in copy.files:
            entry.input = _relative(entry.input, ordered)
            entry.output = None if entry.output is None else _relative(entry.output, ordered)
            if entry.reason is not None:
                for root, shown in ordered:
                    entry.reason = entry.reason.replace(root + os.sep, shown + os.sep)
        return copy


def _relative(path: str, roots: list[tuple[str, str]]) -> str:
    for root, shown in roots:
        if path == root:
            return shown
        if path.startswith(root + os.sep):  # shared between systems: `/` on every one
            return shown + "/" + path[len(root) + 1 :].replace(os.sep, "/")
    return os.path.basename(path)
