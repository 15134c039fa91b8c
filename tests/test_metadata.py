"""Nothing identifying survives: inputs crafted with every kind of metadata, outputs read back with exiftool.

Each input carries GPS, an EXIF thumbnail (which shows the unblurred face), XMP, IPTC, maker notes, camera make
and model, serial numbers, an ICC profile, a DPI and comments; the PNG also tEXt, zTXt, iTXt and eXIf chunks.
The CLI turns them into every output format, and each output is checked three ways: exiftool finds nothing
outside an allowlist, the file's own structure (markers, chunks, TIFF tags) holds nothing else, and no secret
string is anywhere in its bytes.
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import SAMPLE, exiftool_json, needs_exiftool, require_exiftool, run_cli, sha256
from PIL import Image, ImageCms, PngImagePlugin

from unseen.media import metadata

SECRET = "SECRET"  # every text value planted in the inputs contains this
EXIFTOOL_TAGS = [
    *("-GPSLatitude=48.8584", "-GPSLatitudeRef=N", "-GPSLongitude=2.2945", "-GPSLongitudeRef=E"),
    *("-XMP:Creator=XMP-SECRET", "-IPTC:By-line=IPTC-SECRET", "-Make=MAKE-SECRET", "-Model=MODEL-SECRET"),
    *("-Artist=ARTIST-SECRET", "-Copyright=COPYRIGHT-SECRET", "-DateTimeOriginal=2021:02:03 04:05:06"),
    *("-Software=SOFTWARE-SECRET", "-SerialNumber=SERIAL-SECRET", "-LensSerialNumber=LENS-SECRET"),
    *("-OwnerName=OWNER-SECRET", "-ImageDescription=DESC-SECRET", "-UserComment=USERCOMMENT-SECRET"),
]
XMP_PACKET = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>XMPTITLE-SECRET</dc:title>'
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)

# What the crafted inputs must be found to carry, or the test below them would prove nothing.
PLANTED = {
    "in_jpeg.jpg": ["GPS:GPSLatitude", "IFD1:ThumbnailImage", "XMP-dc:Creator", "IPTC:By-line", "IFD0:Make",
                    "ExifIFD:MakerNote", "ExifIFD:SerialNumber", "File:Comment", "ICC_Profile:"],
    "in_png.png": ["PNG:Author", "PNG:Comment", "PNG:Description", "IFD0:Make", "ExifIFD:MakerNote",
                   "IFD1:ThumbnailImage", "GPS:GPSLatitude", "XMP-dc:Creator", "IPTC:By-line", "ICC_Profile:"],
    "in_webp.webp": ["IFD0:Make", "ExifIFD:MakerNote", "GPS:GPSLatitude", "IFD1:ThumbnailImage", "XMP-dc:Creator",
                     "XMP-dc:Title", "ICC_Profile:"],
    "in_tiff.tif": ["IFD0:Make", "IFD0:Artist", "GPS:GPSLatitude", "ExifIFD:SerialNumber", "XMP-dc:Creator",
                    "IPTC:By-line", "ICC_Profile:"],
    "in_gif.gif": ["File:Comment", "XMP-dc:Creator", "XMP-exif:GPSLatitude"],
}  # fmt: skip

# Named outright, though the allowlist already excludes them: what the issue says must be gone.
FORBIDDEN = re.compile(
    r"GPS|Make|Model|Thumbnail|Preview|XMP|IPTC|Comment|Creator|Artist|Author|Copyright|DateTime|Software|Serial"
    r"|Owner|Lens|MakerNote|ICC|Profile|Orientation|Description|Title|Photoshop|MPF|IFD1|ExifIFD",
    re.IGNORECASE,
)
SUFFIX_FORMAT = {".jpg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".tif": "TIFF"}
NATIVE = {"in_jpeg": "JPEG", "in_png": "PNG", "in_webp": "WEBP", "in_tiff": "TIFF", "in_gif": "PNG"}  # GIF: PNG


def _plant(folder: Path) -> list[Path]:
    """The five dirty inputs: Pillow writes what exiftool cannot (maker notes, PNG chunks), exiftool the rest."""
    folder.mkdir()
    picture = Image.open(SAMPLE).convert("RGB").resize((256, 256))
    thumb = folder.parent / "thumb.jpg"
    picture.resize((64, 64)).save(thumb)  # the thumbnail shows the face unblurred
    exif = Image.Exif()
    exif[0x010F] = "PILMAKE-SECRET"
    exif.get_ifd(0x8769)[0x927C] = b"MAKERNOTE-SECRET" + bytes(32)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    common = {"exif": exif, "icc_profile": icc, "dpi": (300, 300)}
    picture.save(folder / "in_jpeg.jpg", quality=95, comment=b"COM-SECRET", **common)
    picture.save(folder / "in_png.png", pnginfo=_png_text(), **common)
    picture.save(folder / "in_webp.webp", xmp=XMP_PACKET, exif=exif, icc_profile=icc)
    picture.save(folder / "in_tiff.tif", **common)
    picture.save(folder / "in_gif.gif", comment=b"GIFCOMMENT-SECRET")
    inputs = sorted(folder.iterdir())
    args = ["-q", "-q", "-overwrite_original", f"-ThumbnailImage<={thumb}", *EXIFTOOL_TAGS]
    subprocess.run([require_exiftool(), *args, *map(str, inputs)], check=True, capture_output=True)
    return inputs


def _png_text() -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "TEXT-SECRET")  # tEXt
    info.add_text("Comment", "ZTXT-SECRET", zip=True)  # zTXt
    info.add_itxt("Description", "ITXT-SECRET", lang="en", tkey="Beschreibung")  # iTXt
    return info


@dataclass(frozen=True)
class Run:
    inputs: list[Path]
    hashes: dict[Path, str]  # of the inputs, taken before the run
    result: subprocess.CompletedProcess[str]
    outputs: list[Path]
    fmt: str | None  # --format, or None for each input's own


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return _plant(tmp_path_factory.mktemp("metadata") / "in")


@pytest.fixture(scope="module", params=[None, "jpeg", "png", "webp", "tiff"], ids=lambda f: f or "native")
def run(request: pytest.FixtureRequest, planted: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp(f"out-{request.param or 'native'}")
    hashes = {path: sha256(path) for path in planted}
    fmt_args = ["--format", request.param] if request.param else []
    result = run_cli(planted[0].parent, "-o", out, "-q", *fmt_args)
    return Run(planted, hashes, result, sorted(out.rglob("*")), request.param)


def expected_format(run: Run, output: Path) -> str:
    return run.fmt.upper() if run.fmt else NATIVE[output.stem]


@needs_exiftool
def test_crafted_inputs_carry_everything_planted(planted: list[Path]) -> None:
    for found in exiftool_json(*planted):
        name = Path(str(found["SourceFile"])).name
        missing = [tag for tag in PLANTED[name] if not any(key.startswith(tag) for key in found)]
        assert not missing, f"{name}: crafting failed to plant {missing}"
    for path in planted:  # the thumbnails are there, and found the way the test below looks for them
        assert embedded_images(path).startswith(b"\xff\xd8") == (path.suffix in (".jpg", ".png", ".webp"))


def embedded_images(*paths: Path) -> bytes:
    """Every thumbnail, preview or other embedded image exiftool can extract, concatenated."""
    images = ["-ThumbnailImage", "-PreviewImage", "-JpgFromRaw", "-OtherImage"]
    done = subprocess.run([require_exiftool(), "-b", *images, *map(str, paths)], capture_output=True)
    assert done.returncode in (0, 1), done.stderr  # 1: none of the files had one
    return done.stdout


def test_every_input_is_written_and_left_byte_identical(run: Run) -> None:
    assert run.result.returncode == 0, run.result.stderr
    assert run.result.stderr == ""
    assert [p.stem for p in run.outputs] == [p.stem for p in run.inputs]
    assert all(SUFFIX_FORMAT[p.suffix] == expected_format(run, p) for p in run.outputs)
    assert {path: sha256(path) for path in run.inputs} == run.hashes


@needs_exiftool
def test_exiftool_finds_only_allowlisted_tags(run: Run) -> None:
    for found in exiftool_json(*run.outputs):
        name, fmt = Path(str(found.pop("SourceFile"))).name, expected_format(run, Path(str(found["System:FileName"])))
        assert found["File:FileType"] == fmt
        forbidden = [tag for tag in found if not tag.startswith("System:") and FORBIDDEN.search(tag)]
        assert not forbidden, f"{name}: {forbidden}"
        outside = [tag for tag in found if not metadata.allowed(fmt, tag)]  # the registry's allowlist, formats.py
        assert not outside, f"{name}: tags outside metadata.ALLOWLIST[{fmt!r}]: {outside}"
        assert SECRET not in json.dumps(found)


@needs_exiftool
def test_what_little_is_kept_says_nothing(run: Run) -> None:
    for found in exiftool_json(*run.outputs):
        if "JFIF:JFIFVersion" in found:  # no density: 1×1 with no unit, whatever DPI the input had
            density = (found["JFIF:ResolutionUnit"], found["JFIF:XResolution"], found["JFIF:YResolution"])
            assert density == ("None", 1, 1)
        assert found.get("RIFF:WebP_Flags", "Alpha") == "Alpha"  # no EXIF, XMP or ICC flag in a VP8X header
        assert found["Composite:ImageSize"] == "256x256"


@needs_exiftool
def test_no_thumbnail_or_preview_can_be_extracted(run: Run) -> None:
    assert embedded_images(*run.outputs) == b""


def test_no_secret_anywhere_in_the_bytes(run: Run) -> None:
    for output in run.outputs:
        data = output.read_bytes()
        for needle in (SECRET.encode(), b"Exif\x00\x00", b"xmpmeta", b"ICC_PROFILE", b"Photoshop 3.0", b"48.85"):
            assert needle not in data, f"{output.name} holds {needle!r}"


def test_file_structure_holds_only_pixels(run: Run) -> None:
    for output in run.outputs:
        check = {"JPEG": _jpeg_ok, "PNG": _png_ok, "WEBP": _webp_ok, "TIFF": _tiff_ok}[expected_format(run, output)]
        check(output)


def _jpeg_ok(path: Path) -> None:
    """Only JFIF APP0, tables and the frame header before the scan; nothing after the end marker."""
    data = path.read_bytes()
    assert data[:2] == b"\xff\xd8"
    markers, i = [], 2
    while data[i + 1] != 0xDA:  # start of scan
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        markers.append((data[i + 1], data[i + 4 : i + 9]))
        i += 2 + length
    assert {m for m, _ in markers} <= {0xE0, 0xDB, 0xC4, 0xC0}, f"{path.name}: markers {[hex(m) for m, _ in markers]}"
    assert [body for m, body in markers if m == 0xE0] == [b"JFIF\x00"]
    assert data.index(b"\xff\xd9", i) == len(data) - 2, f"{path.name}: data after the end of the image"


def _png_ok(path: Path) -> None:
    data, i, chunks = path.read_bytes(), 8, []
    while i < len(data):
        length, kind = struct.unpack(">I4s", data[i : i + 8])
        chunks.append(kind)
        i += 12 + length
    assert set(chunks) == {b"IHDR", b"IDAT", b"IEND"} and chunks[0] == b"IHDR" and chunks[-1] == b"IEND", chunks


def _webp_ok(path: Path) -> None:
    data, i, chunks = path.read_bytes(), 12, []
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    while i < len(data):
        kind, length = struct.unpack("<4sI", data[i : i + 8])
        chunks.append(kind)
        i += 8 + length + (length & 1)
    assert set(chunks) <= {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}, chunks


TIFF_BASELINE = {256, 257, 258, 259, 262, 273, 277, 278, 279, 284, 338}  # see metadata.ALLOWLIST["TIFF"]


def _tiff_ok(path: Path) -> None:
    with Image.open(path) as image:
        assert getattr(image, "n_frames", 1) == 1  # no second IFD: no thumbnail page
        assert set(image.tag_v2) <= TIFF_BASELINE, sorted(set(image.tag_v2) - TIFF_BASELINE)


@needs_exiftool
def test_metadata_allowlist_lists_nothing_exiftool_never_finds(tmp_path: Path, planted: list[Path]) -> None:
    """The allowlist stays accurate the other way too: each entry shows up in some output of its format."""
    rgba = tmp_path / "in" / "alpha.png"
    rgba.parent.mkdir()
    translucent = Image.open(SAMPLE).convert("RGB").resize((64, 64))
    translucent.putalpha(200)  # alpha (not all opaque, which libwebp drops): VP8X, ALPH and ExtraSamples
    translucent.save(rgba)
    seen: dict[str, set[str]] = {fmt: set() for fmt in metadata.ALLOWLIST}
    for fmt in metadata.ALLOWLIST:
        result = run_cli(rgba, planted[0], "-o", tmp_path / fmt, "--format", fmt.lower(), "-q")
        assert result.returncode == 0, result.stderr
        for found in exiftool_json(*sorted((tmp_path / fmt).iterdir())):
            seen[fmt].update(tag for tag in found if tag != "SourceFile")
    for fmt, table in metadata.ALLOWLIST.items():
        never = [tag for tag in table if not tag.endswith(":*") and tag not in seen[fmt]]
        assert not never, f"metadata.ALLOWLIST[{fmt!r}] lists tags exiftool never finds: {never}"
