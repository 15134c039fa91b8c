"""The `unseen` command as a user runs it: outputs, exit codes, one line per problem, originals untouched."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE, SAMPLE_FACE, changed_share, load_rgb, run_cli, sha256
from PIL import Image

from unseen import publish
from unseen.names import display
from unseen.obscure import WEAK_METHOD_WARNING

TMP_GLOB = "*" + publish.TMP_SUFFIX


# ---------------------------------------------------------------- helpers


def files_under(*roots: Path) -> Iterator[Path]:
    for root in roots:
        if root.is_file():
            yield root
            continue
        for here, _dirs, names in os.walk(root):  # never follows folder links
            yield from (Path(here) / name for name in names if not (Path(here) / name).is_symlink())


def hashes(*roots: Path) -> dict[Path, str]:
    return {path: sha256(path) for path in files_under(*roots) if os.access(path, os.R_OK)}


def unseen(*args: object, inputs: tuple[Path, ...], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI; whatever happens, the originals are byte-identical afterwards and there is no traceback."""
    before = hashes(*inputs)
    result = run_cli(*args, cwd=cwd)
    assert hashes(*inputs) == before, "an original was changed"
    assert "Traceback" not in result.stderr, result.stderr
    return result


def lines_naming(stderr: str, name: str) -> list[str]:
    return [line for line in stderr.splitlines() if name in line]


def decodes(path: Path) -> bool:
    with Image.open(path) as image:
        image.load()
    return True


def small_png(path: Path, size: int = 64) -> Path:
    """A small image without a face, for tests where only the handling of files matters."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(SAMPLE) as image:
        image.convert("RGB").crop((0, 0, size, size)).save(path)
    return path


def save_as(source: Path, path: Path, fmt: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image.convert("RGB").save(path, format=fmt)
    return path


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A tiny PNG that claims width × height pixels: what a decompression bomb looks like to a reader."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND", b"")
    )
    path.write_bytes(data)
    return path


def skip_unless_permissions_bite(tmp_path: Path) -> None:
    """Root (with its usual capabilities) reads and writes whatever the mode: then chmod proves nothing."""
    probe = tmp_path / "probe"
    probe.write_bytes(b"x")
    probe.chmod(0)
    try:
        probe.read_bytes()
    except PermissionError:
        return
    finally:
        probe.chmod(0o600)
        probe.unlink()
    pytest.skip("file modes are not enforced for this user (root?); see the simulated test below")


@pytest.fixture
def small_tree(tmp_path: Path) -> Path:
    """in/a.png, in/sub/b.jpg, in/sub/deeper/c.png: three small images in nested folders."""
    root = tmp_path / "in"
    small_png(root / "a.png")
    save_as(small_png(tmp_path / "b.png"), root / "sub" / "b.jpg", "JPEG")
    small_png(root / "sub" / "deeper" / "c.png", size=48)
    return root


# ---------------------------------------------------------------- faces are covered


@pytest.mark.parametrize("method", ["solid", "noise"])
def test_sample_face_is_covered(sample_copy: Path, tmp_path: Path, method: str) -> None:
    out = tmp_path / "out"
    result = unseen(sample_copy, "-o", out, "--method", method, inputs=(sample_copy,))
    assert result.returncode == 0, result.stderr
    assert changed_share(load_rgb(SAMPLE), load_rgb(out / SAMPLE.name), SAMPLE_FACE) >= 0.9
    assert "warning" not in result.stderr


@pytest.mark.parametrize("method", ["pixelate", "blur"])
def test_weak_methods_change_the_face_and_warn_in_one_line(sample_copy: Path, tmp_path: Path, method: str) -> None:
    out = tmp_path / "out"
    result = unseen(sample_copy, "-o", out, "--method", method, "--strength", "0.5", inputs=(sample_copy,))
    assert result.returncode == 0, result.stderr
    assert changed_share(load_rgb(SAMPLE), load_rgb(out / SAMPLE.name), SAMPLE_FACE) >= 0.5
    assert lines_naming(result.stderr, "recognisers") == [WEAK_METHOD_WARNING.format(method=method)]


def test_stronger_blur_changes_more(sample_copy: Path, tmp_path: Path) -> None:
    shares = []
    for strength in ("0.1", "1"):
        out = tmp_path / f"out{strength}"
        assert (
            unseen(sample_copy, "-o", out, "--method", "blur", "--strength", strength, inputs=(sample_copy,)).returncode
            == 0
        )
        shares.append(changed_share(load_rgb(SAMPLE), load_rgb(out / SAMPLE.name), SAMPLE_FACE))
    assert shares[0] < shares[1]


# ---------------------------------------------------------------- folders, formats, outputs


def test_folder_recursion_maps_to_out_relative_paths(small_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = unseen(small_tree, "-o", out, inputs=(small_tree,))
    assert result.returncode == 0, result.stderr
    written = sorted(p.relative_to(out).as_posix() for p in files_under(out))
    assert written == ["a.png", "sub/b.jpg", "sub/deeper/c.png"]
    formats = {rel: Image.open(out / rel).format for rel in written}
    assert formats == {"a.png": "PNG", "sub/b.jpg": "JPEG", "sub/deeper/c.png": "PNG"}
    assert Image.open(out / "sub/deeper/c.png").size == (48, 48)


@pytest.mark.parametrize(
    ("fmt", "pil_name", "suffix"), [("png", "PNG", ".png"), ("webp", "WEBP", ".webp"), ("tiff", "TIFF", ".tif")]
)
def test_format_option_writes_that_format(tmp_path: Path, fmt: str, pil_name: str, suffix: str) -> None:
    root = tmp_path / "in"
    save_as(small_png(tmp_path / "x.png"), root / "photo.jpg", "JPEG")
    out = tmp_path / "out"
    result = unseen(root, "-o", out, "--format", fmt, inputs=(root,))
    assert result.returncode == 0, result.stderr
    assert [p.name for p in files_under(out)] == [f"photo{suffix}"]
    assert Image.open(out / f"photo{suffix}").format == pil_name


@pytest.mark.parametrize(("name", "fmt"), [("p.webp", "WEBP"), ("p.tiff", "TIFF"), ("p.jpeg", "JPEG")])
def test_each_format_keeps_its_format(tmp_path: Path, name: str, fmt: str) -> None:
    source = save_as(small_png(tmp_path / "x.png"), tmp_path / "in" / name, fmt)
    out = tmp_path / "out"
    assert unseen(source, "-o", out, inputs=(source,)).returncode == 0
    assert Image.open(out / name).format == fmt


def test_unknown_format_is_a_usage_error(small_tree: Path, tmp_path: Path) -> None:
    result = unseen(small_tree, "-o", tmp_path / "out", "--format", "gif", inputs=(small_tree,))
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- existing outputs, overwrite, collisions


def test_second_run_refuses_to_replace_and_overwrite_replaces(small_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert unseen(small_tree, "-o", out, inputs=(small_tree,)).returncode == 0
    (out / "a.png").write_bytes(b"made by the user")
    kept = hashes(out)

    again = unseen(small_tree, "-o", out, inputs=(small_tree,))
    assert again.returncode == 1
    assert hashes(out) == kept
    for rel in ("a.png", "b.jpg", "c.png"):
        (line,) = lines_naming(again.stderr, f"{rel}: ")
        assert "--overwrite" in line

    forced = unseen(small_tree, "-o", out, "--overwrite", inputs=(small_tree,))
    assert forced.returncode == 0, forced.stderr
    assert decodes(out / "a.png")
    assert sha256(out / "a.png") != kept[out / "a.png"]


def test_input_that_is_its_own_output_is_refused_even_with_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out"
    source = small_png(out / "a.png")
    for extra in ([], ["--overwrite"]):
        result = unseen(source, "-o", out, *extra, inputs=(source,))
        assert result.returncode == 1
        (line,) = lines_naming(result.stderr, "a.png: ")
        assert "replace" in line
    assert [p.name for p in files_under(out)] == ["a.png"]


def test_output_equal_to_another_input_is_refused_with_overwrite(tmp_path: Path) -> None:
    photo = small_png(tmp_path / "photo.png")
    other = small_png(tmp_path / "photo_unseen.png", size=32)  # an original where photo.png's output would go
    result = unseen(photo, other, "--overwrite", inputs=(photo, other))
    assert result.returncode == 1
    (line,) = lines_naming(result.stderr, "replace an input")
    assert line.startswith(f"unseen: {photo}: ")
    assert decodes(tmp_path / "photo_unseen_unseen.png")


def test_two_inputs_mapping_to_one_output_the_second_fails(tmp_path: Path) -> None:
    first = small_png(tmp_path / "x" / "a.png")
    second = small_png(tmp_path / "y" / "a.png", size=32)
    out = tmp_path / "out"
    result = unseen(first, second, "-o", out, inputs=(first, second))
    assert result.returncode == 1
    (line,) = lines_naming(result.stderr, "same output path")
    assert line.startswith(f"unseen: {second}: ")
    assert Image.open(out / "a.png").size == (64, 64)  # the first one's


def test_out_inside_input_folder_is_a_usage_error(small_tree: Path) -> None:
    for out in (small_tree / "out", small_tree / "sub", small_tree):
        result = unseen(small_tree, "-o", out, inputs=(small_tree,))
        assert result.returncode == 2
        assert len(result.stderr.splitlines()) == 1
        assert "input folder" in result.stderr
    assert not (small_tree / "out").exists()


def test_out_that_is_a_file_is_a_usage_error(small_tree: Path, tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_bytes(b"x")
    result = unseen(small_tree, "-o", target, inputs=(small_tree, target))
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1


def test_out_under_a_file_is_a_usage_error_in_one_line(small_tree: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file\x1b[31m\n"  # its name, printed, must neither colour the terminal nor break the line
    blocker.write_bytes(b"x")
    result = unseen(small_tree, "-o", blocker / "sub", inputs=(small_tree, blocker))
    assert result.returncode == 2
    shown = display(blocker)
    assert result.stderr == f"unseen: cannot write to output folder {shown}/sub: {shown} is not a folder\n"
    assert shown.endswith("file\\x1b[31m\\n")
    assert not list(tmp_path.glob(f"**/{TMP_GLOB}"))


def test_read_only_out_is_a_usage_error(small_tree: Path, tmp_path: Path) -> None:
    skip_unless_permissions_bite(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o500)
    try:
        result = unseen(small_tree, "-o", out, inputs=(small_tree,))
    finally:
        out.chmod(0o700)
    assert result.returncode == 2
    assert result.stderr == f"unseen: cannot write to output folder {display(out)}: permission denied\n"
    assert not list(files_under(out))


def test_read_only_out_is_found_before_any_detection(
    small_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a read-only output folder does, also when the tests run as root (whom the mode never stops): os.access,
    which unseen asks, says no; the run must stop there, before a detector is even made."""
    from unseen import cli, kinds

    out = tmp_path / "out"
    out.mkdir()
    real = os.access

    def access(path: object, mode: int, **kwargs: object) -> bool:
        if Path(os.fspath(path)) == out and mode & os.W_OK:  # type: ignore[arg-type]
            return False
        return real(path, mode, **kwargs)  # type: ignore[arg-type]

    def no_detection(*_args: object) -> None:
        raise AssertionError("a detector was made for a run that cannot write")

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(kinds, "build_detector", no_detection)
    assert cli.main([str(small_tree), "-o", str(out)]) == 2
    assert capsys.readouterr().err == f"unseen: cannot write to output folder {display(out)}: permission denied\n"
    assert not list(out.iterdir())


# ---------------------------------------------------------------- bad inputs


def test_mixed_good_and_bad_inputs(tmp_path: Path) -> None:
    root = tmp_path / "in"
    small_png(root / "good.png")
    save_as(small_png(tmp_path / "g.png"), root / "sub" / "good.jpg", "JPEG")
    full = SAMPLE.read_bytes()
    jpeg = save_as(SAMPLE, tmp_path / "s.jpg", "JPEG").read_bytes()
    corrupt = bytearray(full)
    corrupt[len(full) // 2 : len(full) // 2 + 4000] = os.urandom(4000)
    bad = {
        "empty.png": b"",
        "truncated.png": full[: len(full) // 3],
        "truncated.jpg": jpeg[: len(jpeg) // 3],
        "corrupt.png": bytes(corrupt),
        "notimage.jpg": b"this is text, not a photo\n" * 20,
    }
    for name, data in bad.items():
        (root / "sub" / name).write_bytes(data)
    png_header_only(root / "bomb.png", 30000, 30000)
    (root / "notes.txt").write_text("skipped, not failed")
    missing = tmp_path / "missing.png"
    out = tmp_path / "out"

    result = unseen(root, missing, "-o", out, inputs=(root,))

    assert result.returncode == 1
    assert sorted(p.name for p in files_under(out)) == ["good.jpg", "good.png"]
    assert all(decodes(p) for p in files_under(out))
    for name in [*bad, "bomb.png", "missing.png"]:
        assert len(lines_naming(result.stderr, f"{name}: ")) == 1, (name, result.stderr)
    (bomb,) = lines_naming(result.stderr, "bomb.png")
    assert "250" in bomb and "pixels" in bomb and "--max-pixels" in bomb
    assert result.stderr.splitlines()[-1] == "unseen: skipped, not images or videos unseen reads: notes.txt"
    assert "2 done, 7 failed" in result.stderr and "1 skipped" in result.stderr


def test_max_pixels_names_the_limit(tmp_path: Path) -> None:
    source = small_png(tmp_path / "in" / "a.png")
    out = tmp_path / "out"
    result = unseen(source, "-o", out, "--max-pixels", "1000", inputs=(source,))
    assert result.returncode == 1
    (line,) = lines_naming(result.stderr, "a.png: ")
    assert "1000" in line.replace(",", "").replace("_", "") and "--max-pixels" in line
    assert not out.exists() or not list(files_under(out))


def test_unreadable_file_fails_in_one_line(small_tree: Path, tmp_path: Path) -> None:
    skip_unless_permissions_bite(tmp_path)
    locked = small_png(small_tree / "locked.png")
    locked.chmod(0)
    try:
        result = unseen(small_tree, "-o", tmp_path / "out", inputs=(small_tree,))
    finally:
        locked.chmod(0o600)
    assert result.returncode == 1
    assert len(lines_naming(result.stderr, "locked.png: ")) == 1
    assert not (tmp_path / "out" / "locked.png").exists()
    assert (tmp_path / "out" / "a.png").exists()


def test_only_non_images_in_a_folder_is_success(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    (root / "notes.txt").write_text("hello")
    small_png(root / "a.png")
    result = unseen(root, "-o", tmp_path / "out", inputs=(root,))
    assert result.returncode == 0, result.stderr
    assert "1 skipped" in result.stderr and "skipped, not images or videos unseen reads: notes.txt" in result.stderr
    assert not (tmp_path / "out" / "notes.txt").exists()


def test_many_skipped_files_are_named_up_to_a_count(tmp_path: Path) -> None:
    root = tmp_path / "in"
    for i in range(8):
        (root / f"IMG_{i}.CR2").parent.mkdir(exist_ok=True)
        (root / f"IMG_{i}.CR2").write_bytes(b"a camera's raw file: not read")
    small_png(root / "a.png")
    result = unseen(root, "-o", tmp_path / "out", inputs=(root,))
    assert result.returncode == 0, result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("unseen: skipped, not images or videos unseen reads: IMG_0.CR2, IMG_1.CR2")
    assert last.endswith("and 3 more (the report lists them)")


def test_empty_folder_says_so(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    result = unseen(root, "-o", tmp_path / "out", inputs=(root,))
    assert result.returncode == 1
    assert "no files found" in result.stderr


def test_symlink_loop_terminates_in_one_line_and_processes_real_files(small_tree: Path, tmp_path: Path) -> None:
    os.symlink(small_tree, small_tree / "loop")
    out, report = tmp_path / "out", tmp_path / "report.json"
    result = unseen(small_tree, "-o", out, "--report", report, inputs=(small_tree,))
    assert result.returncode == 1, result.stderr
    assert sorted(p.relative_to(out).as_posix() for p in files_under(out)) == ["a.png", "sub/b.jpg", "sub/deeper/c.png"]
    assert lines_naming(result.stderr, "loop") == [f"unseen: {display(small_tree / 'loop')}: symbolic link loop"]
    entries = {entry["input"]: entry for entry in json.loads(report.read_text(encoding="utf-8"))["files"]}
    (loop,) = [entry for name, entry in entries.items() if name.endswith("loop")]
    assert (loop["status"], loop["reason"], loop["output"]) == ("failed", "symbolic link loop", None)


def test_linked_folder_is_processed_under_the_links_name(small_tree: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    small_png(elsewhere / "x.png")
    os.symlink(elsewhere, small_tree / "sub" / "linked")
    out = tmp_path / "out"
    result = unseen(small_tree, "-o", out, inputs=(small_tree, elsewhere))
    assert result.returncode == 0, result.stderr
    assert decodes(out / "sub" / "linked" / "x.png")
    assert len(list(files_under(out))) == 4
    assert os.listdir(elsewhere) == ["x.png"]  # nothing written beside the linked original


def test_named_pipe_is_refused_in_one_line_and_the_batch_goes_on(sample_copy: Path, tmp_path: Path) -> None:
    """A named pipe opened for reading waits for a writer: once, one called x.mp4 hung the whole run."""
    root = sample_copy.parent
    os.mkfifo(root / "x.mp4")
    before = sha256(sample_copy)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "unseen", str(root), "-o", str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)  # today's code never ends
    assert result.returncode == 1, result.stderr
    assert lines_naming(result.stderr, "x.mp4") == [
        f"unseen: {display(root / 'x.mp4')}: not a regular file (a named pipe)"
    ]
    assert decodes(out / sample_copy.name) and sha256(sample_copy) == before
    assert [p.name for p in files_under(out)] == [sample_copy.name]


def test_file_names_cannot_forge_lines_or_reach_the_terminal(tmp_path: Path) -> None:
    root, out, report = tmp_path / "in", tmp_path / "out", tmp_path / "report.json"
    evil = "evil\n\x1b[31m\u2028.png"  # a valid photo whose output exists: its line names it twice
    small_png(root / evil)
    small_png(out / evil)
    fake = "fake\r\x1b]0;title\x07.jpg"  # not an image at all
    (root / fake).write_text("not a photo\n" * 20)
    small_png(root / "ok.png")
    result = unseen(root, "-o", out, "--report", report, inputs=(root,))
    assert result.returncode == 1, result.stderr
    assert not any(char in result.stderr for char in "\x1b\r\x07\u2028")
    lines = result.stderr.splitlines()
    assert len(lines) == 3, lines  # one per failed file, and the summary
    shown = display(root / evil)
    assert shown.endswith("evil\\n\\x1b[31m\\u2028.png")
    assert lines_naming(result.stderr, shown) == [
        f"unseen: {shown}: {display(out / evil)} exists (use --overwrite to replace it)"
    ]
    assert len(lines_naming(result.stderr, display(root / fake))) == 1
    names = {entry["input"].rsplit("/", 1)[-1] for entry in json.loads(report.read_text(encoding="utf-8"))["files"]}
    assert names == {display(evil), display(fake), "ok.png"}  # escaped in the report too


def test_a_reason_with_control_characters_is_printed_inert(
    small_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whatever a reason holds (a path a library put in its message, say), its line is one line, escaped."""
    from unseen import cli, photo
    from unseen.media.pixels import ImageReadError

    real = photo.read_image

    def hostile(path: Path, *args: object) -> object:
        if path.name == "b.jpg":
            raise ImageReadError("cannot read /x/\x1b[2Jy\rz\x07")  # its line breaks become spaces
        return real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(photo, "read_image", hostile)
    assert cli.main([str(small_tree), "-o", str(tmp_path / "out"), "-q"]) == 1
    err = capsys.readouterr().err
    assert err == f"unseen: {display(small_tree / 'sub' / 'b.jpg')}: cannot read /x/\\x1b[2Jy z\\x07\n"


def test_non_utf8_file_name(tmp_path: Path) -> None:
    root = tmp_path / "in"
    small_png(root / "x.png").rename(os.fsdecode(os.path.join(os.fsencode(root), b"caf\xe9.png")))
    out = tmp_path / "out"
    report = tmp_path / "report.json"
    result = unseen(root, "-o", out, "--report", report, inputs=(root,))
    assert result.returncode == 0, result.stderr
    assert os.listdir(os.fsencode(out)) == [b"caf\xe9.png"]
    assert "caf\\\\xe9.png" in report.read_text(encoding="utf-8")


# ---------------------------------------------------------------- usage errors


@pytest.mark.parametrize(
    "args",
    [
        ["--bogus"],
        ["--strength", "2"],
        ["--strength", "0"],
        ["--strength", "abc"],
        ["--method", "smudge"],
        ["--max-pixels", "many"],
        ["--grow", "9"],
        [],
    ],
)
def test_usage_errors_are_one_line_and_exit_2(small_tree: Path, tmp_path: Path, args: list[str]) -> None:
    paths = [small_tree, "-o", tmp_path / "out"] if args else []
    result = unseen(*paths, *args, inputs=(small_tree,))
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "usage:" not in result.stderr
    assert result.stderr.startswith("unseen: ")
    assert not (tmp_path / "out").exists()


def test_missing_input_fails_with_a_line_and_the_rest_is_done(small_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = unseen(tmp_path / "nope.jpg", small_tree / "a.png", "-o", out, inputs=(small_tree,))
    assert result.returncode == 1
    (line,) = lines_naming(result.stderr, "nope.jpg")
    assert "no such file" in line
    assert (out / "a.png").is_file()


def test_version_and_help(tmp_path: Path) -> None:
    assert run_cli("--version").stdout.startswith("unseen ")
    helped = run_cli("--help")
    assert helped.returncode == 0 and "--overwrite" in helped.stdout


# ---------------------------------------------------------------- output on the terminal


def test_quiet_prints_nothing_on_success(small_tree: Path, tmp_path: Path) -> None:
    result = unseen(small_tree, "-o", tmp_path / "out", "--quiet", inputs=(small_tree,))
    assert result.returncode == 0
    assert result.stderr == "" and result.stdout == ""


def test_quiet_still_reports_failures(small_tree: Path, tmp_path: Path) -> None:
    (small_tree / "bad.png").write_bytes(b"nope")
    result = unseen(small_tree, "-o", tmp_path / "out", "-q", inputs=(small_tree,))
    assert result.returncode == 1
    assert result.stderr.splitlines() == lines_naming(result.stderr, "bad.png")


def test_summary_is_one_line_and_no_progress_bar_off_a_terminal(small_tree: Path, tmp_path: Path) -> None:
    result = unseen(small_tree, "-o", tmp_path / "out", inputs=(small_tree,))
    assert result.returncode == 0
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("unseen: 3 done, 0 failed")
    assert "\r" not in result.stderr


# ---------------------------------------------------------------- default output location


def test_default_output_beside_a_file(tmp_path: Path) -> None:
    source = small_png(tmp_path / "photo.png")
    result = unseen(source, inputs=(source,))
    assert result.returncode == 0, result.stderr
    assert decodes(tmp_path / "photo_unseen.png")
    again = unseen(source, inputs=(source,))
    assert again.returncode == 1 and "--overwrite" in again.stderr


def test_default_output_beside_a_folder(small_tree: Path) -> None:
    result = unseen("in", inputs=(small_tree,), cwd=small_tree.parent)
    assert result.returncode == 0, result.stderr
    assert (small_tree.parent / "in_unseen" / "sub" / "deeper" / "c.png").is_file()
    assert sorted(p.name for p in small_tree.iterdir()) == ["a.png", "sub"]


def test_default_output_inside_another_input_is_a_usage_error(small_tree: Path) -> None:
    result = unseen(small_tree, small_tree / "sub", inputs=(small_tree,))
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert not (small_tree / "sub_unseen").exists()


# ---------------------------------------------------------------- interruption


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_run_leaves_only_complete_outputs(tmp_path: Path, signum: int) -> None:
    root = tmp_path / "in"
    root.mkdir()
    for i in range(150):
        os.link(SAMPLE, root / f"{i:03}.png")  # hard links: 150 inputs for the disk space of one
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "unseen", str(root), "-o", str(out)]
    child = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out.is_dir() and any(out.glob("*.png"))) and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.01)
    child.send_signal(signum)
    _, stderr = child.communicate(timeout=60)

    written = list(files_under(out))
    assert child.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert 0 < len(written) < 150
    assert not [p for p in written if p.name.endswith(publish.TMP_SUFFIX)]
    assert all(decodes(p) for p in written)


def test_interrupt_during_a_write_leaves_no_file(
    small_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from unseen import cli

    def half_then_interrupt(self: Image.Image, fp: object, *args: object, **kwargs: object) -> None:
        fp.write(b"\x89PNG\r\n\x1a\n half an image")  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", half_then_interrupt)
    out = tmp_path / "out"
    assert cli.main([str(small_tree), "-o", str(out), "-q"]) == 130
    assert not list(files_under(out))


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), SystemExit(1)], ids=["ctrl-c", "a-library-s-sys-exit"])
def test_interrupt_between_files_keeps_finished_ones(
    small_tree: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stop: BaseException,
) -> None:
    """Ctrl-C, or a library ending the run with sys.exit (Ray's own SIGTERM handler does), between files: the
    finished ones stay, and the run says so in its one line (never a silent exit)."""
    from unseen import cli, kinds

    real = kinds.process
    calls: list[object] = []

    def process_then_stop(*args: object) -> object:
        calls.append(args)
        if len(calls) == 3:
            raise stop
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(kinds, "process", process_then_stop)
    out = tmp_path / "out"
    assert cli.main([str(small_tree), "-o", str(out), "--report", str(tmp_path / "r.json")]) == 130
    assert sorted(p.name for p in files_under(out)) == ["a.png", "b.jpg"]
    assert all(decodes(p) for p in files_under(out))
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("unseen: interrupted; 2 files written"), line


def test_outputs_match_in_process_and_in_a_child(sample_copy: Path, tmp_path: Path) -> None:
    from unseen import cli

    # Without the sensor-noise treatment, whose fresh noise makes every run differ.
    assert cli.main([str(sample_copy), "-o", str(tmp_path / "a"), "-q", "--keep-sensor-noise"]) == 0
    assert run_cli(sample_copy, "-o", tmp_path / "b", "-q", "--keep-sensor-noise").returncode == 0
    assert np.array_equal(load_rgb(tmp_path / "a" / SAMPLE.name), load_rgb(tmp_path / "b" / SAMPLE.name))


def test_permission_errors_simulated_fail_one_file_each(
    small_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What chmod 000 inputs and a read-only output folder do, also when the tests run as root."""
    from unseen import cli, photo

    real_read, real_write = photo.read_image, photo.write_image

    def read(path: Path, *args: object) -> object:
        if path.name == "a.png":
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path, *args)  # type: ignore[arg-type]

    def write(decoded: object, pixels: object, path: Path, *args: object) -> None:
        if path.name == "b.jpg":
            raise PermissionError(13, "Permission denied", str(path))
        real_write(decoded, pixels, path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(photo, "read_image", read)
    monkeypatch.setattr(photo, "write_image", write)
    out = tmp_path / "out"
    assert cli.main([str(small_tree), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    (read_line,) = lines_naming(err, "a.png: ")
    (write_line,) = lines_naming(err, "b.jpg: ")
    assert "permission denied" in read_line.lower() and "cannot write" in write_line
    assert [p.relative_to(out).as_posix() for p in files_under(out)] == ["sub/deeper/c.png"]


def test_unexpected_error_in_one_file_costs_only_that_file(
    small_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from unseen import cli, photo

    real = photo.read_image

    def flaky(path: Path, *args: object) -> object:  # files are done two at a time: pick one by name
        if path.name == "b.jpg":
            raise RuntimeError("boom\nsecond line")
        return real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(photo, "read_image", flaky)
    out = tmp_path / "out"
    assert cli.main([str(small_tree), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    (line,) = lines_naming(err, "b.jpg: ")
    assert "boom" in line and "second line" not in err
    assert sorted(p.name for p in files_under(out)) == ["a.png", "c.png"]


def on_a_terminal(*args: object) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal, as in an interactive shell; its exit code and what it drew."""
    import fcntl
    import pty
    import termios

    master, replica = pty.openpty()
    fcntl.ioctl(replica, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new pty is 0 columns wide
    cmd = [sys.executable, "-m", "unseen", *map(str, args)]
    child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=replica)
    os.close(replica)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return child.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_and_quiet_silences_it(small_tree: Path, tmp_path: Path) -> None:
    code, drawn = on_a_terminal(small_tree, "-o", tmp_path / "out")
    assert code == 0
    assert "/3 [" in drawn and "file/s" in drawn  # tqdm's bar
    assert "unseen: 3 done" in drawn
    code, drawn = on_a_terminal(small_tree, "-o", tmp_path / "quiet", "--quiet")
    assert code == 0 and drawn == ""
