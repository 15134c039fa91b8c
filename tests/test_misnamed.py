"""A video named as a photo (clip.jpg that holds an MP4) or a photo named as a video (a PNG called .mp4): a file is
read as its suffix says, so these fail, each with one line that says what the file holds and the name to give it,
and nothing written; renamed so, they are done. A photo named as another photo's format (a PNG called .jpg), or a
video as another container (an MP4 called .mkv), is read by its content and needs nothing of this
(test_hostile's png_named.jpg; test_formats)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE, SAMPLE_FACE, changed_share, load_rgb, run_cli
from PIL import Image
from test_video import scene, write_clip

from unseen.media import sniff
from unseen.names import display


def _clip(path: Path, muxer: str = "mp4") -> Path:
    images, _ = scene(3)
    write_clip(path, images, fmt=muxer, codec="libvpx-vp9" if muxer == "webm" else "libx264")
    return path


@pytest.mark.slow
def test_a_video_named_as_a_photo_and_a_photo_named_as_a_video_are_told_what_to_rename(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _clip(folder / "clip.jpg")
    shutil.copyfile(SAMPLE, folder / "astronaut.mp4")
    out = tmp_path / "out"
    done = run_cli(folder / "clip.jpg", folder / "astronaut.mp4", "-o", out, "-q")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    photo, video = display(folder / "astronaut.mp4"), display(folder / "clip.jpg")
    assert sorted(done.stderr.splitlines()) == [
        f"unseen: {photo}: a photo (PNG), not a video as its name says: rename it to end in .png and run again",
        f"unseen: {video}: a video (MP4), not a photo as its name says: rename it to end in .mp4 and run again",
    ]
    assert not out.exists() or not any(out.iterdir())  # nothing written, not even a temporary file

    (folder / "clip.jpg").rename(folder / "clip.mp4")
    (folder / "astronaut.mp4").rename(folder / "astronaut.png")
    again = run_cli(folder / "clip.mp4", folder / "astronaut.png", "-o", out, "-q")
    assert again.returncode == 0, again.stderr
    assert sorted(path.name for path in out.iterdir()) == ["astronaut.png", "clip.mp4"]
    assert changed_share(load_rgb(SAMPLE), load_rgb(out / "astronaut.png"), SAMPLE_FACE) > 0.9


def test_a_files_first_bytes_name_the_photo_or_video_it_holds(tmp_path: Path) -> None:
    picture = Image.fromarray(np.full((16, 16, 3), 128, np.uint8))
    for name, suffix in (("JPEG", ".jpg"), ("PNG", ".png"), ("WEBP", ".webp"), ("TIFF", ".tif"), ("GIF", ".gif"),
                         ("BMP", ".bmp"), ("HEIF", ".heic")):  # fmt: skip
        path = tmp_path / f"photo{suffix}"
        picture.save(path, format=name)
        head = sniff.head(path)
        found = sniff.photo(head)
        assert found is not None and found.name == name and sniff.video(head) is None, name
    for muxer, name in (("mp4", "MP4"), ("mov", "MOV"), ("3gp", "3GP"), ("matroska", "Matroska"),
                        ("webm", "Matroska"), ("avi", "AVI")):  # fmt: skip
        head = sniff.head(_clip(tmp_path / f"clip.{muxer}", muxer))
        found = sniff.video(head)
        assert found is not None and found.name == name and sniff.photo(head) is None, muxer
    sound = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00"  # an M4A holds sound alone: no video
    assert sniff.video(sound) is None and sniff.photo(sound) is None
    (tmp_path / "notes.jpg").write_text("not a photo\n")
    assert sniff.misnamed(sniff.head(tmp_path / "notes.jpg"), "photo") is None
    # unreadable: no bytes, nothing named (the failure's own line says why)
    assert sniff.misnamed(sniff.head(tmp_path / "missing.mp4"), "video") is None
