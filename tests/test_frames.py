"""Animated WebP and multi-page TIFF: every frame is read, obscured, written and checked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE, SAMPLE_FACE, changed_share, exiftool_json, needs_exiftool, run_cli
from PIL import Image, ImageSequence

from unseen.faces import Faces
from unseen.paths import Job
from unseen.photo import Options, process

SHIFTS = [(0, 0), (3, 1), (6, 2), (9, 3)]  # the face moves a little from frame to frame
DURATIONS = [80, 120, 100, 150]


def _sample() -> np.ndarray:
    with Image.open(SAMPLE) as image:
        return np.asarray(image.convert("RGB"))


def _shifted(dx: int, dy: int) -> np.ndarray:
    return np.roll(_sample(), (dy, dx), axis=(0, 1))


def _frames(path: Path) -> tuple[list[np.ndarray], list[int]]:
    with Image.open(path) as image:
        frames, durations = [], []
        for frame in ImageSequence.Iterator(image):
            frames.append(np.asarray(frame.convert("RGB")))
            durations.append(frame.info.get("duration", 0))
        return frames, durations


def _metadata(found: dict[str, object]) -> list[str]:
    """The EXIF, XMP and ICC tags exiftool found."""
    groups = ("EXIF", "IFD0", "IFD1", "ExifIFD", "XMP", "ICC")
    return [tag for tag in found if tag.split(":")[0].startswith(groups)]


def _moved(box: tuple[int, int, int, int], dx: int, dy: int) -> tuple[int, int, int, int]:
    return box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy


def test_animated_webp_is_written_animated_with_every_frame_covered(tmp_path: Path) -> None:
    source = tmp_path / "in" / "anim.webp"
    source.parent.mkdir()
    frames = [Image.fromarray(_shifted(dx, dy)) for dx, dy in SHIFTS]
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=DURATIONS, loop=0, lossless=True)
    out, report = tmp_path / "out", tmp_path / "report.json"
    result = run_cli(source, "-o", out, "-q", "--report", report)
    assert result.returncode == 0, result.stderr
    written = out / "anim.webp"
    with Image.open(written) as image:
        assert image.format == "WEBP" and image.n_frames == len(SHIFTS)
    after, durations = _frames(written)
    assert durations == DURATIONS
    for (dx, dy), frame in zip(SHIFTS, after, strict=True):
        assert changed_share(_shifted(dx, dy), frame, _moved(SAMPLE_FACE, dx, dy)) >= 0.9
    done = json.loads(report.read_text())["files"][0]
    assert sorted({face["frame"] for face in done["faces"]}) == [0, 1, 2, 3]
    assert done["verified"] and done["verdict"] == "clean"
    assert not _metadata(exiftool_json(written)[0])


def test_residuals_in_an_animation_name_their_frame(tmp_path: Path) -> None:
    """A detector that finds nothing leaves each frame's face for the check: each residual names its frame."""
    source = tmp_path / "in" / "anim.webp"
    source.parent.mkdir()
    frames = [Image.fromarray(_shifted(dx, dy)) for dx, dy in SHIFTS]
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=DURATIONS, loop=0, lossless=True)
    report = process(Job(source, tmp_path / "out" / "anim.webp", "WEBP"), lambda _image: Faces(), Options())
    assert report.status == "done" and report.verdict == "residuals"
    assert sorted({r["frame"] for r in report.residuals}) == [0, 1, 2, 3], report.residuals


@needs_exiftool
def test_animated_webp_output_carries_no_metadata(tmp_path: Path) -> None:
    source = tmp_path / "anim.webp"
    frames = [Image.fromarray(_shifted(dx, dy)) for dx, dy in SHIFTS[:2]]
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"  # Make
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret</x:xmpmeta>'
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=100, exif=exif, xmp=xmp)
    assert any("Make" in tag for tag in exiftool_json(source)[0])  # planted
    result = run_cli(source, "-o", tmp_path / "out", "-q")
    assert result.returncode == 0, result.stderr
    found = exiftool_json(tmp_path / "out" / "anim.webp")[0]
    assert not _metadata(found), found
    assert "SecretCamera" not in json.dumps(found) and b"secret" not in (tmp_path / "out" / "anim.webp").read_bytes()


def test_multi_page_tiff_keeps_both_pages_and_covers_the_face_on_its_page(tmp_path: Path) -> None:
    source = tmp_path / "in" / "pages.tif"
    source.parent.mkdir()
    plain = np.full_like(_sample(), 0)
    plain[:, :, 1] = np.linspace(0, 255, plain.shape[1], dtype=np.uint8)[None, :]
    Image.fromarray(plain).save(source, save_all=True, append_images=[Image.fromarray(_sample())])
    result = run_cli(source, "-o", tmp_path / "out", "-q", "--keep-sensor-noise")  # the page without a face: as it was
    assert result.returncode == 0, result.stderr
    (page1, page2), _ = _frames(tmp_path / "out" / "pages.tif")
    assert np.abs(page1.astype(int) - plain.astype(int)).max() <= 2  # essentially unchanged
    assert changed_share(_sample(), page2, SAMPLE_FACE) >= 0.9


@pytest.mark.parametrize("name", ["bomb.webp", "bomb.tif"])
def test_many_small_frames_adding_up_past_the_limit_are_refused(tmp_path: Path, name: str) -> None:
    source = tmp_path / "in" / name
    source.parent.mkdir()
    frames = [Image.new("RGB", (64, 64), (6 * i, 255 - 6 * i, 0)) for i in range(40)]  # 40 × 4096 = 163,840 pixels
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=50, lossless=True)
    result = run_cli(source, "-o", tmp_path / "out", "-q", "--max-pixels", "100000")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and name in lines[0] and "100,000-pixel limit (--max-pixels)" in lines[0], result.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*"))
