"""Planning: which files are found, where each output goes, and which outputs are refused. Nothing is run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from unseen.paths import VIDEO, Job, UsageError, default_output, display, plan


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def targets(jobs: list[Job]) -> dict[Path, Path]:
    return {job.source: job.target for job in jobs if job.problem is None}


def problems(jobs: list[Job]) -> dict[Path, str]:
    return {job.source: job.problem for job in jobs if job.problem is not None and not job.skipped}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    for rel in ["a.png", "b.JPG", "sub/c.webp", "sub/deeper/d.tiff", "sub/deeper/e.jpeg"]:
        touch(root / rel)
    return root


def test_folder_maps_every_file_to_the_same_relative_path_under_out(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    found = targets(plan([tree], out, None))
    expected = ["a.png", "b.JPG", "sub/c.webp", "sub/deeper/d.tiff", "sub/deeper/e.jpeg"]
    assert found == {tree / rel: out / rel for rel in expected}


def test_order_is_stable_and_sorted(tree: Path, tmp_path: Path) -> None:
    first = [job.source for job in plan([tree], tmp_path / "out", None)]
    assert first == [job.source for job in plan([tree], tmp_path / "out", None)]
    assert first[:2] == [tree / "a.png", tree / "b.JPG"]


def test_explicit_files_go_straight_under_out(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    found = targets(plan([tree / "sub" / "c.webp", tree / "a.png"], out, None))
    assert found == {tree / "sub" / "c.webp": out / "c.webp", tree / "a.png": out / "a.png"}


@pytest.mark.parametrize(
    ("name", "fmt", "written"),
    [
        ("p.jpg", "PNG", "p.png"),
        ("p.jpeg", None, "p.jpeg"),
        ("p.JPG", None, "p.JPG"),
        ("p.png", "JPEG", "p.jpg"),
        ("p.png", "PNG", "p.png"),
        ("p.tiff", "WEBP", "p.webp"),
        ("p.gif", None, "p.png"),  # GIF and BMP are written as PNG, so their name must say PNG
        ("p.bmp", None, "p.png"),
        ("p.mpo", None, "p.jpg"),
    ],
)
def test_output_suffix_matches_the_format_written(tmp_path: Path, name: str, fmt: str | None, written: str) -> None:
    source = touch(tmp_path / "in" / name)
    (job,) = plan([tmp_path / "in"], tmp_path / "out", fmt)
    assert job.target == tmp_path / "out" / written
    assert job.source == source


def test_non_images_in_a_folder_are_skipped_not_failed(tmp_path: Path) -> None:
    root = tmp_path / "in"
    touch(root / "notes.txt")
    touch(root / "clip.mp4")
    touch(root / ".a.png.x1.unseen-tmp")  # a leftover of an interrupted run is not an input
    jobs = plan([root], tmp_path / "out", None)
    assert {job.source.name: job.skipped for job in jobs} == {"notes.txt": True, "clip.mp4": False}


def test_videos_keep_their_name_whatever_the_photo_format(tmp_path: Path) -> None:
    touch(tmp_path / "in" / "clip.MOV")
    (job,) = plan([tmp_path / "in"], tmp_path / "out", "JPEG")
    assert (job.fmt, job.target, job.problem) == (VIDEO, tmp_path / "out" / "clip.MOV", None)


def test_explicit_non_image_is_attempted_and_fails_later(tmp_path: Path) -> None:
    source = touch(tmp_path / "notes.txt")
    (job,) = plan([source], tmp_path / "out", None)
    assert job.problem is None and job.fmt is None
    assert sorted(p.name for p in job.final_targets()) == [f"notes.txt.{s}" for s in ("jpg", "png", "tif", "webp")]


def test_missing_input_is_a_failed_job(tmp_path: Path) -> None:
    (job,) = plan([tmp_path / "nope.png"], tmp_path / "out", None)
    assert job.problem == "no such file or folder" and not job.skipped


def test_broken_symlink_fails(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    os.symlink(root / "gone.png", root / "link.png")
    (job,) = plan([root], tmp_path / "out", None)
    assert job.problem == "broken symbolic link"


def test_symlink_loop_terminates_and_keeps_real_files(tree: Path, tmp_path: Path) -> None:
    os.symlink(tree, tree / "loop")
    os.symlink(tree, tree / "sub" / "back")
    jobs = plan([tree], tmp_path / "out", None)
    assert len(jobs) == 5
    assert all("loop" not in job.source.parts and "back" not in job.source.parts for job in jobs)


def test_out_inside_input_folder_is_a_usage_error(tree: Path) -> None:
    with pytest.raises(UsageError, match="inside input folder"):
        plan([tree], tree / "sub" / "out", None)


def test_out_equal_to_input_folder_is_a_usage_error(tree: Path) -> None:
    with pytest.raises(UsageError, match="is input folder"):
        plan([tree], tree, None)


def test_out_reaching_into_input_through_a_symlink_is_a_usage_error(tree: Path, tmp_path: Path) -> None:
    os.symlink(tree / "sub", tmp_path / "sneaky")
    with pytest.raises(UsageError):
        plan([tree], tmp_path / "sneaky", None)


def test_out_that_is_a_file_is_a_usage_error(tree: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a folder"):
        plan([tree], touch(tmp_path / "file"), None)


def test_output_that_would_replace_its_own_input_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    source = touch(out / "a.png")
    (job,) = plan([source], out, None)
    assert job.problem is not None and "replace an input" in job.problem


def test_output_that_would_replace_another_input_is_refused(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    other = touch(out / "a.png")  # an original that happens to sit where tree/a.png's output goes
    jobs = plan([tree, other], out, None)
    assert "replace an input" in problems(jobs)[tree / "a.png"]


def test_hard_link_of_an_input_is_never_an_output(tmp_path: Path) -> None:
    source = touch(tmp_path / "in" / "a.png")
    (tmp_path / "out").mkdir()
    os.link(source, tmp_path / "out" / "a.png")
    (job,) = plan([source], tmp_path / "out", None)
    assert job.problem is not None and "replace an input" in job.problem


def test_output_folder_linked_into_an_input_folder_is_refused(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(tree / "sub", out / "sub")  # out/sub/x would land in tree/sub
    jobs = plan([tree], out, "PNG")
    assert "inside an input folder" in problems(jobs)[tree / "sub" / "c.webp"]
    assert tree / "a.png" not in problems(jobs)


def test_two_inputs_with_one_output_the_second_fails(tmp_path: Path) -> None:
    first = touch(tmp_path / "x" / "a.png")
    second = touch(tmp_path / "y" / "a.png")
    jobs = plan([first, second], tmp_path / "out", None)
    assert problems(jobs) == {second: f"another input has the same output path ({display(tmp_path / 'out' / 'a.png')})"}


def test_format_change_that_merges_two_names_fails_the_second(tmp_path: Path) -> None:
    touch(tmp_path / "in" / "a.jpg")
    touch(tmp_path / "in" / "a.png")
    jobs = plan([tmp_path / "in"], tmp_path / "out", "PNG")
    assert list(problems(jobs)) == [tmp_path / "in" / "a.png"]


def test_unknown_format_output_cannot_take_another_outputs_name(tmp_path: Path) -> None:
    first = touch(tmp_path / "x" / "photo")  # no suffix: its output gets the suffix of what it turns out to be
    second = touch(tmp_path / "y" / "photo.png")
    jobs = plan([first, second], tmp_path / "out", None)
    assert list(problems(jobs)) == [second]


def test_default_output_of_a_file_is_beside_it(tmp_path: Path) -> None:
    source = touch(tmp_path / "photo.jpg")
    assert default_output(source) == tmp_path / "photo_unseen.jpg"
    (job,) = plan([source], None, None)
    assert job.target == tmp_path / "photo_unseen.jpg"


def test_default_output_of_a_folder_is_a_sibling_folder(tree: Path) -> None:
    jobs = plan([tree], None, None)
    assert targets(jobs)[tree / "sub" / "c.webp"] == tree.parent / "in_unseen" / "sub" / "c.webp"


def test_default_output_of_the_current_folder_is_beside_it(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    assert targets(plan([Path(".")], None, None))[Path("a.png")] == tree.parent / "in_unseen" / "a.png"


def test_default_output_inside_another_input_folder_is_a_usage_error(tree: Path) -> None:
    with pytest.raises(UsageError, match="-o"):
        plan([tree, tree / "sub"], None, None)  # tree/sub_unseen would be inside tree


def test_default_output_of_a_file_inside_an_input_folder_is_refused(tree: Path) -> None:
    jobs = plan([tree, tree / "a.png"], None, None)
    assert "inside an input folder" in problems(jobs)[tree / "a.png"]


def test_non_utf8_names_are_planned_and_displayable(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    raw = os.path.join(os.fsencode(root), b"caf\xe9.png")
    with open(raw, "wb") as stream:
        stream.write(b"x")
    (job,) = plan([root], tmp_path / "out", None)
    assert os.fsencode(job.target) == os.path.join(os.fsencode(tmp_path / "out"), b"caf\xe9.png")
    assert display(job.source).endswith("caf\\xe9.png")
    display(job.source).encode("utf-8")  # printable and JSON-safe
