"""Reading and writing images: orientation, pixel modes, what is refused, and writes that leave nothing half-done.

Most inputs are made here and go through the CLI in one run (the `converted` fixture); failures are run one by
one, since each must fail on its own; write_image's own guarantees are tested by calling it.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE, SAMPLE_FACE, changed_share, exiftool_json, load_rgb, needs_exiftool, run_cli, sha256
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms

from unseen.errors import NameTaken
from unseen.media.image import read_image, write_image
from unseen.media.pixels import Decoded, ImageReadError

# How a viewer shows stored pixels S for each EXIF orientation, from the spec's words ("the 0th row is the
# visual ..., the 0th column the visual ..."), not from Pillow, whose transpose the code under test uses.
DISPLAYED: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    1: lambda s: s,  # top, left
    2: lambda s: s[:, ::-1],  # top, right
    3: lambda s: s[::-1, ::-1],  # bottom, right
    4: lambda s: s[::-1, :],  # bottom, left
    5: lambda s: s.transpose(1, 0, 2),  # left, top
    6: lambda s: np.rot90(s, -1),  # right, top: turned a quarter clockwise
    7: lambda s: s.transpose(1, 0, 2)[::-1, ::-1],  # right, bottom
    8: lambda s: np.rot90(s, 1),  # left, bottom: turned a quarter anticlockwise
}
UNDO = {6: 8, 8: 6}  # the others are their own inverse
CONTROL = (350, 350, 500, 500)  # a part of the sample far from the face: it must come out unchanged


def pattern() -> np.ndarray:
    """64 wide, 48 high: twelve 16-pixel blocks, each its own colour, so any flip or turn shows."""
    rng = np.random.default_rng(7)
    colours = rng.integers(0, 256, size=(3, 4, 3), dtype=np.uint8)
    colours[0, 0] = (255, 255, 255)
    return np.kron(colours, np.ones((16, 16, 1), dtype=np.uint8))


def save_oriented(pixels: np.ndarray, path: Path, orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(np.ascontiguousarray(pixels)).save(path, quality=95, exif=exif)


def opened(path: Path) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image


# --- inputs for the one CLI run ------------------------------------------------------------------------------


def _gradient16() -> np.ndarray:
    return (np.arange(256, dtype=np.uint32)[None, :].repeat(32, 0) * 257).astype(np.uint16)  # 0 … 65535


def _cmyk(path: Path) -> None:
    blocks = np.array([[255, 0, 0, 0], [0, 255, 0, 0], [0, 0, 255, 0], [0, 0, 0, 255]], dtype=np.uint8)
    Image.fromarray(np.kron(blocks[None], np.ones((32, 32, 1), dtype=np.uint8)), "CMYK").save(path, quality=95)


def _palette(path: Path) -> None:
    image = Image.fromarray(np.kron(np.array([[0, 1], [2, 3]], dtype=np.uint8), np.ones((16, 16), dtype=np.uint8)))
    image = image.convert("P")
    image.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])
    image.save(path, transparency=0)  # index 0: transparent


def _rgba(path: Path) -> None:
    pixels = np.zeros((32, 256, 4), dtype=np.uint8)
    pixels[..., :3] = (200, 100, 50)  # also under the fully transparent column: it must not travel
    pixels[..., 3] = np.arange(256, dtype=np.uint8)[None, :]
    Image.fromarray(pixels, "RGBA").save(path)


def _keyed(path: Path) -> None:
    pixels = np.full((16, 32, 3), (10, 200, 10), dtype=np.uint8)
    pixels[:, :16] = (255, 0, 0)
    Image.fromarray(pixels).save(path, transparency=(255, 0, 0))  # tRNS: red is transparent


def _icc(path: Path, profile: bytes) -> None:
    Image.fromarray(pattern()).save(path, quality=95, icc_profile=profile)


def _mpo(path: Path) -> None:
    first, second = Image.fromarray(pattern()), Image.fromarray(255 - pattern())
    first.save(path, format="MPO", save_all=True, append_images=[second], quality=95)


def _turned_sample(path: Path, orientation: int) -> None:
    """The sample stored turned, with the tag that turns it back: it shows as the sample, face at SAMPLE_FACE."""
    save_oriented(DISPLAYED[UNDO.get(orientation, orientation)](load_rgb(SAMPLE)), path, orientation)


SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
MAKERS: dict[str, Callable[[Path], None]] = {
    "gray.png": lambda p: Image.fromarray(pattern()).convert("L").save(p),
    "gray.jpg": lambda p: Image.fromarray(pattern()).convert("L").save(p, quality=95),
    "deep.png": lambda p: Image.fromarray(_gradient16()).save(p),
    "cmyk.jpg": _cmyk,
    "palette.png": _palette,
    "rgba.png": _rgba,
    "keyed.png": _keyed,
    "icc.jpg": lambda p: _icc(p, SRGB),
    "brokenicc.jpg": lambda p: _icc(p, b"not a profile" * 20),
    "badexif.jpg": lambda p: Image.fromarray(pattern()).save(p, exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05"),
    "stereo.mpo": _mpo,
    "turned.tif": lambda p: Image.fromarray(pattern()).save(p, tiffinfo={274: 6}),
    **{f"orient{n}.jpg": (lambda p, n=n: save_oriented(pattern(), p, n)) for n in DISPLAYED},
    **{f"face{n}.jpg": (lambda p, n=n: _turned_sample(p, n)) for n in (3, 6, 7, 8)},
}


@pytest.fixture(scope="module")
def conversion(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("io") / "in"
    folder.mkdir()
    for name, make in MAKERS.items():
        make(folder / name)
    # Pixels are compared exactly: without the sensor-noise treatment.
    return folder.parent / "out", run_cli(folder, "-o", folder.parent / "out", "-q", "--keep-sensor-noise")


@pytest.fixture
def converted(conversion: tuple[Path, subprocess.CompletedProcess[str]]) -> Path:
    return conversion[0]


def test_every_made_input_is_written_with_no_warning_printed(
    conversion: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, result = conversion
    assert result.returncode == 0
    assert result.stderr == ""  # badexif.jpg: Pillow's warnings about its EXIF are not the user's problem
    assert {path.stem for path in out.iterdir()} == {Path(name).stem for name in MAKERS}
    assert not list(out.glob("*.unseen-tmp")) and not list(out.glob(".*"))


# --- orientation ---------------------------------------------------------------------------------------------


def blocks(pixels: np.ndarray) -> np.ndarray:
    """The mean colour of each 16-pixel block's middle, where JPEG's error at the block edges does not reach."""
    h, w = pixels.shape[0] // 16, pixels.shape[1] // 16
    return pixels.reshape(h, 16, w, 16, 3)[:, 4:12, :, 4:12].mean(axis=(1, 3))


@pytest.mark.parametrize("orientation", sorted(DISPLAYED))
def test_orientation_is_applied_to_the_pixels(converted: Path, orientation: int) -> None:
    out = blocks(load_rgb(converted / f"orient{orientation}.jpg"))
    error = {
        n: np.abs(out - blocks(shown(pattern()))).max()
        for n, shown in DISPLAYED.items()
        if shown(pattern()).shape[:2] == (out.shape[0] * 16, out.shape[1] * 16)
    }
    assert error[orientation] < 12  # as shown, within JPEG's error (twice over)
    assert min(error, key=error.get) == orientation and sorted(error.values())[1] > 50  # and like no other


@needs_exiftool
def test_outputs_carry_no_orientation_tag(converted: Path) -> None:
    outputs = [converted / f"orient{n}.jpg" for n in DISPLAYED] + [converted / "turned.tif"]
    for found in exiftool_json(*outputs):
        assert not [tag for tag in found if "Orientation" in tag], found["SourceFile"]


def test_tiff_orientation_tag_is_applied_too(converted: Path) -> None:
    with Image.open(converted / "turned.tif") as image:
        assert 274 not in image.tag_v2
        assert np.array_equal(np.asarray(image.convert("RGB")), DISPLAYED[6](pattern()))  # TIFF is lossless


@pytest.mark.parametrize("orientation", [3, 6, 7, 8])
def test_face_is_covered_where_it_shows_after_orientation(converted: Path, orientation: int) -> None:
    sample, out = load_rgb(SAMPLE), load_rgb(converted / f"face{orientation}.jpg")
    assert out.shape == sample.shape
    assert changed_share(sample, out, SAMPLE_FACE) >= 0.7
    assert changed_share(sample, out, CONTROL) < 0.1  # the rest lies where the sample has it: the turn was right


# --- pixel modes ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["gray.png", "gray.jpg"])
def test_grayscale_stays_grayscale(converted: Path, name: str) -> None:
    image = opened(converted / name)
    assert image.mode == "L"
    expected = np.asarray(Image.fromarray(pattern()).convert("L"), dtype=int)
    assert np.abs(np.asarray(image, dtype=int) - expected).mean() < 4


def test_16_bit_png_is_scaled_to_8_bits_not_clipped(converted: Path) -> None:
    image = opened(converted / "deep.png")
    assert image.mode == "L"  # 8-bit gray
    row = np.asarray(image)[0].astype(int)
    assert np.array_equal(row, np.arange(256))  # v × 257 comes back as v; clipping would give 255 from v = 1 on


def test_cmyk_jpeg_is_written_as_rgb(converted: Path) -> None:
    image = opened(converted / "cmyk.jpg")
    assert image.mode == "RGB"
    centres = np.asarray(image)[16, 16::32].astype(int)  # cyan, magenta, yellow, black
    expected = np.array([[0, 255, 255], [255, 0, 255], [255, 255, 0], [0, 0, 0]])
    assert np.abs(centres - expected).max() < 24


def test_palette_png_with_transparency_keeps_alpha(converted: Path) -> None:
    image = opened(converted / "palette.png")
    assert image.mode == "RGBA"
    pixels = np.asarray(image)
    assert pixels[8, 8, 3] == 0  # index 0 was transparent
    assert np.array_equal(pixels[8, 24], [255, 0, 0, 255]) and np.array_equal(pixels[24, 24], [0, 0, 255, 255])


def test_rgba_png_keeps_alpha_and_drops_what_full_transparency_hid(converted: Path) -> None:
    pixels = np.asarray(opened(converted / "rgba.png"))
    assert pixels.shape[2] == 4
    assert np.array_equal(pixels[0, :, 3], np.arange(256))
    assert np.array_equal(pixels[:, 1:, :3], np.broadcast_to([200, 100, 50], (32, 255, 3)))
    assert not pixels[:, 0].any()  # alpha 0: its colour was cleared


def test_colour_keyed_png_gets_its_transparency_as_alpha(converted: Path) -> None:
    pixels = np.asarray(opened(converted / "keyed.png"))
    assert pixels.shape[2] == 4
    assert (pixels[:, :16, 3] == 0).all() and (pixels[:, 16:, 3] == 255).all()


@needs_exiftool
@pytest.mark.parametrize("name", ["icc.jpg", "brokenicc.jpg"])
def test_icc_profile_is_applied_not_kept(converted: Path, name: str) -> None:
    (found,) = exiftool_json(converted / name)
    assert not [tag for tag in found if tag.startswith("ICC") or "Profile" in tag]
    assert np.abs(blocks(load_rgb(converted / name)) - blocks(pattern())).max() < 12  # sRGB in, sRGB out


def test_mpo_keeps_only_its_first_picture(converted: Path) -> None:
    data = (converted / "stereo.jpg").read_bytes()
    assert data.count(b"\xff\xd8\xff") == 1  # one JPEG, no second frame after it
    assert np.abs(blocks(load_rgb(converted / "stereo.jpg")) - blocks(pattern())).max() < 12  # the first frame


# --- what is refused ---------------------------------------------------------------------------------------


def _multipage_tiff(path: Path) -> None:
    Image.fromarray(pattern()).save(path, save_all=True, append_images=[Image.fromarray(255 - pattern())])


def _animated_webp(path: Path) -> None:
    frames = [Image.fromarray(pattern()), Image.fromarray(255 - pattern())]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)


def _truncated(fmt: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        Image.open(SAMPLE).convert("RGB").save(path, format=fmt)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    return make


def _png_header(width: int, height: int) -> bytes:
    """A valid, tiny PNG whose IHDR claims the given size: what a decompression bomb looks like up front."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


REFUSED: dict[str, tuple[Callable[[Path], None], str]] = {
    "bomb.png": (lambda p: p.write_bytes(_png_header(100_000, 100_000)), "over the 250,000,000-pixel limit"),
    "cut.jpg": (_truncated("JPEG"), "truncated"),
    "cut.png": (_truncated("PNG"), "truncated"),
    "cut.tif": (_truncated("TIFF"), "truncated"),
    "empty.jpg": (lambda p: p.write_bytes(b""), "empty file"),
    "text.jpg": (lambda p: p.write_text("just some words\n" * 10), "not an image"),
}


@pytest.mark.parametrize("make", [_multipage_tiff, _animated_webp])
def test_animated_and_multi_page_images_are_read_frame_by_frame(tmp_path: Path, make: Callable[[Path], None]) -> None:
    path = tmp_path / ("pages.tif" if make is _multipage_tiff else "anim.webp")
    make(path)
    decoded = read_image(path)
    assert len(decoded.frames) == 2 and decoded.animated == (path.suffix == ".webp")
    assert all(frame.dtype == np.uint8 and frame.shape == decoded.pixels.shape for frame in decoded.frames)
    assert decoded.durations[0] == (100 if decoded.animated else 0)
    with pytest.raises(ImageReadError, match="add up to over the"):
        read_image(path, max_pixels=decoded.pixels.shape[0] * decoded.pixels.shape[1] + 1)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_unreadable_input_fails_alone_with_one_line_and_no_output(tmp_path: Path, name: str) -> None:
    make, reason = REFUSED[name]
    source = tmp_path / "in" / name
    source.parent.mkdir()
    make(source)
    before = sha256(source)
    result = run_cli(source, "-o", tmp_path / "out", "-q")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and name in lines[0] and reason in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p != source]  # no output, no temp file
    assert sha256(source) == before


def test_max_pixels_refuses_a_normal_image_and_names_the_limit(tmp_path: Path) -> None:
    result = run_cli(SAMPLE, "-o", tmp_path / "out", "--max-pixels", "1000", "-q")
    assert result.returncode == 1
    assert "1,000-pixel limit (--max-pixels)" in result.stderr and SAMPLE.name in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_large_image_under_the_limit_is_not_taken_for_a_bomb(tmp_path: Path) -> None:
    """Pillow's own limit (about 89 megapixels) must not stand in for --max-pixels."""
    path = tmp_path / "big.png"
    path.write_bytes(_png_header(10_000, 10_000))  # 100 megapixels claimed, no pixel data: truncated, not a bomb
    with pytest.raises(ImageReadError, match="truncated"):
        read_image(path, max_pixels=200_000_000)
    with pytest.raises(ImageReadError, match="99,999,999-pixel limit"):
        read_image(path, max_pixels=99_999_999)


def _encoded(fmt: str) -> bytes:
    stream = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112], exif[0x010F] = 6, "Make"
    Image.fromarray(pattern()).save(stream, format=fmt, exif=exif)
    return stream.getvalue()


ENCODED = {fmt: _encoded(fmt) for fmt in ("JPEG", "PNG", "WEBP", "TIFF", "GIF")}


@settings(
    max_examples=150,
    deadline=2000,  # milliseconds for one case: a decoder that turns slow on some damage fails the test
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    fmt=st.sampled_from(sorted(ENCODED)),
    cut=st.floats(0.05, 1.0),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=8),
)
def test_damaged_files_fail_as_unreadable_never_otherwise(
    tmp_path: Path, fmt: str, cut: float, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(ENCODED[fmt][: max(1, int(len(ENCODED[fmt]) * cut))])
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    path = tmp_path / "damaged"
    path.write_bytes(bytes(data))
    try:
        decoded = read_image(path)
    except ImageReadError as error:
        assert str(error) and "\n" not in str(error)
    else:
        assert decoded.pixels.dtype == np.uint8 and decoded.pixels.ndim == 3 and decoded.pixels.shape[2] in (3, 4)


# --- write_image ---------------------------------------------------------------------------------------------


def decoded(pixels: np.ndarray, gray: bool = False) -> Decoded:
    return Decoded(pixels=pixels, format="PNG", gray=gray)


def test_write_failing_midway_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(self: Image.Image, fp: object, *args: object, **kwargs: object) -> None:
        fp.write(b"\x89PNG partial")  # type: ignore[attr-defined]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full_disk)
    target = tmp_path / "out" / "photo.png"
    with pytest.raises(OSError) as caught:
        write_image(decoded(pattern()), pattern(), target, "PNG")
    assert caught.value.errno == errno.ENOSPC
    assert list(target.parent.iterdir()) == []  # neither the final name nor a temporary file


def test_write_never_replaces_unasked_and_replaces_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "photo.png"
    target.write_bytes(b"mine")
    with pytest.raises(NameTaken, match="--overwrite"):
        write_image(decoded(pattern()), pattern(), target, "PNG")
    assert target.read_bytes() == b"mine" and list(tmp_path.iterdir()) == [target]
    write_image(decoded(pattern()), pattern(), target, "PNG", overwrite=True)
    assert np.array_equal(load_rgb(target), pattern()) and list(tmp_path.iterdir()) == [target]


def test_written_file_has_the_umask_permissions(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        write_image(decoded(pattern()), pattern(), tmp_path / "photo.png", "PNG")
    finally:
        os.umask(previous)
    assert (tmp_path / "photo.png").stat().st_mode & 0o777 == 0o644  # shareable as any new file, not 0600


def test_long_file_name_still_leaves_room_for_the_temporary_name(tmp_path: Path) -> None:
    target = tmp_path / ("é" * 120 + ".png")  # 244 bytes: the longest names most file systems allow, nearly
    write_image(decoded(pattern()), pattern(), target, "PNG")
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize(("fmt", "mode"), [("PNG", "LA"), ("TIFF", "LA"), ("WEBP", "RGBA"), ("JPEG", "L")])
def test_gray_with_alpha_keeps_alpha_where_the_format_can(tmp_path: Path, fmt: str, mode: str) -> None:
    pixels = np.zeros((8, 8, 4), dtype=np.uint8)
    pixels[..., :3], pixels[..., 3] = 90, 128
    target = tmp_path / f"photo.{fmt.lower()}"
    write_image(decoded(pixels, gray=True), pixels, target, fmt)
    assert opened(target).mode == mode


def test_jpeg_lays_transparency_on_white(tmp_path: Path) -> None:
    pixels = np.zeros((16, 16, 4), dtype=np.uint8)
    pixels[..., :3] = (200, 0, 0)  # hidden red under transparency
    pixels[:, 8:, 3] = 255
    write_image(decoded(pixels), pixels, tmp_path / "photo.jpg", "JPEG")
    out = load_rgb(tmp_path / "photo.jpg").astype(int)
    assert np.abs(out[:, :4] - 255).max() < 8  # white, not the red that was hidden
    assert np.abs(out[:, 12:] - (200, 0, 0)).max() < 24


def test_reading_in_threads_restores_the_process_wide_settings(tmp_path: Path) -> None:
    """Photos are read two at a time; Pillow's pixel limit and the warning filters are the process's own, and
    must be as they were once every reader is done, whatever the interleaving."""
    import threading
    import warnings

    shutil.copyfile(SAMPLE, tmp_path / "a.png")
    limit, filters = Image.MAX_IMAGE_PIXELS, list(warnings.filters)
    errors: list[BaseException] = []

    def read_many() -> None:
        try:
            for _ in range(15):
                assert read_image(tmp_path / "a.png", 10**9).pixels.shape[2] == 3
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=read_many) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert (Image.MAX_IMAGE_PIXELS, list(warnings.filters)) == (limit, filters)
