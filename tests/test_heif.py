"""HEIC/HEIF and AVIF, as phones write them: read as shown, every picture obscured, nothing else written.

The inputs are made here from the bundled sample: a HEIC and an AVIF stored sideways with the file's own rotation
(irot) and the EXIF orientation phones also write, EXIF GPS, camera make and model, XMP and an EXIF thumbnail (the
HEIC also a HEIF thumbnail item), both showing the face bare. The command writes them back in their own format and
with --format; each output is read with exiftool, its bytes searched, and its pixels compared with the sample.
A multi-image HEIC, an animated AVIF and damaged files have their own tests.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from conftest import SAMPLE, SAMPLE_FACE, changed_share, exiftool_json, load_rgb, require_exiftool, run_cli, sha256
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from test_hostile import CUTS, FLIPS, FUZZ, damaged, one_line
from test_image_io import CONTROL, DISPLAYED, UNDO, pattern
from test_metadata import EXIFTOOL_TAGS, FORBIDDEN, SECRET, XMP_PACKET, embedded_images

from unseen import cli, formats, publish
from unseen.arguments import FORMAT_NAMES
from unseen.media import heif, metadata
from unseen.media.image import read_image
from unseen.media.pixels import ImageReadError
from unseen.names import display
from unseen.paths import plan

# Codec profiles (HEVC's and AV1's) and the nclx colour box, which FORBIDDEN's "Profile" would take for an ICC one.
CODEC_PROFILES = {
    "QuickTime:GeneralProfileSpace",
    "QuickTime:GeneralProfileIDC",
    "QuickTime:GenProfileCompatibilityFlags",
    "QuickTime:SeqProfile",
    "QuickTime:ColorProfiles",
}
NATIVE = {"phone.heic": "HEIF", "camera.avif": "AVIF"}
FILE_TYPE = {"HEIF": "HEIC", "AVIF": "AVIF", "JPEG": "JPEG"}  # exiftool's File:FileType of each
THUMBNAIL_SIDE = 96
# Encoders' and libraries' names and versions: none may be written into a photo either.
# What encoders and muxers write of themselves, in their own case and with what follows the name: the coded picture
# is random from run to run (the sensor-noise grain), so a short case-insensitive name ("LaVF") matched it now and then.
FINGERPRINTS = re.compile(
    rb"x265 \(build|x265\.org|libde265|libheif|libavif|libaom|AOMedia|dav1d|Lavc\d|Lavf\d|[Pp]illow|Multicoreware"
)
WRITTEN_BY_ENCODERS = (
    b"x265 (build 199) - 3.5+1-f0c1022b6:[Linux][GCC 12.2.0][64 bit] 8bit - H.265/HEVC codec",
    b"Copyright 2013-2018 (c) Multicoreware, Inc - http://x265.org",
    b"Lavf59.27.100",
    b"Lavc59.37.100 libaom-av1",
    b"libheif",
    b"libavif",
    b"AOMedia Project AV1 Encoder",
)


def stored_sideways() -> np.ndarray:
    """The sample as a phone held sideways stores it: orientation 6 (a quarter turn clockwise) shows it upright."""
    return np.ascontiguousarray(DISPLAYED[UNDO[6]](load_rgb(SAMPLE)))


def _plant(folder: Path) -> list[Path]:
    """The HEIC keeps the EXIF orientation pillow-heif is given beside the irot it writes; Pillow's AVIF writer turns
    it into irot alone, so exiftool puts it back, as phones have both. exiftool adds the rest."""
    folder.mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PILMAKE-SECRET"
    picture = Image.fromarray(stored_sideways())
    heic, avif = folder / "phone.heic", folder / "camera.avif"
    picture.save(heic, exif=exif.tobytes(), xmp=XMP_PACKET, thumbnails=[THUMBNAIL_SIDE], quality=90)
    picture.save(avif, exif=exif.tobytes(), xmp=XMP_PACKET, quality=90)
    thumb = folder.parent / "thumb.jpg"
    Image.open(SAMPLE).convert("RGB").resize((64, 64)).save(thumb)  # shows the face unobscured
    args = ["-q", "-q", "-overwrite_original", f"-ThumbnailImage<={thumb}", "-IFD0:Orientation#=6", *EXIFTOOL_TAGS]
    subprocess.run([require_exiftool(), *args, str(heic), str(avif)], check=True, capture_output=True)
    return [heic, avif]


def exiftool_text(*paths: Path) -> str:
    """exiftool's listing, every copy of a repeated tag (one per picture) on its own line."""
    command = [require_exiftool(), "-a", "-G1", "-u", "-s", *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return _plant(tmp_path_factory.mktemp("heif") / "in")


@dataclass(frozen=True)
class Run:
    inputs: list[Path]
    hashes: dict[Path, str]
    result: subprocess.CompletedProcess[str]
    outputs: list[Path]
    fmt: str | None  # --format, or None for each input's own


@pytest.fixture(scope="module", params=[None, "heic", "avif", "jpeg"], ids=lambda f: f or "native")
def run(request: pytest.FixtureRequest, planted: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp(f"out-{request.param or 'native'}")
    hashes = {path: sha256(path) for path in planted}
    fmt_args = ["--format", request.param] if request.param else []
    result = run_cli(planted[0].parent, "-o", out, "-q", *fmt_args)
    return Run(planted, hashes, result, sorted(out.iterdir()), request.param)


def expected_format(run: Run, output: Path) -> str:
    return FORMAT_NAMES[run.fmt] if run.fmt else NATIVE[output.name]


@pytest.mark.usefixtures("exiftool_installed")
def test_crafted_inputs_carry_everything_planted(planted: list[Path]) -> None:
    for path, found in zip(planted, exiftool_json(*planted), strict=True):
        planted_tags = ["GPS:GPSLatitude", "IFD1:ThumbnailImage", "XMP-dc:Creator", "IFD0:Make", "IFD0:Model"]
        missing = [tag for tag in [*planted_tags, "IFD0:Orientation", "QuickTime:Rotation"] if tag not in found]
        assert not missing, f"{path.name}: crafting failed to plant {missing}"
        assert found["IFD0:Orientation"] == "Rotate 90 CW" and found["QuickTime:Rotation"] == 270
    assert f"ImageSpatialExtent              : {THUMBNAIL_SIDE}x{THUMBNAIL_SIDE}" in exiftool_text(planted[0])
    assert embedded_images(*planted).count(b"\xff\xd8") == 2  # the EXIF thumbnails, extracted as the test does


def test_every_input_is_written_as_asked_and_left_byte_identical(run: Run) -> None:
    assert run.result.returncode == 0, run.result.stderr
    assert run.result.stderr == ""
    assert sorted(p.stem for p in run.outputs) == sorted(p.stem for p in run.inputs)
    for output in run.outputs:
        fmt = expected_format(run, output)
        assert output.suffix in formats.photo(fmt).suffixes
        with Image.open(output) as image:
            assert image.format == fmt and getattr(image, "n_frames", 1) == 1
    assert {path: sha256(path) for path in run.inputs} == run.hashes


def test_the_face_is_covered_where_the_photo_shows_it_turned_once(run: Run) -> None:
    sample = load_rgb(SAMPLE)
    for output in run.outputs:
        shown = load_rgb(output)
        assert shown.shape == sample.shape, output.name
        assert changed_share(sample, shown, SAMPLE_FACE) >= 0.9, output.name
        assert changed_share(sample, shown, CONTROL) < 0.1, output.name  # upright: not turned twice, nor left


@pytest.mark.usefixtures("exiftool_installed")
def test_exiftool_finds_only_allowlisted_tags(run: Run) -> None:
    for output, found in zip(run.outputs, exiftool_json(*run.outputs), strict=True):
        fmt = expected_format(run, output)
        found.pop("SourceFile")
        assert found["File:FileType"] == FILE_TYPE[fmt]
        named = [t for t in found if not t.startswith("System:") and FORBIDDEN.search(t) and t not in CODEC_PROFILES]
        assert not named, f"{output.name}: {named}"
        assert "QuickTime:Rotation" not in found  # turned in the pixels, not by the file
        outside = [tag for tag in found if not metadata.allowed(fmt, tag)]
        assert not outside, f"{output.name}: tags outside metadata.ALLOWLIST[{fmt!r}]: {outside}"
        assert SECRET not in json.dumps(found)


@pytest.mark.usefixtures("exiftool_installed")
def test_no_thumbnail_or_second_picture_survives(run: Run) -> None:
    assert embedded_images(*run.outputs) == b""
    for output in run.outputs:
        if expected_format(run, output) != "JPEG":  # one picture item: no thumbnail item, no auxiliary image
            assert exiftool_text(output).count("ImageSpatialExtent") == 1, output.name
            with every_item():
                item = pillow_heif.open_heif(output) if output.suffix == ".heic" else None
            if item is not None:
                assert len(item) == 1 and not item.info["thumbnails"] and not item.info["depth_images"]
                assert not item.info.get("exif") and not item.info.get("xmp") and not item.info.get("metadata")


def test_the_fingerprint_pattern_finds_what_encoders_write() -> None:
    """The pattern is strict so that random coded bytes never match it; it must still find the real strings."""
    for written in WRITTEN_BY_ENCODERS:
        assert FINGERPRINTS.search(written), written
    assert not FINGERPRINTS.search(b"\x00LaVF\x17x265\x01LAVC\x9f")  # the kind of bytes a coded picture holds


def test_no_secret_or_fingerprint_anywhere_in_the_bytes(run: Run) -> None:
    for output in run.outputs:
        data = output.read_bytes()
        for needle in (SECRET.encode(), b"Exif", b"xmpmeta", b"rdf:", b"48.85", b"irot", b"imir", b"thmb"):
            assert needle not in data, f"{output.name} holds {needle!r}"
        assert not FINGERPRINTS.search(data), f"{output.name}: {FINGERPRINTS.search(data)}"


@contextmanager
def every_item() -> Iterator[None]:
    """pillow-heif with thumbnails, depth and auxiliary images listed again (unseen turns them off): to look."""
    saved = (pillow_heif.options.THUMBNAILS, pillow_heif.options.DEPTH_IMAGES, pillow_heif.options.AUX_IMAGES)
    pillow_heif.options.THUMBNAILS = pillow_heif.options.DEPTH_IMAGES = pillow_heif.options.AUX_IMAGES = True
    try:
        yield
    finally:
        pillow_heif.options.THUMBNAILS, pillow_heif.options.DEPTH_IMAGES, pillow_heif.options.AUX_IMAGES = saved


# --- orientation --------------------------------------------------------------------------------------------


def blocks(pixels: np.ndarray) -> np.ndarray:
    """Each 16-pixel block's mean colour: the pattern's layout, free of the codec's error at the edges."""
    height, width = pixels.shape[0] // 16, pixels.shape[1] // 16
    return pixels[: height * 16, : width * 16].reshape(height, 16, width, 16, -1).mean(axis=(1, 3))


@pytest.mark.parametrize("suffix", [".heic", ".avif"])
@pytest.mark.parametrize("orientation", list(DISPLAYED))
def test_every_orientation_is_read_as_shown(tmp_path: Path, suffix: str, orientation: int) -> None:
    """Stored turned or mirrored with the file's transformations (irot, imir): read once turned, as shown."""
    path = tmp_path / f"o{orientation}{suffix}"
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(np.ascontiguousarray(DISPLAYED[UNDO.get(orientation, orientation)](pattern()))).save(
        path, exif=exif.tobytes(), quality=95
    )
    error = np.abs(blocks(read_image(path).pixels.astype(float)) - blocks(pattern().astype(float))).max()
    assert error < 12


@pytest.mark.usefixtures("exiftool_installed")
@pytest.mark.parametrize("suffix", [".heic", ".avif"])
def test_an_orientation_tag_without_the_files_own_rotation_is_not_applied(tmp_path: Path, suffix: str) -> None:
    """HEIF viewers show a picture as its irot and imir say; EXIF's (or XMP's) orientation alone turns nothing."""
    path = tmp_path / f"upright{suffix}"
    Image.fromarray(pattern()).save(path, quality=95)
    tags = ["-IFD0:Orientation#=6", "-XMP-tiff:Orientation#=6"]
    subprocess.run([require_exiftool(), "-q", "-q", "-overwrite_original", *tags, str(path)], check=True)
    assert "Rotation" not in exiftool_text(path) and "Orientation" in exiftool_text(path)
    error = np.abs(blocks(read_image(path).pixels.astype(float)) - blocks(pattern().astype(float))).max()
    assert error < 12


# --- several pictures in one file ---------------------------------------------------------------------------


def test_every_picture_of_a_multi_image_heic_is_obscured_the_shown_one_first(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    sample = Image.open(SAMPLE).convert("RGB")
    small = sample.resize((384, 384))
    plain = Image.fromarray(np.full((96, 160, 3), 90, np.uint8))
    source = tmp_path / "in" / "burst.heic"
    source.parent.mkdir()
    sample.save(source, save_all=True, append_images=[small, plain], primary_index=1, quality=90)
    with Image.open(source) as image:
        assert image.n_frames == 3 and image.tell() == 1  # the small one is shown first
    out = tmp_path / "out"
    assert cli.main([str(source.parent), "-o", str(out), "-q"]) == 0, capfd.readouterr().err
    written = out / "burst.heic"
    pictures = []
    with Image.open(written) as image:
        assert image.format == "HEIF" and image.n_frames == 3 and image.tell() == 0
        for index in range(3):
            image.seek(index)
            pictures.append(np.asarray(image.convert("RGB")))
    assert [p.shape[:2] for p in pictures] == [(384, 384), (512, 512), (96, 160)]
    scaled = tuple(int(v * 0.75) for v in SAMPLE_FACE)
    assert changed_share(np.asarray(small), pictures[0], scaled) >= 0.9  # type: ignore[arg-type]
    assert changed_share(np.asarray(sample), pictures[1], SAMPLE_FACE) >= 0.9
    assert changed_share(np.asarray(plain), pictures[2], (0, 0, 160, 96)) < 0.05
    (found,) = exiftool_json(written)
    assert not [tag for tag in found if tag != "SourceFile" and not metadata.allowed("HEIF", tag)]


def test_a_multi_image_heic_into_a_single_picture_format_is_refused_in_one_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in" / "burst.heic"
    source.parent.mkdir()
    picture = Image.fromarray(pattern())
    picture.save(source, save_all=True, append_images=[picture.rotate(180)], quality=90)
    capfd.readouterr()
    out = tmp_path / "out"
    assert cli.main([str(source.parent), "-o", str(out), "-q", "--format", "jpeg"]) == 1
    (line,) = capfd.readouterr().err.splitlines()
    assert line == (
        f"unseen: {display(source)}: an animated or multi-page image can only be written with --format "
        "webp, tif or heic, not as JPEG"
    )
    assert not out.exists() or not list(out.iterdir())


def test_an_animated_avif_is_refused_as_avif_and_done_as_webp(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """libavif would stamp an animation it writes with the time: an animated AVIF is written only in another
    format, every frame obscured, the durations kept."""
    sample = load_rgb(SAMPLE)
    frames = [Image.fromarray(np.roll(sample, 8 * i, axis=1)) for i in range(3)]
    source = tmp_path / "in" / "moving.avif"
    source.parent.mkdir()
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=[100, 200, 300], quality=90)
    capfd.readouterr()
    assert cli.main([str(source.parent), "-o", str(tmp_path / "refused"), "-q"]) == 1
    (line,) = capfd.readouterr().err.splitlines()
    assert line.startswith(f"unseen: {display(source)}: an animated or multi-page image can only be written with")
    assert not (tmp_path / "refused" / "moving.avif").exists()
    assert cli.main([str(source.parent), "-o", str(tmp_path / "out"), "-q", "--format", "webp"]) == 0
    with Image.open(tmp_path / "out" / "moving.webp") as image:
        assert image.n_frames == 3
        for index in range(3):
            image.seek(index)
            image.load()
            assert image.info["duration"] == 100 * (index + 1)
            face = tuple(v + 8 * index * (i % 2 == 0) for i, v in enumerate(SAMPLE_FACE))
            shown = np.asarray(image.convert("RGB"))
            assert changed_share(np.asarray(frames[index]), shown, face) >= 0.9  # type: ignore[arg-type]


# --- damaged files: one line, no output ----------------------------------------------------------------------


def encoded(fmt: str) -> bytes:
    """A small picture without a face, as a whole file of `fmt`."""
    stream = io.BytesIO()
    Image.fromarray(pattern()).resize((256, 192)).save(stream, format=fmt, quality=90)
    return stream.getvalue()


DAMAGED = {
    # libheif finds the picture's data reaching past the end of the file.
    "cut.heic": (lambda: encoded("HEIF")[:-300], "corrupt or truncated image"),
    # The boxes are whole but the picture's data is not: libavif says so when it decodes.
    "cut.avif": (lambda: encoded("AVIF")[:-300], "corrupt or truncated image"),
    "half.avif": (lambda: encoded("AVIF")[:200], "corrupt or truncated image (an AVIF file that cannot be opened)"),
    "half.heic": (lambda: encoded("HEIF")[:200], "corrupt or truncated image (a HEIF file that cannot be opened)"),
    # An AV1 picture in a file that calls itself HEIC: libheif, which has no AV1 decoder here, cannot decode it.
    "av1.heic": (lambda: encoded("AVIF").replace(b"ftypavif", b"ftypheic", 1), "corrupt or undecodable image"),
}


@pytest.mark.parametrize("name", list(DAMAGED))
def test_a_damaged_file_gets_one_line_and_no_output(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], name: str
) -> None:
    make, reason = DAMAGED[name]
    source = tmp_path / "in" / name
    source.parent.mkdir()
    source.write_bytes(make())
    out = tmp_path / "out"
    capfd.readouterr()
    assert cli.main([str(source.parent), "-o", str(out), "-q"]) == 1
    err = capfd.readouterr().err
    assert "Traceback" not in err
    (line,) = err.splitlines()
    assert line.startswith(f"unseen: {display(source)}: {reason}"), line
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p != source]
    assert not leftovers, leftovers
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(publish.TMP_SUFFIX)]


@cache
def fuzzed(name: str) -> bytes:
    """A still or a two-picture HEIC, an AVIF or an animated one: the bytes the fuzz below damages."""
    picture, stream = Image.fromarray(pattern()).resize((128, 96)), io.BytesIO()
    fmt, several = ("HEIF" if name.endswith(".heic") else "AVIF"), name.startswith("two")
    picture.save(stream, format=fmt, save_all=several, append_images=[picture.rotate(180)] if several else [])
    return stream.getvalue()


@FUZZ
@given(name=st.sampled_from(["one.heic", "two.heic", "one.avif", "two.avif"]), cut=CUTS, flips=FLIPS)
def test_damaged_heic_and_avif_fail_as_unreadable_never_otherwise(
    tmp_path: Path, name: str, cut: float, flips: list[tuple[float, int]]
) -> None:
    """read_image gives pixels, or ImageReadError in one line. Fuzzing found libavif's RuntimeError on opening a
    file whose image item is missing, and Pillow's ZeroDivisionError on an animation whose timescale reads 0."""
    path = tmp_path / name
    path.write_bytes(damaged(fuzzed(name), cut, flips))
    try:
        pixels = read_image(path).pixels
    except ImageReadError as error:
        assert one_line(error), error
    else:
        assert pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] in (3, 4)


# --- names --------------------------------------------------------------------------------------------------


def test_the_suffixes_are_recognised_in_any_case(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    names = {"IMG_1.HEIC": "HEIF", "b.Heif": "HEIF", "c.hif": "HEIF", "D.AVIF": "AVIF", "notes.txt": None}
    for name in names:
        (folder / name).write_bytes(b"x")
    jobs = {job.source.name: job for job in plan([folder], tmp_path / "out", None)}
    for name, fmt in names.items():
        assert jobs[name].skipped == (fmt is None)
        assert jobs[name].fmt == fmt
        assert jobs[name].target.name == name  # written back under its own name and suffix
    assert heif.kind(encoded("HEIF")[:16]) == "HEIF" and heif.kind(encoded("AVIF")[:16]) == "AVIF"
