"""Small files that would eat the machine: each is refused before it costs memory or time (issue "Nothing leaves
the machine, nothing lingers", "Small files eat the machine", issue 26 "Tiny files, big work").

Every file is made here at run time, a few bytes to a few kilobytes, and run through the command in a child
process, as a user runs it; the child's peak memory is what the kernel measured for it (its VmHWM), and a
watchdog kills it beyond GUARD_MB or GUARD_SECONDS, so that a regression fails the test instead of the machine.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import REPO, SAMPLE, SHARED_DATA, changed_share
from PIL import Image, ImageSequence

from unseen.media import budget
from unseen.media.image import DEFAULT_MAX_PIXELS, read_image
from unseen.media.pixels import ImageReadError
from unseen.media.videofile import VideoReader

sys.path.append(str(REPO / "bench"))

import animations  # bench/animations.py: the hostile and realistic animations, made at run time

# A refused file may cost no more than this peak RSS in the child. Python with NumPy, Pillow, PyAV, OpenCV and
# ONNX Runtime imported and the face model loaded is about 185 MB before any file is read (a 64×48 PNG done
# end to end peaked at 185 MB, 2026-12-01).
REFUSED_MB = 300
REFUSED_SECONDS = 2.0  # the report's seconds for the file: reading and refusing it
GUARD_MB = 1500  # the watchdog's limits: far above what a refusal costs, far below what a bomb costs
GUARD_SECONDS = 60.0


@dataclass(frozen=True)
class Run:
    code: int
    stderr: str
    peak_mb: float
    report: dict
    killed: str | None  # why the watchdog killed the child, if it did


def run_child(
    args: list[object], folder: Path, guard_mb: float = GUARD_MB, guard_seconds: float = GUARD_SECONDS
) -> Run:
    """`unseen ARGS --report` in a child process, watched: its exit status, stderr, peak RSS and report."""
    report = folder / "report.json"
    command = [sys.executable, "-m", "unseen", *map(str, args), "--report", str(report), "--quiet"]
    code, stderr, peak_mb, killed = _watched(command, folder, guard_mb, guard_seconds)
    found = json.loads(report.read_text()) if report.exists() else {}
    return Run(code, stderr, peak_mb, found, killed)


def _watched(
    command: list[str], folder: Path, guard_mb: float, guard_seconds: float = GUARD_SECONDS
) -> tuple[int, str, float, str | None]:
    """Run `command`, killed beyond `guard_mb` or `guard_seconds`: its exit status, stderr, peak RSS in MB (the
    kernel's count for this child alone, from wait4) and why it was killed, if it was."""
    err_path = folder / "stderr.txt"
    with err_path.open("wb") as err:
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        killed: list[str] = []
        peaks: list[float] = [0.0]
        watchdog = threading.Thread(target=_watch, args=(child, killed, peaks, guard_mb, guard_seconds), daemon=True)
        watchdog.start()
        _, status, _usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        watchdog.join()
    return child.returncode, err_path.read_text(), max(peaks), killed[0] if killed else None


def _watch(
    child: subprocess.Popen[bytes], killed: list[str], peaks: list[float], guard_mb: float, guard_seconds: float
) -> None:
    """Kill the child past the guards; record its VmHWM, the kernel's high-water mark of its own memory.

    Not wait4's ru_maxrss: Linux folds the parent's peak into a child's at exec (subprocess spawns with vfork),
    so a child of a test process that once held 400 MB reports at least 400 MB whatever it used itself."""
    started = time.monotonic()
    while child.returncode is None:
        try:
            status = Path(f"/proc/{child.pid}/status").read_text()
        except OSError:
            return
        fields = {line.split(":")[0]: line.split()[1:2] for line in status.splitlines()}
        if fields.get("VmHWM"):
            peaks.append(int(fields["VmHWM"][0]) / 1024)
        rss = int((fields.get("VmRSS") or ["0"])[0]) / 1024
        if rss > guard_mb or time.monotonic() - started > guard_seconds:
            killed.append(f"{rss:.0f} MB after {time.monotonic() - started:.1f} s")
            child.kill()
            return
        time.sleep(0.01)


# --- the files --------------------------------------------------------------------------------------------


def lossless_webp(width: int, height: int) -> bytes:
    """A flat 16×16 lossless WebP whose header is made to say `width`×`height`: 38 bytes that libwebp decodes to
    any size, since every pixel of a one-colour VP8L image costs no bits at all."""
    stream = io.BytesIO()
    Image.new("RGB", (16, 16), (30, 60, 90)).save(stream, "WEBP", lossless=True)
    data = bytearray(stream.getvalue())
    assert data[12:16] == b"VP8L"
    bits = struct.unpack("<I", data[21:25])[0] & ~0x0FFFFFFF
    data[21:25] = struct.pack("<I", bits | (width - 1) | (height - 1) << 14)
    return bytes(data)


def _vp8l_chunk() -> bytes:
    """The VP8L chunk of a flat 16×16 lossless WebP (fourcc, size, bitstream)."""
    stream = io.BytesIO()
    Image.new("RGB", (16, 16), (30, 60, 90)).save(stream, "WEBP", lossless=True)
    return stream.getvalue()[12:]


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + b"\0" * (len(body) % 2)


def _u24(value: int) -> bytes:
    return struct.pack("<I", value)[:3]


def animated_webp(width: int, height: int, frames: int) -> bytes:
    """An animated WebP of a `width`×`height` canvas and `frames` frames of 16×16 each: libwebp decodes every frame
    onto the whole canvas."""
    vp8x = _riff_chunk(b"VP8X", bytes([0x02, 0, 0, 0]) + _u24(width - 1) + _u24(height - 1))
    anim = _riff_chunk(b"ANIM", b"\0\0\0\0" + struct.pack("<H", 0))
    frame = _u24(0) + _u24(0) + _u24(15) + _u24(15) + _u24(100) + b"\0" + _vp8l_chunk()
    body = b"WEBP" + vp8x + anim + _riff_chunk(b"ANMF", frame) * frames
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int, height: int, share: float = 0.4) -> bytes:
    """An RGB PNG whose IHDR says `width`×`height` and whose data, a complete zlib stream, holds the first `share`
    of its rows, all black: Pillow decodes those rows into the whole picture's memory before it finds the end."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    packer, rows = zlib.compressobj(9), bytes(1 + 3 * width) * 250
    idat = b"".join(packer.compress(rows) for _ in range(int(height * share) // 250)) + packer.flush()
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def tiff_bomb(width: int, height: int) -> bytes:
    """A little-endian RGB TIFF, deflate-compressed, one strip of a few bytes for `width`×`height` pixels."""
    data = zlib.compress(bytes(4096), 9)
    count = 10
    ifd_at = 8
    extra_at = ifd_at + 2 + count * 12 + 4  # where the bits per sample (3 shorts) go
    strip_at = extra_at + 6
    entries = [
        (256, 4, 1, width),  # ImageWidth, LONG
        (257, 4, 1, height),  # ImageLength
        (258, 3, 3, extra_at),  # BitsPerSample: 8, 8, 8 (at extra_at)
        (259, 3, 1, 8),  # Compression: Adobe deflate
        (262, 3, 1, 2),  # Photometric: RGB
        (273, 4, 1, strip_at),  # StripOffsets
        (277, 3, 1, 3),  # SamplesPerPixel
        (278, 4, 1, height),  # RowsPerStrip: one strip
        (279, 4, 1, len(data)),  # StripByteCounts
        (284, 3, 1, 1),  # PlanarConfiguration: chunky
    ]
    ifd = struct.pack("<H", count)
    for tag, kind, number, value in entries:
        packed = struct.pack("<HH", value, 0) if kind == 3 and number == 1 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, number) + packed
    ifd += struct.pack("<I", 0)
    return b"II*\0" + struct.pack("<I", ifd_at) + ifd + struct.pack("<HHH", 8, 8, 8) + data


def jpeg_claiming(width: int, height: int) -> bytes:
    """A flat 16×16 JPEG (about 630 bytes) whose frame header is made to say `width`×`height`: libjpeg meets the
    end marker long before the image is complete, warns, and fills the rest with the last colour."""
    stream = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 120, 150)).save(stream, "JPEG", quality=90)
    data = bytearray(stream.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif_canvas(width: int, height: int, frames: int) -> bytes:
    """An animated GIF of a `width`×`height` canvas and `frames` frames of one pixel each (23 bytes a frame)."""
    head = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\0\0\0"
    # LZW with 2-bit minimum code size, 3-bit codes: clear (4), index 0, end (5), packed from the low bit up.
    control = b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # 100 ms
    frame = control + b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return head + loop + frame * frames + b"\x3b"


def sample_jpeg() -> bytes:
    stream = io.BytesIO()
    Image.open(SAMPLE).convert("RGB").save(stream, "JPEG", quality=90)
    return stream.getvalue()


def cut_with_end_marker(data: bytes, share: float = 0.6) -> bytes:
    """The file cut at `share` of its length and given an end marker, as a careless repair tool leaves it."""
    return data[: int(len(data) * share)] + b"\xff\xd9"


# --- refused, cheaply -------------------------------------------------------------------------------------

BOMBS: dict[str, tuple[Callable[[], bytes], str]] = {
    "tiny.webp": (lambda: lossless_webp(15800, 15800), "decompression bomb"),
    "bomb.png": (lambda: png_bomb(15000, 15000), "decompression bomb"),
    "bomb.tif": (lambda: tiff_bomb(15000, 15000), "decompression bomb"),
    "bomb.jpg": (lambda: jpeg_claiming(15800, 15800), "decompression bomb"),
    "short_629.jpg": (lambda: jpeg_claiming(12000, 9000), "decompression bomb"),
    "canvas.gif": (lambda: gif_canvas(10000, 10000, 300), "10000×10000"),
    "canvas.webp": (lambda: animated_webp(15000, 16000, 2), "limit"),
    "cut_with_end.jpg": (lambda: cut_with_end_marker(sample_jpeg()), "corrupt or truncated image"),
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_small_hostile_file_is_refused_before_it_costs_memory_or_time(tmp_path: Path, name: str) -> None:
    make, says = BOMBS[name]
    source = tmp_path / "in" / name
    source.parent.mkdir()
    source.write_bytes(make())
    out = tmp_path / "out"
    run = run_child([source, "-o", out], tmp_path)
    assert run.killed is None, f"{name}: killed by the watchdog at {run.killed}"
    assert run.code == 1, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and name in lines[0] and says in lines[0], run.stderr
    assert not out.exists() or not any(out.rglob("*")), "a refused file has no output"
    (entry,) = run.report["files"]
    assert entry["status"] == "failed" and entry["seconds"] < REFUSED_SECONDS, entry
    assert run.peak_mb < REFUSED_MB, f"{name}: the child peaked at {run.peak_mb:.0f} MB"


# --- truncated photos -------------------------------------------------------------------------------------


def _encoded(fmt: str, **options: object) -> bytes:
    stream = io.BytesIO()
    Image.open(SAMPLE).convert("RGB").save(stream, fmt, **options)
    return stream.getvalue()


def _png_closed(data: bytes) -> bytes:
    """Cut in its data, then given an IEND chunk, as a repair tool leaves it."""
    return data[: len(data) * 6 // 10] + _png_chunk(b"IEND", b"")


def _webp_resized(data: bytes) -> bytes:
    """Cut, with the RIFF and bitstream chunk sizes made to match what is left."""
    cut = bytearray(data[: len(data) * 6 // 10])
    cut[4:8], cut[16:20] = struct.pack("<I", len(cut) - 8), struct.pack("<I", len(cut) - 20)
    return bytes(cut)


def _tiff_directory_first(compression: int) -> bytes:
    """The sample as an RGB TIFF with its directory before its one strip (as cameras and scanners write it), the
    strip cut: its byte count says more than the file holds."""
    pixels = np.asarray(Image.open(SAMPLE).convert("RGB"))
    data = tiff_bomb(pixels.shape[1], pixels.shape[0])  # the same layout, with the real strip below
    strip = zlib.compress(pixels.tobytes()) if compression == 8 else pixels.tobytes()
    head = bytearray(data[: data.index(zlib.compress(bytes(4096), 9))])
    fields = {259: compression, 279: len(strip)}
    for at in range(10, 10 + 10 * 12, 12):  # patch the compression and the byte count in the directory
        tag = struct.unpack_from("<H", head, at)[0]
        if tag in fields:
            struct.pack_into("<I" if tag == 279 else "<H", head, at + 8, fields[tag])
    return bytes(head) + strip[: len(strip) * 6 // 10]


TRUNCATED: dict[str, Callable[[], bytes]] = {
    "cut_with_end.jpg": lambda: cut_with_end_marker(_encoded("JPEG", quality=90)),
    "cut_with_end_progressive.jpg": lambda: cut_with_end_marker(_encoded("JPEG", progressive=True)),
    "cut_with_end_restarts.jpg": lambda: cut_with_end_marker(_encoded("JPEG", restart_marker_rows=1)),
    "cut_near_the_end.jpg": lambda: cut_with_end_marker(_encoded("JPEG", quality=90), 0.98),
    "cut.jpg": lambda: _encoded("JPEG")[:-2000],
    "cut_with_end.png": lambda: _png_closed(_encoded("PNG")),
    "cut_resized.webp": lambda: _webp_resized(_encoded("WEBP", quality=90)),
    "cut_resized_lossless.webp": lambda: _webp_resized(_encoded("WEBP", lossless=True)),
    "cut_strip.tif": lambda: _tiff_directory_first(1),
    "cut_deflate_strip.tif": lambda: _tiff_directory_first(8),
    "cut_with_trailer.gif": lambda: _encoded("GIF")[:-3000] + b"\x00\x3b",
}


@pytest.mark.parametrize("name", sorted(TRUNCATED))
def test_a_photo_whose_data_stops_early_is_refused(tmp_path: Path, name: str) -> None:
    """libjpeg fills a JPEG whose data meets an end marker too early with the last colour and only warns; the
    other formats' decoders raise. Each is refused with the one line of a damaged file."""
    path = tmp_path / name
    path.write_bytes(TRUNCATED[name]())
    with pytest.raises(ImageReadError, match="corrupt or truncated image"):
        read_image(path)


@pytest.mark.parametrize(
    "extra",
    [
        {"quality": 90},
        {"progressive": True, "optimize": True},
        {"restart_marker_blocks": 4},
        {"subsampling": 0},
    ],
)
def test_complete_jpegs_are_read_with_data_after_their_end_marker(tmp_path: Path, extra: dict) -> None:
    """Cameras and editors append data after the end marker (previews, maker data): it is not read, and a
    complete picture before it is not taken for a truncated one."""
    path = tmp_path / "a.jpg"
    path.write_bytes(_encoded("JPEG", **extra) + b"\xff\xd8 a second picture, or anything" * 50)
    assert read_image(path).pixels.shape == (512, 512, 3)


def test_an_mpo_and_a_cmyk_jpeg_are_read(tmp_path: Path) -> None:
    picture = Image.open(SAMPLE).convert("RGB")
    mpo = tmp_path / "two.mpo"
    picture.save(mpo, "MPO", save_all=True, append_images=[picture.resize((256, 256))])
    cmyk = tmp_path / "cmyk.jpg"
    picture.convert("CMYK").save(cmyk, "JPEG", progressive=True)
    assert read_image(mpo).pixels.shape == read_image(cmyk).pixels.shape == (512, 512, 3)


# --- the bounds against what encoders make of the cheapest pictures ---------------------------------------

SIDE = 4096  # 16.8 megapixels: above the floor, so the bytes rule applies


def _flat(mode: str) -> Image.Image:
    colour = {"1": 1, "L": 200, "RGB": (200, 120, 40)}[mode]
    return Image.new(mode, (SIDE, SIDE), colour)


CHEAPEST: dict[str, tuple[str, Callable[[], Image.Image], dict]] = {
    "jpeg_grey_optimized": ("JPEG", lambda: _flat("L"), {"optimize": True, "progressive": True}),
    "jpeg_colour": ("JPEG", lambda: _flat("RGB"), {"optimize": True}),
    "png_1bit": ("PNG", lambda: _flat("1"), {"compress_level": 9}),
    "png_grey": ("PNG", lambda: _flat("L"), {"compress_level": 9}),
    "png_rgb": ("PNG", lambda: _flat("RGB"), {"compress_level": 9}),
    "gif": ("GIF", lambda: _flat("L"), {}),
    "bmp_1bit": ("BMP", lambda: _flat("1"), {}),
    "webp_lossy": ("WEBP", lambda: _flat("RGB"), {"quality": 92}),
    "webp_lossy_q0": ("WEBP", lambda: _flat("RGB"), {"quality": 0, "method": 6}),
    "webp_lossless": ("WEBP", lambda: _flat("RGB"), {"lossless": True}),
    "tiff_packbits": ("TIFF", lambda: _flat("L"), {"compression": "packbits"}),
    "tiff_lzw": ("TIFF", lambda: _flat("L"), {"compression": "tiff_lzw"}),
    "tiff_deflate": ("TIFF", lambda: _flat("L"), {"compression": "tiff_adobe_deflate"}),
    "tiff_g4": ("TIFF", lambda: _flat("1"), {"compression": "group4"}),
    "tiff_jpeg": ("TIFF", lambda: _flat("L"), {"compression": "jpeg"}),
}


@pytest.mark.parametrize("name", sorted(CHEAPEST))
def test_a_flat_colour_as_the_encoders_write_it_is_not_taken_for_a_bomb(tmp_path: Path, name: str) -> None:
    """The cheapest picture there is, one colour all over, as Pillow, libjpeg, zlib, libwebp and libtiff encode
    it, passes the bytes rule (judged from the header, as read_image does, without decoding 17 megapixels)."""
    fmt, make, options = CHEAPEST[name]
    path = tmp_path / f"flat.{fmt.lower()}"
    make().save(path, fmt, **options)
    with Image.open(path) as image:
        claim = budget.image_claim(image, path)
        assert claim.total == SIDE * SIDE
        budget.check(claim, path.stat().st_size, DEFAULT_MAX_PIXELS)


def test_the_bytes_rule_spares_small_images_and_names_the_limit() -> None:
    claim = budget.Claim("lossless WebP", 2048, 2048, 1, budget.LOOSE)
    budget.check(claim, 38, DEFAULT_MAX_PIXELS)  # at the floor: cheap whatever it holds
    bigger = budget.Claim("lossless WebP", 2048, 2049, 1, budget.LOOSE)
    with pytest.raises(budget.OverBudget, match=r"2048×2049, 4,196,352 pixels, more than 38 bytes"):
        budget.check(bigger, 38, DEFAULT_MAX_PIXELS)
    with pytest.raises(budget.OverBudget, match="over the 1,000-pixel limit"):
        budget.check(bigger, 10**9, 1000)


# --- videos -----------------------------------------------------------------------------------------------


def test_gif_frames_are_counted_from_their_blocks(tmp_path: Path) -> None:
    path = tmp_path / "a.gif"
    frames = [Image.new("RGB", (64, 48), (40 * i, 0, 0)) for i in range(5)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    assert budget.read_gif(path) == budget.Gif(64, 48, 5)
    path.write_bytes(gif_canvas(10000, 10000, 300))
    assert budget.read_gif(path) == budget.Gif(10000, 10000, 300)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    assert budget.read_gif(path) is None


def test_video_frames_are_bounded_before_decoding() -> None:
    budget.check_video(7680, 4320, 300, 50_000_000, DEFAULT_MAX_PIXELS)  # 8K
    with pytest.raises(budget.OverBudget, match="12000×12000, over the 35,389,440-pixel limit for video frames"):
        budget.check_video(12000, 12000, 1, 500_000, DEFAULT_MAX_PIXELS)
    with pytest.raises(budget.OverBudget, match="16000×16000, over the 250,000,000-pixel limit"):
        budget.check_video(16000, 16000, 1, 800_000, DEFAULT_MAX_PIXELS)
    # A tiny file whose index lists a million 1080p frames: hours of work for 1 KB.
    with pytest.raises(budget.OverBudget, match="decompression bomb"):
        budget.check_video(1920, 1080, 1_000_000, 1000, DEFAULT_MAX_PIXELS, "h264")
    budget.check_video(1920, 1080, 300, 31_889, DEFAULT_MAX_PIXELS, "h264")  # a still, flat clip by x264


@pytest.mark.slow  # several seconds: make test runs it, make quick does not
def test_a_still_flat_clip_as_x264_writes_it_is_not_taken_for_a_bomb(tmp_path: Path) -> None:
    path = tmp_path / "flat.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        stream.options = {"crf": "51", "preset": "veryfast"}
        frame = av.VideoFrame.from_ndarray(np.full((720, 1280, 3), 128, np.uint8), format="rgb24")
        for index in range(1200):  # 1.1 gigapixels, above the floor
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    reader = VideoReader(path, keep_audio=False, max_pixels=DEFAULT_MAX_PIXELS)
    reader.close()


# --- what a photo costs -----------------------------------------------------------------------------------

READER = "import sys; from pathlib import Path; from unseen.media.image import read_image\n" + (
    "for name in sys.argv[1:]: read_image(Path(name))"
)


def _scaled_sample(path: Path, width: int, height: int) -> int:
    Image.open(SAMPLE).convert("RGB").resize((width, height), Image.Resampling.BILINEAR).save(path, quality=90)
    return width * height


def test_reading_a_photo_holds_it_about_twice(tmp_path: Path) -> None:
    """read_image's peak beyond a process that has read a tiny JPEG stays within budget.read_memory: the picture
    as Pillow holds it and the array, not the four copies it made before (18 bytes a pixel, 430 MB here)."""
    tiny, large = tmp_path / "tiny.jpg", tmp_path / "large.jpg"
    _scaled_sample(tiny, 64, 48)
    pixels = _scaled_sample(large, 5776, 4332)  # 25 megapixels
    peaks = []
    for names in ([tiny], [tiny, large]):
        code, stderr, peak_mb, killed = _watched([sys.executable, "-c", READER, *map(str, names)], tmp_path, GUARD_MB)
        assert code == 0 and killed is None, stderr
        peaks.append(peak_mb)
    assert (peaks[1] - peaks[0]) * 2**20 <= budget.read_memory(pixels), peaks


@pytest.mark.slow  # several seconds: make test runs it, make quick does not
def test_a_photo_stays_within_the_stated_memory(tmp_path: Path) -> None:
    """One photo's whole run peaks under budget.photo_memory. The largest photo the default limit allows (250
    megapixels) takes about 3 minutes on 2 cores; it was measured once (4.69 GB against 5.0 GiB stated, 2026-12-02):

        python -m unseen big.jpg -o out    # big.jpg: the sample scaled to 18257×13693, JPEG quality 90

    A 12-megapixel phone photo (10 s) checks the same line: most of it is the fixed part (the process and ONNX
    Runtime's arenas, which stop growing once the detector runs in tiles, as it does from about 2 megapixels)."""
    source = tmp_path / "in" / "phone.jpg"
    source.parent.mkdir()
    pixels = _scaled_sample(source, 4000, 3000)
    stated_mb = budget.photo_memory(pixels) / 2**20
    # Memory is what this measures: the time guard is generous, for a machine shared with the other test worker.
    run = run_child([source, "-o", tmp_path / "out"], tmp_path, guard_mb=stated_mb + 500, guard_seconds=600)
    assert run.code == 0 and run.killed is None, (run.killed, run.stderr)
    assert run.peak_mb <= stated_mb, f"{run.peak_mb:.0f} MB against {stated_mb:.0f} MB stated"


# --- animations and multi-page files (issue 26) -----------------------------------------------------------

# Each hostile animation costs at most this much, done or refused (the issue's bound, on a 2-core machine under
# load). Refused, they peaked at 110 to 113 MB and took 0.00 to 0.37 s of the report's seconds, with the load
# average at 18 on 2 cores (2026-12-05): memory is the stable measure, the time has a margin of five.
ANIMATION_MB = 500
ANIMATION_SECONDS = 2.0


def _shape(data: bytes) -> tuple[int, int, int]:
    """Canvas and frames as a decoder's header reading gives them (a GIF's blocks counted as the reader does)."""
    with Image.open(io.BytesIO(data)) as image:
        return *image.size, getattr(image, "n_frames", 1)


@pytest.mark.parametrize("name", sorted(animations.HOSTILE))
def test_the_hostile_animations_are_those_of_the_issue(name: str) -> None:
    """Under 10 KB, a canvas of 2,000 to 8,000 pixels a side, 2 to 300 frames or pages."""
    data = animations.HOSTILE[name]()
    width, height, frames = _shape(data)
    assert len(data) < 10_000 and 2000 <= min(width, height) <= max(width, height) <= 8000 and 2 <= frames <= 300


@pytest.mark.parametrize("name", sorted(animations.HOSTILE))
def test_a_tiny_animation_on_a_large_canvas_costs_little(tmp_path: Path, name: str) -> None:
    source = tmp_path / "in" / name
    source.parent.mkdir()
    source.write_bytes(animations.HOSTILE[name]())
    out = tmp_path / "out"
    run = run_child([source, "-o", out], tmp_path)
    assert run.killed is None, f"{name}: killed by the watchdog at {run.killed}"
    assert run.peak_mb < ANIMATION_MB, f"{name}: the child peaked at {run.peak_mb:.0f} MB"
    (entry,) = run.report["files"]
    assert entry["seconds"] < ANIMATION_SECONDS, entry
    # None is done: each is refused in one line (an APNG as not supported, the others by the bounds on their bytes).
    assert run.code == 1 and entry["status"] == "failed" and entry["reason"], (run.stderr, entry)
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and name in lines[0], run.stderr
    assert not out.exists() or not any(out.rglob("*")), "a refused file has no output"


def test_refused_animations_leave_the_batch_going(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.gif").write_bytes(animations.HOSTILE["issue_4000_x12.gif"]())
    (folder / "b.webp").write_bytes(animations.HOSTILE["lossy_2000_x2.webp"]())
    (folder / "c.tif").write_bytes(animations.HOSTILE["pages_4000_x3.tif"]())
    (folder / "d.png").write_bytes(SAMPLE.read_bytes())
    out = tmp_path / "out"
    run = run_child([folder, "-o", out], tmp_path, guard_seconds=300)
    assert run.killed is None and run.peak_mb < 1000, (run.killed, run.peak_mb)
    entries = {Path(entry["input"]).name: entry for entry in run.report["files"]}
    assert entries["d.png"]["status"] == "done" and (out / "d.png").exists()
    for name in ("a.gif", "b.webp", "c.tif"):
        assert entries[name]["status"] == "failed" and "decompression bomb" in entries[name]["reason"], entries[name]
    assert sorted(p.name for p in out.iterdir()) == ["d.png"]
    assert len(run.stderr.splitlines()) == 3, run.stderr


def _claim_checked(path: Path) -> None:
    """What read_image judges from the header before decoding (a GIF: what the video reader judges)."""
    size = path.stat().st_size
    gif = budget.read_gif(path)
    if gif is not None and gif.frames > 1:
        budget.check_video(gif.width, gif.height, gif.frames, size, DEFAULT_MAX_PIXELS, "GIF")
        return
    with Image.open(path) as image:
        budget.check(budget.image_claim(image, path), size, DEFAULT_MAX_PIXELS)


@pytest.mark.parametrize("name", sorted(animations.REALISTIC))
def test_real_animations_and_scans_are_within_the_bounds(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(animations.REALISTIC[name]())
    _claim_checked(path)


def test_the_dev_gif_is_within_the_bounds() -> None:
    path = SHARED_DATA / "videos" / "intel_face-demographics-walking-and-pause.gif"
    if not path.exists():
        pytest.skip("../shared/data is not beside the repo")
    _claim_checked(path)


def test_the_bounds_of_an_animation_name_what_they_refuse() -> None:
    # 1920×1080 is under the canvas floor: a screen recording that changes little is not refused for its canvas.
    budget.check_animation("animated GIF", 1920, 1080, 2, 2000)
    with pytest.raises(budget.OverBudget, match=r"a 2000×2000 canvas \(4,000,000 pixels\) in 2 frames, more than"):
        budget.check_animation("animated GIF", 2000, 2000, 2, 40_000)
    budget.check_animation("animated GIF", 2000, 2000, 2, 62_500)  # 64 pixels a byte
    # 300 one-pixel frames on 1920×1080 in 7 KB: the frames are more than the bytes can animate.
    with pytest.raises(budget.OverBudget, match="300 frames of 1920×1080, 622,080,000 pixels, more than 7,000 bytes"):
        budget.check_animation("animated GIF", 1920, 1080, 300, 7000)
    budget.check_animation("animated WebP", 512, 512, 16, 1)  # under FLOOR_PIXELS in all: cheap whatever it holds


def test_an_avif_sequence_and_a_multi_image_heic_count_every_frame(tmp_path: Path) -> None:
    avif = tmp_path / "a.avif"
    avif.write_bytes(animations.avif_sequence(64, 48, 3))
    heic = tmp_path / "b.heic"
    pictures = [Image.new("RGB", size, (90, 20, 20)) for size in ((64, 48), (128, 96))]
    pictures[0].save(heic, save_all=True, append_images=pictures[1:], quality=50)
    for path, total in ((avif, 3 * 64 * 48), (heic, 64 * 48 + 128 * 96)):
        with Image.open(path) as image:
            claim = budget.image_claim(image, path)
            assert claim.total == total and claim.frames in (2, 3), claim
            assert image.tell() == 0


def _decoded_frames(path: Path) -> tuple[list[np.ndarray], list[int]]:
    with Image.open(path) as image:
        frames = [(np.asarray(f.convert("RGB")), int(f.info.get("duration", 0))) for f in ImageSequence.Iterator(image)]
    return [f for f, _ in frames], [d for _, d in frames]


@pytest.mark.slow  # about half a minute on 2 cores: make test runs it, make quick does not
def test_a_sticker_comes_out_as_before(tmp_path: Path) -> None:
    """A 512×512 animated sticker of 30 frames: every frame kept, with its duration, the face covered in each."""
    source = tmp_path / "in" / "sticker.webp"
    source.parent.mkdir()
    source.write_bytes(animations.sticker(30))
    run = run_child([source, "-o", tmp_path / "out"], tmp_path, guard_mb=4000, guard_seconds=600)
    assert run.code == 0 and run.killed is None, (run.killed, run.stderr)
    before, _ = _decoded_frames(source)
    after, durations = _decoded_frames(tmp_path / "out" / "sticker.webp")
    assert durations == animations.sticker_durations(30) and len(after) == len(before) == 30
    for index, (old, new) in enumerate(zip(before, after, strict=True)):
        assert changed_share(old, new, animations.sticker_face(index, 30)) >= 0.9, f"frame {index}"
    (entry,) = run.report["files"]
    assert entry["verdict"] == "clean", entry


@pytest.mark.slow  # about a minute on 2 cores
def test_a_screen_recording_saved_as_gif_comes_out_as_before(tmp_path: Path) -> None:
    """A 480×270 screen recording with a video call's tile: every frame kept, with its delay, the face covered."""
    source = tmp_path / "in" / "screen.gif"
    source.parent.mkdir()
    source.write_bytes(animations.screen_recording(frames=30))
    run = run_child([source, "-o", tmp_path / "out"], tmp_path, guard_mb=4000, guard_seconds=600)
    assert run.code == 0 and run.killed is None, (run.killed, run.stderr)
    before, delays = _decoded_frames(source)
    after, kept = _decoded_frames(tmp_path / "out" / "screen.gif")
    assert kept == delays and len(after) == len(before)
    for index, (old, new) in enumerate(zip(before, after, strict=True)):
        assert changed_share(old, new, animations.call_face()) >= 0.9, f"frame {index}"
