"""One interface for a kind of media (issue 21): code in src/unseen asks a regions entry (regions.Decisions:
`kind`, `decides_as`, `approving`, `as_photo` / `as_video`) or the file's kinds.Kind, and does not branch on the
entry's type. Held here by counting, in the source read with `ast`, the `isinstance` checks whose types name an
entry type: at most MOST_CHECKS.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
from conftest import REPO

from unseen import regions

SRC = REPO / "src" / "unseen"
ENTRY_TYPES = {"Entry", "VideoEntry", "AnyEntry"}
MOST_CHECKS = 2


def entry_checks(path: Path) -> list[int]:
    """The lines of `path` with an isinstance(x, T) whose T names an entry type (alone, in a tuple or a union,
    bare or as regions.Entry)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance"):
            continue
        if len(node.args) != 2:
            continue
        names = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
        names |= {n.attr for n in ast.walk(node.args[1]) if isinstance(n, ast.Attribute)}
        if names & ENTRY_TYPES:
            lines.append(node.lineno)
    return lines


def test_the_counter_finds_every_form(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "isinstance(e, regions.Entry)\nisinstance(e, VideoEntry)\nisinstance(e, (int, regions.VideoEntry))\n"
        "isinstance(e, Entry | None)\nisinstance(e, regions.Region)\nisinstance(e, dict)\n",
        encoding="utf-8",
    )
    assert entry_checks(source) == [1, 2, 3, 4]


def test_at_most_two_isinstance_checks_on_entry_types_in_src() -> None:
    found = {f"{path.relative_to(SRC)}:{line}" for path in SRC.rglob("*.py") for line in entry_checks(path)}
    assert len(found) <= MOST_CHECKS, f"branch on the entry (regions.Decisions) or kinds.Kind instead: {sorted(found)}"


def test_each_entry_answers_for_its_own_kind() -> None:
    photo = regions.Entry("a.jpg", "0" * 64, 40, 30, [regions.Region((1.0, 2.0, 11.0, 12.0), 0.9)])
    track = regions.PersonTrack(0, np.array([0]), np.array([[1.0, 2.0, 11.0, 12.0]]))
    video = regions.VideoEntry("b.mp4", "1" * 64, 40, 30, 10, 25.0, [track])
    assert (photo.kind, video.kind) == ("photo", "video") and set(regions.KINDS) == {photo.kind, video.kind}
    assert photo.as_photo() is photo and photo.as_video() is None
    assert video.as_video() is video and video.as_photo() is None
    # What is covered, the approval aside; never the same across kinds.
    assert photo.decides_as(photo.approving(True)) and video.decides_as(video.approving(True))
    assert not photo.decides_as(video) and not video.decides_as(photo)
    assert photo.approving(True).approved and not photo.approved  # a copy: the entry itself is unchanged
    moved = regions.Entry("a.jpg", "0" * 64, 40, 30, [regions.Region((2.0, 2.0, 11.0, 12.0), 0.9)])
    assert not photo.decides_as(moved)
    other = regions.PersonTrack(0, np.array([0]), np.array([[1.0, 2.0, 12.0, 12.0]]))
    assert not video.decides_as(regions.VideoEntry("b.mp4", "1" * 64, 40, 30, 10, 25.0, [other]))
