"""Output names that are one file, or a device, on another system never make two outputs collide or one
overwrite another: Windows' reserved names get an underscore, names differing only in case fail the later input."""

from __future__ import annotations

import json
import os
import shutil
import unicodedata
from pathlib import Path, PurePosixPath

import pytest
from conftest import SAMPLE, run_cli

from unseen import report
from unseen.paths import Job, plan
from unseen.system.filenames import collision_key, reserved, safe_name, safe_relative


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def targets(jobs: list[Job]) -> dict[str, str | None]:
    return {job.source.name: job.problem or job.target.name for job in jobs}


@pytest.mark.parametrize(
    "name", ["con", "CON", "con.jpg", "Con.tar.gz", "nul", "aux.png", "prn", "com1.png", "LPT9.mp4", "com¹.jpg"]
)
def test_windows_device_names_are_reserved(name: str) -> None:
    assert reserved(name)


@pytest.mark.parametrize("name", ["console.jpg", "icon.png", "con_.jpg", "com10.jpg", "lpt.png", "nullify", "a.con"])
def test_other_names_are_not(name: str) -> None:
    assert not reserved(name)
    assert safe_name(name) == name


def test_a_reserved_name_gets_an_underscore_after_its_device_part() -> None:
    assert safe_name("con.jpg") == "con_.jpg"
    assert safe_name("NUL") == "NUL_"
    assert safe_name("aux.tar.gz") == "aux_.tar.gz"
    assert safe_relative(PurePosixPath("aux/com1/photo.png")) == PurePosixPath("aux_/com1_/photo.png")


def test_the_collision_key_is_what_macos_and_windows_compare() -> None:
    composed, decomposed = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
    assert collision_key(Path("/o/Photo.JPG")) == collision_key(Path("/o/photo.jpg"))
    assert collision_key(Path(f"/o/{composed}.png")) == collision_key(Path(f"/o/{decomposed}.png"))
    assert collision_key(Path("/o/a.png.")) == collision_key(Path("/o/a.png"))
    assert collision_key(Path("/O/a.png")) == collision_key(Path("/o/a.png"))
    assert collision_key(Path("/o/a.png")) != collision_key(Path("/o/b.png"))


def test_reserved_names_in_a_folder_are_planned_safe(tmp_path: Path) -> None:
    touch(tmp_path / "in" / "con.png")
    touch(tmp_path / "in" / "aux" / "photo.png")
    jobs = plan([tmp_path / "in"], tmp_path / "out", None)
    assert {job.target.relative_to(tmp_path / "out").as_posix() for job in jobs} == {"con_.png", "aux_/photo.png"}


def test_a_reserved_name_given_as_a_file_is_planned_safe(tmp_path: Path) -> None:
    jobs = plan([touch(tmp_path / "NUL.jpg")], tmp_path / "out", None)
    assert jobs[0].target == tmp_path / "out" / "NUL_.jpg" and jobs[0].problem is None


def test_a_safe_name_that_meets_a_real_one_fails_the_later(tmp_path: Path) -> None:
    touch(tmp_path / "in" / "con.png")
    touch(tmp_path / "in" / "con_.png")
    found = targets(plan([tmp_path / "in"], tmp_path / "out", None))
    assert found["con.png"] == "con_.png"
    assert found["con_.png"].startswith("another input has the same output path")


@pytest.mark.parametrize(
    ("first", "second"), [("A.png", "a.png"), ("a.png", "A.gif"), ("x/a.png", "X/a.png"), ("d/b.png", "d./b.png")]
)
def test_names_differing_only_in_case_fail_the_later(tmp_path: Path, first: str, second: str) -> None:
    """On every system: a folder made here is copied to a Mac or a Windows laptop, where they are one file."""
    touch(tmp_path / "in" / first)
    touch(tmp_path / "in" / second)
    jobs = plan([tmp_path / "in"], tmp_path / "out", None)
    problems = [job.problem for job in jobs if job.problem is not None]
    assert len(problems) == 1 and "differs from it only in case" in problems[0]
    assert jobs[0].problem is None and jobs[1].problem is not None  # the later one in the plan's order


def test_decomposed_and_composed_names_fail_the_later(tmp_path: Path) -> None:
    touch(tmp_path / "in" / unicodedata.normalize("NFC", "café.png"))
    touch(tmp_path / "in" / unicodedata.normalize("NFD", "café.png"))
    assert sum(job.problem is not None for job in plan([tmp_path / "in"], tmp_path / "out", None)) == 1


def test_a_run_with_a_case_collision_writes_one_file_and_says_why(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copyfile(SAMPLE, folder / "Face.png")
    shutil.copyfile(SAMPLE, folder / "face.png")
    shutil.copyfile(SAMPLE, folder / "con.png")
    out = tmp_path / "out"
    done = run_cli(folder, "-o", out, "--report", tmp_path / "report.json")
    assert done.returncode != 0
    assert sorted(os.listdir(out)) == ["Face.png", "con_.png"]
    lines = [line for line in done.stderr.splitlines() if "only in case" in line]
    assert len(lines) == 1 and "face.png" in lines[0]
    entries = {entry["input"]: entry for entry in json.loads((tmp_path / "report.json").read_text())["files"]}
    assert entries["in/con.png"]["output"] == "out/con_.png"


def test_the_report_uses_slashes_where_the_system_uses_backslashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report.os, "sep", "\\")
    roots = [("C:\\Users\\me\\in", "in")]
    assert report._relative("C:\\Users\\me\\in\\trip\\a.jpg", roots) == "in/trip/a.jpg"
