"""--rename: outputs named by number, not after originals whose names tell when (IMG_20240315_142231.jpg).

The numbering is planned (paths.plan) and checked here without running anything; the command's runs check that
outputs are numbered in the jobs' order straight into -o, that the report then names no original, that the names
are written only to the rename map and only when it is asked for, and that running again adds, never collides.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import sha256
from PIL import Image

from unseen import cli
from unseen.paths import VIDEO, plan
from unseen.renaming import WITHHELD

# Names as phones and cameras give them, in folders named for the day: none may reach an output or the report.
ORIGINALS = ["IMG_20240315_142231.jpg", "day1/IMG_20240316_091500.png", "day1/PXL_20240316_101010.webp"]
REVEALING = ("IMG_", "PXL_", "2024", "day1", "notes")


def picture(path: Path, shade: int) -> None:
    """A small picture without a face, each its own shade, so that an output can be told back to its input."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((48, 64, 3), shade, np.uint8)).save(path)


def shade_of(path: Path) -> int:
    with Image.open(path) as image:
        return int(np.asarray(image.convert("RGB")).mean().round())


@pytest.fixture
def phone(tmp_path: Path) -> Path:
    root = tmp_path / "phone"
    for index, name in enumerate(ORIGINALS):
        picture(root / name, 40 * (index + 1))
    (root / "day1" / "notes.txt").write_text("not a picture")
    (root / "day1" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")  # tried, and fails
    return root


def run(capfd: pytest.CaptureFixture[str], *args: object) -> tuple[int, str]:
    capfd.readouterr()
    code = cli.main([str(arg) for arg in args])
    return code, capfd.readouterr().err


# --- the plan -------------------------------------------------------------------------------------------------


def test_outputs_are_numbered_in_the_jobs_order_straight_into_the_output_folder(phone: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    jobs = plan([phone], out, None, rename=True)
    named = {job.source.relative_to(phone).as_posix(): job.target for job in jobs}
    assert named["IMG_20240315_142231.jpg"] == out / "0001.jpg"
    assert named["day1/IMG_20240316_091500.png"] == out / "0002.png"
    assert named["day1/PXL_20240316_101010.webp"] == out / "0003.webp"
    assert named["day1/broken.png"] == out / "0004.png"  # tried, though it will fail
    assert [job.target for job in jobs if job.skipped] == [out / "day1" / "notes.txt"]  # never written: unnumbered


def test_the_format_chosen_gives_the_suffix_and_a_video_keeps_its_own(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    picture(folder / "a.png", 1)
    (folder / "b.MOV").write_bytes(b"")
    (folder / "c.GIF").write_bytes(b"")  # a still GIF is written as PNG; an animated one, as a video, by video.py
    jobs = plan([folder], tmp_path / "out", "JPEG", rename=True)
    assert [(job.target.name, job.fmt) for job in jobs] == [
        ("0001.jpg", "JPEG"),
        ("0002.mov", VIDEO),
        ("0003.jpg", "JPEG"),
    ]


def test_a_photo_whose_format_is_known_once_read_gets_its_suffix_then(tmp_path: Path) -> None:
    source = tmp_path / "IMG_20240315_142231"
    picture(source.with_suffix(".png"), 1)
    source.with_suffix(".png").rename(source)
    (job,) = plan([source], tmp_path / "out", None, rename=True)
    assert job.fmt is None and job.target == tmp_path / "out" / "0001"
    assert {target.name for target in job.final_targets()} >= {"0001.png", "0001.jpg"}


def test_numbering_goes_on_after_the_highest_number_already_there_and_widens(tmp_path: Path) -> None:
    folder, out = tmp_path / "in", tmp_path / "out"
    picture(folder / "a.png", 1)
    picture(folder / "b.png", 2)
    out.mkdir()
    for name in ("9998.mp4", "notes.txt", "0042.png", ".9999.png.1a2b3c4d.unseen-tmp"):  # a temporary file: ignored
        (out / name).write_bytes(b"")
    assert [job.target.name for job in plan([folder], out, None, rename=True)] == ["09999.png", "10000.png"]


# --- the command ----------------------------------------------------------------------------------------------


def test_a_run_names_no_original_in_its_outputs_or_report(
    phone: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    out, report = tmp_path / "out", tmp_path / "report.json"
    code, err = run(capfd, phone, "-o", out, "--rename", "--report", report, "-q")
    assert code == 1 and len(err.splitlines()) == 1 and "broken.png" in err  # the terminal is told which one
    assert sorted(p.name for p in out.rglob("*")) == ["0001.jpg", "0002.png", "0003.webp"]
    assert [shade_of(out / name) for name in ("0001.jpg", "0002.png", "0003.webp")] == [40, 80, 120]
    text = report.read_text(encoding="utf-8")
    assert not [word for word in REVEALING if word in text], text
    files = json.loads(text)["files"]
    assert [(f["input"], f["output"], f["status"]) for f in files] == [
        ("0001", "out/0001.jpg", "done"),
        ("0002", "out/0002.png", "done"),
        ("0003", "out/0003.webp", "done"),
        (WITHHELD, None, "failed"),
        (WITHHELD, None, "skipped"),
    ]
    assert not list(tmp_path.glob("*.csv")) and not list(out.glob("*.csv"))  # no map unless asked for


def test_full_paths_withhold_the_names_too(phone: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "report.json"
    run(capfd, phone, "-o", tmp_path / "out", "--rename", "--report", report, "--report-full-paths", "-q")
    files = json.loads(report.read_text(encoding="utf-8"))["files"]
    assert files[0]["input"] == "0001" and files[0]["output"] == str(tmp_path / "out" / "0001.jpg")
    assert not [word for word in REVEALING if word in json.dumps(files)]


def test_the_rename_map_holds_the_names_when_asked_for(
    phone: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    out, mapping = tmp_path / "out", tmp_path / "names.csv"
    code, _ = run(capfd, phone, "-o", out, "--rename", "--rename-map", mapping, "-q")
    assert code == 1  # broken.png
    with mapping.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [(r["original"], r["output"], r["status"]) for r in rows] == [
        ("phone/IMG_20240315_142231.jpg", "out/0001.jpg", "done"),
        ("phone/day1/IMG_20240316_091500.png", "out/0002.png", "done"),
        ("phone/day1/PXL_20240316_101010.webp", "out/0003.webp", "done"),
        ("phone/day1/broken.png", "", "failed"),
        ("phone/day1/notes.txt", "", "skipped"),
    ]
    for row in rows:
        if row["output"]:
            original, output = phone.parent / row["original"], tmp_path / row["output"]
            assert shade_of(output) == shade_of(original)


def test_running_again_adds_after_and_never_collides(
    phone: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    run(capfd, phone, "-o", out, "--rename", "-q")
    first = {path.name: sha256(path) for path in out.iterdir()}
    picture(phone / "IMG_20240317_000000.jpg", 200)  # a new photo, sorted among the others
    code, err = run(capfd, phone, "-o", out, "--rename", "-q")
    assert code == 1 and "exists" not in err  # broken.png again, nothing else
    assert {name: sha256(out / name) for name in first} == first  # the first run's outputs untouched
    added = sorted(set(p.name for p in out.iterdir()) - set(first))
    assert added == ["0004.jpg", "0005.jpg", "0006.png", "0007.webp"]  # 0004 to 0007: after the first run's 0003
    assert [shade_of(out / name) for name in added] == [40, 200, 80, 120]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--rename"], "unseen: --rename needs -o: the renamed outputs go into a folder of their own"),
        (["-o", "OUT", "--rename-map", "m.csv"], "unseen: --rename-map lists what --rename named each output"),
        (["--rename", "--regions-out", "r.json"], "unseen: --rename names outputs, and --regions-out writes none"),
        (["-o", "OUT", "--rename", "--rename-map", "IN/m.csv"], "unseen: rename map IN/m.csv is inside an input"),
        (["-o", "OUT", "--rename", "--rename-map", "OUT/m.csv"], "unseen: rename map OUT/m.csv is inside the output"),
    ],
)
def test_rename_options_that_cannot_work_are_a_usage_error(
    phone: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str], args: list[str], line: str
) -> None:
    def placed(text: str) -> str:
        return text.replace("IN/", f"{phone}/").replace("OUT/", f"{tmp_path / 'out'}/")

    code, err = run(capfd, phone, *[str(tmp_path / "out") if a == "OUT" else placed(a) for a in args])
    assert code == 2
    assert err.splitlines() == [err.strip()] and err.startswith(placed(line)), err
    assert not (tmp_path / "out").exists()
