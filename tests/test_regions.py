"""The regions file: detect only and record the decisions, correct them by hand, write exactly what was decided."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE, SAMPLE_FACE, changed_share, load_rgb, run_cli, sha256

PERSON_BOX = [20, 300, 120, 420]  # a region a person adds where the detector found nothing (the suit)


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """in/astronaut.png and in/sub/copy.png: the sample twice."""
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    shutil.copyfile(SAMPLE, root / SAMPLE.name)
    shutil.copyfile(SAMPLE, root / "sub" / "copy.png")
    return root


def detect(inputs: Path, regions: Path) -> dict:
    result = run_cli(inputs, "--regions-out", regions)
    assert result.returncode == 0, result.stderr
    assert "decisions in" in result.stderr and "nothing else written" in result.stderr
    return json.loads(regions.read_text())


def corrected(data: dict) -> dict:
    """A person's decisions: a region added on the first photo, the detection on the second removed."""
    files = {entry["path"]: entry for entry in data["files"]}
    files["in/astronaut.png"]["regions"].append({"box": PERSON_BOX, "origin": "person"})
    files["in/sub/copy.png"]["regions"][0]["removed"] = True
    return data


def test_detect_only_writes_the_decisions_and_nothing_else(tmp_path: Path, inputs: Path) -> None:
    regions = tmp_path / "regions.json"
    before = sorted(p.name for p in tmp_path.iterdir())
    data = detect(inputs, regions)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, "regions.json"])  # no output folder
    assert data["unseen_regions"] == 2
    assert [e["path"] for e in data["files"]] == ["in/astronaut.png", "in/sub/copy.png"]
    for entry in data["files"]:
        assert entry["sha256"] == sha256(SAMPLE) and (entry["width"], entry["height"]) == (512, 512)
        assert entry["approved"] is False
        (face,) = entry["regions"]
        assert face["origin"] == "detector" and face["score"] > 0.9
        x1, y1, x2, y2 = face["box"]
        fx1, fy1, fx2, fy2 = SAMPLE_FACE
        assert x1 < fx2 and fx1 < x2 and y1 < fy2 and fy1 < y2  # on the astronaut's face


def test_writing_from_decisions_obscures_exactly_what_was_decided(tmp_path: Path, inputs: Path) -> None:
    regions = tmp_path / "regions.json"
    regions.write_text(json.dumps(corrected(detect(inputs, regions))))
    out, report = tmp_path / "out", tmp_path / "report.json"
    result = run_cli(inputs, "-o", out, "--regions", regions, "--report", report)
    assert result.returncode == 0, result.stderr
    original = load_rgb(SAMPLE)
    first, second = load_rgb(out / SAMPLE.name), load_rgb(out / "sub" / "copy.png")
    x1, y1, x2, y2 = PERSON_BOX
    assert changed_share(original, first, (x1, y1, x2, y2)) >= 0.9  # the person's region
    assert changed_share(original, first, SAMPLE_FACE) >= 0.9  # the detection kept
    assert np.array_equal(second, original)  # the removed detection: nothing obscured, PNG is lossless
    files = {f["input"]: f for f in json.loads(report.read_text())["files"]}
    assert [r["origin"] for r in files["in/astronaut.png"]["faces"]] == ["detector", "person"]
    removed = files["in/sub/copy.png"]
    assert removed["faces"][0]["removed"] is True
    # The residual check still looks: a face a person let through is flagged, not hidden.
    assert removed["verdict"] == "residuals" and "warning" in result.stderr


def test_same_decisions_and_inputs_give_byte_identical_outputs(tmp_path: Path, inputs: Path) -> None:
    regions = tmp_path / "regions.json"
    regions.write_text(json.dumps(corrected(detect(inputs, regions))))
    for out in ("a", "b"):
        assert run_cli(inputs, "-o", tmp_path / out, "--regions", regions, "-q").returncode == 0
    for name in (SAMPLE.name, "sub/copy.png"):
        assert sha256(tmp_path / "a" / name) == sha256(tmp_path / "b" / name)


def test_a_file_changed_since_is_refused_and_one_not_listed_is_detected(tmp_path: Path, inputs: Path) -> None:
    regions = tmp_path / "regions.json"
    data = detect(inputs, regions)
    data["files"] = [e for e in data["files"] if e["path"] == "in/astronaut.png"]  # copy.png is not listed
    regions.write_text(json.dumps(data))
    (inputs / SAMPLE.name).write_bytes((inputs / SAMPLE.name).read_bytes() + b"\0")  # changed after the review
    out = tmp_path / "out"
    result = run_cli(inputs, "-o", out, "--regions", regions)
    assert result.returncode == 1
    (line,) = [line for line in result.stderr.splitlines() if SAMPLE.name in line]
    assert "changed since the regions file was written" in line
    assert not (out / SAMPLE.name).exists()
    assert changed_share(load_rgb(SAMPLE), load_rgb(out / "sub" / "copy.png"), SAMPLE_FACE) >= 0.9


@pytest.mark.parametrize(
    "text",
    ["not json", '{"files": []}', '{"unseen_regions": 1, "files": [{"path": "a.png"}]}',
     '{"unseen_regions": 1, "files": [{"path": "a", "sha256": "x", "width": 1, "height": 1,'
     ' "regions": [{"box": [5, 5, 1, 1]}]}]}',
     '{"unseen_regions": 1, "files": [{"path": "a", "sha256": "x", "width": 10, "height": 10,'
     ' "regions": [{"box": [20, 20, 30, 30]}]}]}',
     '{"unseen_regions": 1, "files": [{"path": "a", "sha256": "x", "width": 10, "height": 10,'
     ' "regions": [{"box": [1, 1, 3, 3], "remove": true}]}]}',
     '{"unseen_regions": 1, "files": [{"path": "a", "sha256": "x", "width": 10, "height": 10, "aproved": true,'
     ' "regions": []}]}'],
    ids=["not-json", "no-version", "missing-keys", "empty-box", "outside", "unknown-region-field",
         "unknown-file-field"],
)  # fmt: skip
def test_a_bad_regions_file_is_a_usage_error(tmp_path: Path, inputs: Path, text: str) -> None:
    regions = tmp_path / "regions.json"
    regions.write_text(text)
    result = run_cli(inputs, "-o", tmp_path / "out", "--regions", regions)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("unseen: regions file regions.json ")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "args",
    [["--regions-out", "r.json", "-o", "out"], ["--regions-out", "r.json", "--regions", "r.json"]],
    ids=["with-output", "both"],
)
def test_regions_options_that_cannot_go_together(tmp_path: Path, inputs: Path, args: list[str]) -> None:
    result = run_cli(inputs, *args, cwd=tmp_path)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1


def test_the_regions_file_is_never_written_into_an_input_folder(inputs: Path) -> None:
    result = run_cli(inputs, "--regions-out", inputs / "regions.json")
    assert result.returncode == 2 and "inside an input folder" in result.stderr
    assert not (inputs / "regions.json").exists()


def test_a_listed_file_that_is_not_among_the_inputs_gets_a_line(tmp_path: Path, inputs: Path) -> None:
    data = detect(inputs, tmp_path / "regions.json")
    moved = dict(data["files"][0], path="elsewhere/gone.png")
    (tmp_path / "regions.json").write_text(json.dumps({**data, "files": [*data["files"], moved]}))
    result = run_cli(inputs, "-o", tmp_path / "out", "--regions", tmp_path / "regions.json", "-q")
    assert result.returncode == 0
    (line,) = result.stderr.splitlines()
    assert "lists 1 file not among the inputs (e.g. elsewhere/gone.png)" in line
