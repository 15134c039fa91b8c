"""Planning: which files are found, where each output goes, and which outputs are refused. Nothing is run."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from unseen.errors import UsageError
from unseen.names import display, printable
from unseen.paths import VIDEO, Job, default_output, plan


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
    assert sorted(p.name for p in job.final_targets()) == [
        f"notes.txt.{s}" for s in ("avif", "heic", "jpg", "png", "tif", "webp")
    ]


def test_missing_input_is_a_failed_job(tmp_path: Path) -> None:
    (job,) = plan([tmp_path / "nope.png"], tmp_path / "out", None)
    assert job.problem == "no such file or folder" and not job.skipped


def test_broken_symlink_fails(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    os.symlink(root / "gone.png", root / "link.png")
    (job,) = plan([root], tmp_path / "out", None)
    assert job.problem == "broken symbolic link"


def test_symlink_loop_terminates_keeps_real_files_and_names_each_loop(tree: Path, tmp_path: Path) -> None:
    os.symlink(tree, tree / "loop")
    os.symlink(tree, tree / "sub" / "back")
    os.symlink("..", tree / "sub" / "up")
    jobs = plan([tree], tmp_path / "out", None)
    assert len(targets(jobs)) == 5
    assert all("loop" not in source.parts and "back" not in source.parts for source in targets(jobs))
    loop = "symbolic link loop"
    assert problems(jobs) == {tree / "loop": loop, tree / "sub" / "back": loop, tree / "sub" / "up": loop}


def test_linked_folder_is_walked_under_the_links_name(tree: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    touch(elsewhere / "x.png")
    touch(elsewhere / "deep" / "y.jpg")
    os.symlink(elsewhere, tree / "sub" / "linked")
    out = tmp_path / "out"
    found = targets(plan([tree], out, None))
    assert found[tree / "sub" / "linked" / "x.png"] == out / "sub" / "linked" / "x.png"
    assert found[tree / "sub" / "linked" / "deep" / "y.jpg"] == out / "sub" / "linked" / "deep" / "y.jpg"
    assert len(found) == 7


def test_link_back_through_a_linked_folder_is_a_loop(tree: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    touch(elsewhere / "x.png")
    os.symlink(elsewhere, tree / "linked")
    os.symlink(tree, elsewhere / "home")  # in/linked/home is in/ again, though elsewhere/ does not hold in/
    jobs = plan([tree], tmp_path / "out", None)
    assert problems(jobs) == {tree / "linked" / "home": "symbolic link loop"}
    assert tree / "linked" / "x.png" in targets(jobs)


def test_folder_reached_twice_is_walked_once_at_its_own_place(tree: Path, tmp_path: Path) -> None:
    os.symlink(tree / "sub" / "deeper", tree / "a_link")  # sorts before sub/: still, sub/deeper is walked there
    elsewhere = tmp_path / "elsewhere"
    touch(elsewhere / "x.png")
    os.symlink(elsewhere, tree / "first")
    os.symlink(elsewhere, tree / "second")
    jobs = plan([tree], tmp_path / "out", None)
    assert tree / "sub" / "deeper" / "d.tiff" in targets(jobs)
    assert tree / "first" / "x.png" in targets(jobs)
    assert problems(jobs) == {
        tree / "a_link": f"folder already included as {display(tree / 'sub' / 'deeper')}",
        tree / "second": f"folder already included as {display(tree / 'first')}",
    }


def test_output_into_a_linked_folder_is_refused_like_one_into_an_input_folder(tree: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    touch(elsewhere / "x.jpg")
    os.symlink(elsewhere, tree / "linked")
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(elsewhere, out / "linked")  # out/linked/x.png would be written into elsewhere/
    jobs = plan([tree], out, "PNG")
    assert "inside an input folder" in problems(jobs)[tree / "linked" / "x.jpg"]


def test_link_into_the_output_folder_takes_no_input_from_it(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    touch(out / "earlier" / "a.png")  # what an earlier run wrote
    os.symlink(out / "earlier", tree / "linked")
    jobs = plan([tree], out, None)
    assert problems(jobs) == {tree / "linked": "symbolic link into the output folder"}
    assert not [job for job in jobs if "linked" in job.source.parts and job.source != tree / "linked"]


def test_output_folder_inside_a_linked_folder_is_a_usage_error(tree: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    touch(elsewhere / "x.png")
    os.symlink(elsewhere, tree / "linked")
    with pytest.raises(UsageError, match="inside input folder"):
        plan([tree], elsewhere / "out", None)


def test_link_to_a_folder_above_the_input_is_a_loop(tree: Path, tmp_path: Path) -> None:
    os.symlink(tmp_path, tree / "sub" / "top")  # it holds in/ and everything beside it: never walked
    (job,) = [job for job in plan([tree], tmp_path / "out", None) if job.problem is not None]
    assert (job.source, job.problem) == (tree / "sub" / "top", "symbolic link loop")


@pytest.mark.parametrize("where", ["folder", "explicit", "link"])
def test_named_pipe_is_refused_and_never_opened(tmp_path: Path, where: str) -> None:
    root = tmp_path / "in"
    root.mkdir()
    pipe = root / ("x.mp4" if where != "link" else "pipe")
    os.mkfifo(pipe)
    if where == "link":
        os.symlink(pipe, root / "x.png")
    inputs = [pipe] if where == "explicit" else [root]
    jobs = [job for job in plan(inputs, tmp_path / "out", None) if not job.skipped]  # `pipe` has no suffix
    assert [(job.source.name, job.problem) for job in jobs] == [
        ("x.png" if where == "link" else "x.mp4", "not a regular file (a named pipe)")
    ]


def test_socket_is_refused(tmp_path: Path) -> None:
    import socket

    root = tmp_path / "in"
    root.mkdir()
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(root / "s.png"))
        (job,) = plan([root], tmp_path / "out", None)
    assert job.problem == "not a regular file (a socket)"


def test_device_named_on_the_command_line_is_refused(tmp_path: Path) -> None:
    (job,) = plan([Path(os.devnull)], tmp_path / "out", None)
    assert job.problem == "not a regular file (a character device)"


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


def test_display_escapes_control_characters(tmp_path: Path) -> None:
    name = "a\nb\rc\x1b[31md\x07\x7f\x85\u2028e\\f.png"
    shown = display(tmp_path / name)
    assert shown.endswith("a\\nb\\rc\\x1b[31md\\x07\\x7f\\x85\\u2028e\\f.png")
    assert shown.isprintable() and len(shown.splitlines()) == 1


def test_printable_escapes_a_whole_message() -> None:
    assert printable("cannot write x\ny\x1b[2J: boom") == "cannot write x\\ny\\x1b[2J: boom"
    assert printable(os.fsdecode(b"caf\xe9")) == "caf\\xe9"
    assert printable("lone \ud800") == "lone \\ud800"


# ---------------------------------------------------------------- the output folder can be written


def refuse_writes_to(monkeypatch: pytest.MonkeyPatch, *refused: Path) -> None:
    """os.access says no for these folders, as it does for a user without write permission (root is never
    refused by the mode bits, so the tests, run as root, simulate it)."""
    real = os.access

    def access(path: object, mode: int, **kwargs: object) -> bool:
        if Path(os.fspath(path)) in refused and mode & os.W_OK:  # type: ignore[arg-type]
            return False
        return real(path, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)


def test_read_only_output_folder_is_a_usage_error(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    refuse_writes_to(monkeypatch, out)
    with pytest.raises(
        UsageError, match=f"^cannot write to output folder {re.escape(display(out))}: permission denied$"
    ):
        plan([tree], out, None)


def test_output_folder_to_be_made_is_judged_by_the_folder_above(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    refuse_writes_to(monkeypatch, locked)
    with pytest.raises(UsageError, match=r"cannot write to output folder .*/new/deeper: permission denied$"):
        plan([tree], locked / "new" / "deeper", None)
    assert len(plan([tree], tmp_path / "new" / "deeper", None)) == 5  # a folder above that can be written


def test_default_output_folder_must_be_writable(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_writes_to(monkeypatch, tmp_path)
    with pytest.raises(UsageError, match=r"/in_unseen: permission denied$"):  # in_unseen/ would be made in tmp_path
        plan([tree], None, None)


def test_default_output_of_a_file_needs_its_folder_writable(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_writes_to(monkeypatch, tree / "sub")
    with pytest.raises(UsageError, match=f"{re.escape(display(tree / 'sub'))}: permission denied$"):
        plan([tree / "sub" / "c.webp"], None, None)  # c_unseen.webp would be written beside it
    assert len(plan([tree / "a.png"], None, None)) == 1


def test_output_under_a_file_is_a_usage_error(tree: Path, tmp_path: Path) -> None:
    blocker = touch(tmp_path / "file")
    with pytest.raises(UsageError, match=f"{re.escape(display(blocker))} is not a folder$"):
        plan([tree], blocker / "sub", None)


def test_missing_input_is_not_a_reason_to_refuse_the_run(tmp_path: Path) -> None:
    (job,) = plan([tmp_path / "gone" / "deeper" / "a.png"], None, None)
    assert job.problem == "no such file or folder"
