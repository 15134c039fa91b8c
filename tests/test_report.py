"""The JSON report: what was done to each file, with the model and version that did it, and never pixels."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE, SAMPLE_FACE, run_cli, sha256
from PIL import Image

import unseen
from unseen.report import FileReport, RunReport

MODEL = REPO / "src" / "unseen" / "models" / "centerface.onnx"


def overlap(box: list[float], face: tuple[int, int, int, int]) -> float:
    """Share of `face` that `box` covers."""
    w = min(box[2], face[2]) - max(box[0], face[0])
    h = min(box[3], face[3]) - max(box[1], face[1])
    return max(0.0, w) * max(0.0, h) / ((face[2] - face[0]) * (face[3] - face[1]))


def numbers_in_lists(value: object) -> int:
    """The longest list anywhere in the JSON: pixels would show up as a long one."""
    if isinstance(value, dict):
        return max([0, *(numbers_in_lists(v) for v in value.values())])
    if isinstance(value, list):
        return max([len(value), *(numbers_in_lists(v) for v in value)])
    return 0


@pytest.fixture
def run_with_report(sample_copy: Path, tmp_path: Path) -> tuple[dict, Path, str]:
    bad = sample_copy.parent / "broken.png"
    bad.write_bytes(b"not a png")
    (sample_copy.parent / "readme.txt").write_text("skipped")
    before = sha256(sample_copy)
    report = tmp_path / "reports" / "run.json"  # its folder does not exist yet
    result = run_cli(sample_copy.parent, "-o", tmp_path / "out", "--report", report)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert sha256(sample_copy) == before
    return json.loads(report.read_text(encoding="utf-8")), report, result.stderr


def test_report_names_version_model_and_settings(run_with_report: tuple[dict, Path, str]) -> None:
    data, _, _ = run_with_report
    assert data["unseen_version"] == unseen.__version__
    assert data["model"] == {"name": "centerface", "sha256": hashlib.sha256(MODEL.read_bytes()).hexdigest()}
    int8 = MODEL.with_name("centerface_int8.onnx")  # balanced runs its 1.5 pass on it
    assert data["models"] == [
        {"name": "centerface", "sha256": hashlib.sha256(MODEL.read_bytes()).hexdigest()},
        {"name": "centerface_int8", "sha256": hashlib.sha256(int8.read_bytes()).hexdigest()},
    ]
    assert data["settings"]["method"] == "solid"
    assert data["settings"]["format"] is None
    assert data["settings"]["orientation_probe"] == {
        "model": "centerface_int8",
        "long_side": 512,
        "sure_score": 0.5,
        "turns": [90, 270],
    }
    assert isinstance(data["seconds"], float) and data["seconds"] > 0
    faces = sum(len(f["faces"]) for f in data["files"])
    assert faces >= 1
    assert data["summary"] == {
        "done": 1,
        "failed": 1,
        "skipped": 1,
        "faces": faces,
        "clean": 1,
        "residuals": 0,
        "unverified": 0,
    }


def test_report_has_every_input_with_its_outcome(run_with_report: tuple[dict, Path, str], tmp_path: Path) -> None:
    data, _, _ = run_with_report
    by_name = {Path(f["input"]).name: f for f in data["files"]}
    assert set(by_name) == {"broken.png", SAMPLE.name, "readme.txt"}

    done = by_name[SAMPLE.name]
    assert done["status"] == "done" and done["reason"] is None
    assert done["output"] == f"out/{SAMPLE.name}"  # from the output folder given, not the file system's root
    assert (done["width"], done["height"]) == (512, 512)
    assert done["seconds"] > 0

    broken = by_name["broken.png"]
    assert broken["status"] == "failed" and broken["output"] is None and broken["faces"] == []
    assert broken["reason"] and "\n" not in broken["reason"]

    skipped = by_name["readme.txt"]
    assert skipped["status"] == "skipped" and skipped["output"] is None


def test_report_faces_cover_the_sample_face(run_with_report: tuple[dict, Path, str]) -> None:
    data, _, _ = run_with_report
    (done,) = [f for f in data["files"] if f["status"] == "done"]
    assert len(done["faces"]) >= 1
    for face in done["faces"]:
        assert set(face) == {"box", "score"}
        assert len(face["box"]) == 4 and 0.0 < face["score"] <= 1.0
    assert max(overlap(face["box"], SAMPLE_FACE) for face in done["faces"]) >= 0.5


def test_report_holds_no_pixels(run_with_report: tuple[dict, Path, str]) -> None:
    data, report, _ = run_with_report
    assert report.stat().st_size < 8_000
    assert numbers_in_lists(data) < 64
    assert not [p for p in report.parent.iterdir() if p != report]  # no temporary file left beside it


def test_summary_line_on_stderr(run_with_report: tuple[dict, Path, str]) -> None:
    _, _, stderr = run_with_report
    summaries = [line for line in stderr.splitlines() if " done, " in line]
    assert summaries == [summaries[0]]
    assert summaries[0].startswith("unseen: 1 done, 1 failed, ")
    assert "1 skipped" in summaries[0]


def test_report_records_method_and_format(sample_copy: Path, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    args = ["-o", tmp_path / "out", "--method", "pixelate", "--strength", "0.3", "--format", "webp", "--report", report]
    result = run_cli(sample_copy, *args)
    assert result.returncode == 0, result.stderr
    data = json.loads(report.read_text())
    assert data["settings"]["method"] == "pixelate"
    assert data["settings"]["strength"] == 0.3
    assert data["settings"]["format"] == "WEBP"
    assert data["files"][0]["output"].endswith("astronaut.webp")
    assert Image.open(tmp_path / "out" / "astronaut.webp").format == "WEBP"


def test_existing_report_is_kept_without_overwrite(sample_copy: Path, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    report.write_text("mine")
    result = run_cli(sample_copy, "-o", tmp_path / "out", "--report", report)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert report.read_text() == "mine"
    assert not (tmp_path / "out").exists()

    result = run_cli(sample_copy, "-o", tmp_path / "out", "--report", report, "--overwrite")
    assert result.returncode == 0, result.stderr
    assert json.loads(report.read_text())["summary"]["done"] == 1


@pytest.mark.parametrize("where", ["input", "in_folder", "output"])
def test_report_never_replaces_an_input_or_output(sample_copy: Path, tmp_path: Path, where: str) -> None:
    report = {
        "input": sample_copy,
        "in_folder": sample_copy.parent / "r.json",
        "output": tmp_path / "out" / SAMPLE.name,
    }[where]
    before = sha256(sample_copy)
    given = sample_copy if where == "input" else sample_copy.parent
    result = run_cli(given, "-o", tmp_path / "out", "--report", report, "--overwrite")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert sha256(sample_copy) == before
    assert not (sample_copy.parent / "r.json").exists()


def test_unwritable_report_fails_in_one_line_after_the_work(sample_copy: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli(sample_copy, "-o", tmp_path / "out", "--report", blocker / "r.json")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if "report" in line]) == 1
    assert (tmp_path / "out" / SAMPLE.name).is_file()


def test_report_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.json"
    report = RunReport("0", {"name": "m", "sha256": "0"}, {}, "now", [FileReport("a", "b", "done")])
    report.write(target)
    first = target.read_text()
    assert json.loads(first)["files"][0]["input"] == "a"

    def fail(_src: object, _dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    report.files.append(FileReport("c", None, "failed", reason="x"))
    with pytest.raises(OSError):
        report.write(target)
    assert target.read_text() == first
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_summary_line_counts() -> None:
    report = RunReport("0", {}, {}, "now")
    report.files = [
        FileReport("a", "x", "done", faces=[{"box": [0, 0, 1, 1], "score": 0.9}] * 2),
        FileReport("b", None, "failed", reason="bad"),
        FileReport("c", None, "skipped", reason="not an image"),
    ]
    report.seconds = 1.25
    assert report.summary_line() == (
        "unseen: 1 done, 1 failed, 2 faces obscured, 1 skipped (not images or videos); 0 clean, 0 with residuals, "
        "1 not verified, 1.2 s"
    )
    report.files[0].verified = True
    report.files.append(FileReport("d", "y", "done", verified=True, residuals=[{"box": [0, 0, 9, 9], "score": 0.5}]))
    assert report.summary_line().endswith("; 1 clean, 1 with residuals, 1.2 s")
    assert [f.verdict for f in report.files] == ["clean", "failed", "skipped", "residuals"]


def test_summary_line_says_one_face() -> None:
    report = RunReport("0", {}, {}, "now")
    report.files = [FileReport("a", "x", "done", verified=True, faces=[{"box": [0, 0, 1, 1], "score": 0.9}])]
    assert report.summary_line().startswith("unseen: 1 done, 0 failed, 1 face obscured; 1 clean")
