"""Every entry of the format registry (src/unseen/formats.py), run through unseen: adding a format adds its tests.

Photos: the sample saved in that format under each of its suffixes is read, its face covered, written in the
format the entry says, with nothing outside that format's metadata allowlist (exiftool). Videos: a short clip
in that container is read and written back with every frame.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import SAMPLE, SAMPLE_FACE, changed_share, exiftool_json, load_rgb
from PIL import Image
from test_video import scene, write_clip

from unseen import formats
from unseen.detectors.presets import Quality, build_detector
from unseen.faces import Detector
from unseen.media import metadata
from unseen.paths import plan
from unseen.photo import Options, process
from unseen.video import VIDEO_CODECS, VideoOptions, is_video, process_video, video_detector

PHOTO_CASES = [(f, suffix) for f in formats.PHOTOS for suffix in f.suffixes]
VIDEO_CASES = [(f, suffix) for f in formats.VIDEOS for suffix in f.suffixes]
# The encoder each container's test clip is made with (WebM holds VP8/VP9/AV1 only; GIF is its own codec).
CLIP_CODECS = {"webm": "libvpx-vp9", "gif": "gif"}


@pytest.fixture(scope="module")
def photos() -> Detector:
    return build_detector(Quality.FAST)


@pytest.fixture(scope="module")
def videos() -> Detector:
    return video_detector()


def save_sample(path: Path, fmt: formats.PhotoFormat) -> None:
    """The sample as a file of `fmt`, written by Pillow (MPO: a main picture and a second one after it)."""
    picture = Image.open(SAMPLE).convert("RGB")
    if fmt.name == "MPO":
        picture.save(path, format="MPO", save_all=True, append_images=[picture.resize((64, 64))])
    elif fmt.name == "GIF":
        picture.quantize(256).save(path, format="GIF")
    else:
        picture.save(path, format=fmt.name)


def test_the_registry_is_consistent() -> None:
    suffixes = [s for f in formats.PHOTOS for s in f.suffixes]
    assert len(suffixes) == len(set(suffixes)), "a suffix read as two photo formats"
    assert all(s == s.lower() and s.startswith(".") for f in (*formats.PHOTOS, *formats.VIDEOS) for s in f.suffixes)
    for fmt in formats.PHOTOS:
        assert formats.photo(fmt.writes_as).writable, f"{fmt.name} is written as {fmt.writes_as}, which is not"
        if fmt.writable:
            assert fmt.allowlist == metadata.ALLOWLIST[fmt.name]  # the list the metadata tests hold outputs to
    assert set(formats.WRITABLE) == set(metadata.ALLOWLIST)
    overlap = {s for f in formats.VIDEOS if not f.animated_only for s in f.suffixes} & set(suffixes)
    assert not overlap, f"suffixes that are both a photo's and a video's: {overlap}"


@pytest.mark.parametrize(("fmt", "suffix"), PHOTO_CASES, ids=[f"{f.name}{s}" for f, s in PHOTO_CASES])
def test_each_photo_format_is_read_covered_and_written_as_its_entry_says(
    tmp_path: Path, photos: Detector, fmt: formats.PhotoFormat, suffix: str
) -> None:
    source = tmp_path / "in" / f"photo{suffix}"
    source.parent.mkdir()
    save_sample(source, fmt)
    (job,) = plan([source.parent], tmp_path / "out", None)
    report = process(job, photos, Options())
    assert report.status == "done", report.reason
    written = Path(report.output or "")
    kept = suffix if fmt.writes_as == fmt.name else formats.write_suffix(fmt.writes_as)
    assert written.name == f"photo{kept}"
    with Image.open(written) as image:
        assert image.format == fmt.writes_as
        assert getattr(image, "n_frames", 1) == 1
    assert changed_share(load_rgb(SAMPLE), load_rgb(written), SAMPLE_FACE) >= 0.9
    (found,) = exiftool_json(written)
    found.pop("SourceFile")
    outside = [tag for tag in found if not metadata.allowed(fmt.writes_as, tag)]
    assert not outside, f"tags outside {fmt.writes_as}'s allowlist: {outside}"


@pytest.mark.parametrize(("fmt", "suffix"), VIDEO_CASES, ids=[f"{f.name}{s}" for f, s in VIDEO_CASES])
def test_each_video_container_is_read_and_written_back_whole(
    tmp_path: Path, videos: Detector, fmt: formats.VideoFormat, suffix: str
) -> None:
    images, _ = scene(6)
    source = tmp_path / "in" / f"clip{suffix}"
    source.parent.mkdir()
    codec = CLIP_CODECS.get(fmt.muxer, "libx264")
    if codec == "gif":  # an animated GIF is written by Pillow, as most GIFs are made
        frames = [Image.fromarray(image) for image in images]
        frames[0].save(source, save_all=True, append_images=frames[1:], duration=100, loop=0)
    else:
        write_clip(source, images, fmt=fmt.muxer, codec=codec)
    assert is_video(source)
    (job,) = plan([source.parent], tmp_path / "out", None)
    report = process_video(job, videos, Options())
    assert report.status == "done", report.reason
    # The container is kept where it can hold the output's codec (H.264; GIF stays GIF), else the output is MP4.
    with av.open(os.devnull, "w", format=fmt.muxer) as probe:
        holds = ("gif" if codec == "gif" else "h264") in probe.supported_codecs
    expected = fmt.demuxers if holds else formats.video_for_suffix(".mp4").demuxers  # type: ignore[union-attr]
    with av.open(report.output or "") as container:
        assert set(container.format.name.split(",")) & set(expected), container.format.name
        assert sum(1 for _ in container.decode(video=0)) == len(images)


def test_a_format_not_in_the_registry_is_refused_in_one_line(tmp_path: Path, photos: Detector) -> None:
    """A file Pillow could open but no entry names (a PCX picture called .png) is never decoded."""
    source = tmp_path / "in" / "photo.png"
    source.parent.mkdir()
    stream = io.BytesIO()
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(stream, format="PCX")
    source.write_bytes(stream.getvalue())
    (job,) = plan([source.parent], tmp_path / "out", None)
    report = process(job, photos, Options())
    assert report.status == "failed" and "not an image in a format unseen reads" in str(report.reason)


# What an encoder or FFmpeg writes about itself: a version, its settings (thread count), the machine's CPU flags.
# A bare "Lavf" (Matroska's muxing and writing application under +bitexact, as in any FFmpeg file) says nothing.
FINGERPRINTS = re.compile(rb"x264|x265|Lavc\d|Lavf\d|threads=|cpuid|SVT-AV1|libvpx|core \d")


@pytest.mark.parametrize("codec", [c for c in VIDEO_CODECS if c != "gif"])
@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv"])
def test_no_encoder_writes_its_name_or_settings_into_a_video(
    tmp_path: Path, videos: Detector, codec: str, suffix: str
) -> None:
    """x264 puts its version and every setting into the stream, x265 its build and CPU flags: none may remain.
    A codec the container cannot finish a file with (VP9 or AV1 in MOV) is written as MP4, never a failure."""
    images, _ = scene(6)
    source = tmp_path / "in" / f"clip{suffix}"
    source.parent.mkdir()
    write_clip(source, images, fmt={".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}[suffix])
    (job,) = plan([source.parent], tmp_path / "out", None)
    report = process_video(job, videos, Options(), VideoOptions(codec=codec))
    assert report.status == "done", report.reason
    data = Path(report.output or "").read_bytes()
    assert FINGERPRINTS.findall(data) == []
    with av.open(report.output or "") as container:
        assert sum(1 for _ in container.decode(video=0)) == len(images)
