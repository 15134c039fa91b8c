"""The machine-readable report of a run: what was done to each file. Never pixels."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

Status = Literal["done", "failed", "skipped"]


@dataclass
class FileReport:
    input: str
    output: str | None
    status: Status
    reason: str | None = None
    width: int | None = None
    height: int | None = None
    faces: list[dict[str, object]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class RunReport:
    unseen_version: str
    model: dict[str, str]
    settings: dict[str, object]
    started: str
    files: list[FileReport] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: Status) -> int:
        return sum(1 for f in self.files if f.status == status)

    def summary(self) -> dict[str, int]:
        faces = sum(len(f.faces) for f in self.files if f.status == "done")
        return {
            "done": self.count("done"),
            "failed": self.count("failed"),
            "skipped": self.count("skipped"),
            "faces": faces,
        }

    def summary_line(self) -> str:
        s = self.summary()
        line = f"unseen: {s['done']} done, {s['failed']} failed, {s['faces']} faces obscured"
        if s["skipped"]:
            line += f", {s['skipped']} skipped (not images or videos)"
        return line + f", {self.seconds:.1f} s"

    def to_json(self) -> str:
        data = asdict(self)
        data["summary"] = self.summary()
        return json.dumps(data, indent=2, ensure_ascii=False)

    def write(self, path: Path) -> None:
        """Atomically, like every output: a reader never sees half a report."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".unseen-tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(self.to_json() + "\n")
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
