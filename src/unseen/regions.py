"""The regions file: what is to be obscured in each photo, and who decided it, as data a person can correct.

`unseen IN --regions-out FILE` detects and writes it without writing any output; `unseen IN -o OUT --regions
FILE` writes the outputs from it: every listed photo gets exactly its kept regions obscured (no detection),
through the same obscure → write → check → publish path as a plain run; photos it does not list are detected
as usual. The review page (to come) edits the same file. Format, version 1 (README "Regions file"):

    {"unseen_regions": 1,
     "files": [{"path": "day1/a.jpg",            # from the folder or file given, as the report names it
                "sha256": "…",                   # of the input's bytes: a file changed since is refused
                "width": 1024, "height": 768, "approved": false,
                "regions": [{"box": [x1, y1, x2, y2], "score": 0.93, "origin": "detector"},
                            {"box": […], "score": 1.0, "origin": "person"},
                            {"box": […], "score": 0.12, "origin": "detector", "removed": true}]}]}

A box is a face box in the photo as shown (orientation applied), in pixels; it is grown and drawn as any
detected face is (--grow). Removed regions stay in the file, so that the record shows what was decided.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from unseen.digest import file_sha256
from unseen.errors import FileError, UsageError
from unseen.faces import Faces

VERSION = 1
ORIGINS = ("detector", "person")


@dataclass(frozen=True)
class Region:
    box: tuple[float, float, float, float]
    score: float
    origin: str = "detector"
    removed: bool = False

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"box": [round(v, 1) for v in self.box], "score": round(self.score, 4)}
        data["origin"] = self.origin
        return data | ({"removed": True} if self.removed else {})


@dataclass
class Entry:
    """One photo's decisions."""

    path: str
    sha256: str
    width: int
    height: int
    regions: list[Region] = field(default_factory=list)
    approved: bool = False

    def kept(self) -> Faces:
        """The regions to obscure: every one not removed."""
        kept = [r for r in self.regions if not r.removed]
        return Faces(np.array([r.box for r in kept], np.float32).reshape(-1, 4), [r.score for r in kept])

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "width": self.width,
            "height": self.height,
            "approved": self.approved,
            "regions": [r.to_dict() for r in self.regions],
        }


def detected(path: str, digest: str, width: int, height: int, faces: Faces) -> Entry:
    """A new entry from what the detector found."""
    pairs = zip(faces.boxes.tolist(), faces.scores.tolist(), strict=True)
    return Entry(path, digest, width, height, [Region(tuple(box), score) for box, score in pairs])


def check_unchanged(entry: Entry, source: Path) -> None:
    """Refuse a file whose bytes are not the ones the regions were decided on: never obscure with stale regions."""
    if file_sha256(source) != entry.sha256:
        raise FileError("changed since the regions file was written (its sha256 differs): refused, not obscured")


def dumps(entries: Iterable[Entry]) -> str:
    return json.dumps({"unseen_regions": VERSION, "files": [e.to_dict() for e in entries]}, indent=2) + "\n"


def load(path: Path) -> dict[str, Entry]:
    """The entries of a regions file, by path; any problem with the file is a usage error, in one line."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read regions file {path.name}: {error.strerror or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"regions file {path.name} is not JSON ({error})") from None
    if not isinstance(data, dict) or data.get("unseen_regions") != VERSION:
        raise UsageError(f"regions file {path.name} is not an unseen regions file of version {VERSION}")
    try:
        entries = [_entry(item) for item in data["files"]]
    except (KeyError, TypeError, ValueError) as error:
        raise UsageError(f"regions file {path.name} is malformed ({error})") from None
    by_path = {entry.path: entry for entry in entries}
    if len(by_path) != len(entries):
        raise UsageError(f"regions file {path.name} lists a file twice")
    return by_path


def _entry(item: dict[str, object]) -> Entry:
    regions = [_region(r) for r in item["regions"]]  # type: ignore[attr-defined]
    return Entry(
        str(item["path"]),
        str(item["sha256"]),
        int(item["width"]),  # type: ignore[call-overload]
        int(item["height"]),  # type: ignore[call-overload]
        regions,
        bool(item.get("approved", False)),
    )


def _region(item: dict[str, object]) -> Region:
    box = tuple(float(v) for v in item["box"])  # type: ignore[attr-defined]
    origin = str(item.get("origin", "detector"))
    if len(box) != 4 or not all(np.isfinite(box)) or box[2] <= box[0] or box[3] <= box[1]:
        raise ValueError(f"bad box {list(box)}")
    if origin not in ORIGINS:
        raise ValueError(f"origin {origin!r} is not one of {', '.join(ORIGINS)}")
    score = float(item.get("score", 1.0))  # type: ignore[arg-type]
    return Region(box, score, origin, bool(item.get("removed", False)))  # type: ignore[arg-type]
