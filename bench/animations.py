"""Animations and multi-page files made at run time, and what their bytes hold (issue 26, docs/animations.md).

Hostile ones: a few kilobytes that declare a canvas of 2,000 to 8,000 pixels a side and 2 to 300 frames or pages
that change one pixel or nothing. Realistic ones: animated stickers, screen recordings saved as GIF and WebP,
scanned pages. tests/test_bombs.py runs both through the command; run this file to print, for each, the pixels a
byte that media/budget.py bounds (canvas, canvas × frames, pages) and where the bounds sit:

    PYTHONPATH=src python bench/animations.py            # all; the 2560×1440 screen recording takes 2 minutes
    PYTHONPATH=src python bench/animations.py --quick    # without the screen recordings above 480×270
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SAMPLE = Path(__file__).resolve().parents[1] / "sample" / "astronaut.png"
SAMPLE_FACE = (185, 65, 265, 175)  # as tests/conftest.py has it


def _saved(frames: list[Image.Image], fmt: str, **options: object) -> bytes:
    stream = io.BytesIO()
    frames[0].save(stream, fmt, save_all=True, append_images=frames[1:], **options)
    return stream.getvalue()


# --- hostile ----------------------------------------------------------------------------------------------


def _gif_pixel_frames(frames: int, changing: bool) -> bytes:
    """`frames` frames of one pixel at (0, 0), 100 ms each: colour 1 then 0 in turn (`changing`), or always 0."""
    control = b"\x21\xf9\x04\x00\x0a\x00\x00\x00"
    # LZW, 2-bit minimum code size, 3-bit codes: clear (4), the index, end (5), packed from the low bit up.
    codes = {0: b"\x02\x02\x44\x01\x00", 1: b"\x02\x02\x4c\x01\x00"}
    descriptor = control + b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
    return b"".join(descriptor + codes[index % 2 if changing else 0] for index in range(frames))


def gif_filled(width: int, height: int, frames: int, changing: bool = True) -> bytes:
    """A flat first frame over the whole canvas (as Pillow writes it), then `frames` - 1 frames of one pixel."""
    first = _saved([Image.new("L", (width, height), 0)], "GIF")
    assert first.endswith(b"\x3b")
    return first[:-1] + _gif_pixel_frames(frames - 1, changing) + b"\x3b"


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + b"\0" * (len(body) % 2)


def _u24(value: int) -> bytes:
    return struct.pack("<I", value)[:3]


def _webp_bitstream(image: Image.Image, **options: object) -> bytes:
    """The VP8 or VP8L chunk of `image` saved as a still WebP (fourcc, size, bitstream)."""
    stream = io.BytesIO()
    image.save(stream, "WEBP", **options)
    return stream.getvalue()[12:]


def _flat_vp8l(width: int, height: int) -> bytes:
    """A flat lossless 16×16 bitstream whose header is made to say `width`×`height`: one colour costs no bits, so
    libwebp decodes it to any size."""
    data = bytearray(_webp_bitstream(Image.new("RGB", (16, 16), (30, 60, 90)), lossless=True))
    bits = struct.unpack("<I", data[9:13])[0] & ~0x0FFFFFFF
    data[9:13] = struct.pack("<I", bits | (width - 1) | (height - 1) << 14)
    return bytes(data)


def webp_frames(width: int, height: int, frames: int, first: bytes | None = None) -> bytes:
    """An animated WebP of a `width`×`height` canvas: `first` (a bitstream chunk covering the canvas) if given, then
    frames of 1×1 at (0, 0), `frames` in all, 100 ms each. libwebp decodes every frame onto the whole canvas."""
    pixel = _webp_bitstream(Image.new("RGB", (1, 1), (200, 0, 0)), lossless=True)
    vp8x = _riff_chunk(b"VP8X", bytes([0x02, 0, 0, 0]) + _u24(width - 1) + _u24(height - 1))
    anim = _riff_chunk(b"ANIM", b"\0\0\0\0" + struct.pack("<H", 0))

    def frame(w: int, h: int, bitstream: bytes) -> bytes:
        return _riff_chunk(b"ANMF", _u24(0) + _u24(0) + _u24(w - 1) + _u24(h - 1) + _u24(100) + b"\0" + bitstream)

    body = [frame(width, height, first)] if first is not None else []
    body += [frame(1, 1, pixel)] * (frames - len(body))
    data = b"WEBP" + vp8x + anim + b"".join(body)
    return b"RIFF" + struct.pack("<I", len(data)) + data


def webp_filled(width: int, height: int, frames: int, lossy: bool) -> bytes:
    """A flat first frame over the whole canvas (lossless: 30 bytes at any size; lossy: libwebp's, about 500 pixels
    a byte), then frames of one pixel."""
    if lossy:
        first = _webp_bitstream(Image.new("RGB", (width, height), (30, 60, 90)), quality=0, method=6)
    else:
        first = _flat_vp8l(width, height)
    return webp_frames(width, height, frames, first)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def apng_pixels(width: int, height: int, frames: int) -> bytes:
    """An APNG: a flat 1-bit default image over the canvas, then `frames` - 1 frames of one pixel (fcTL regions)."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(bytes(1 + (width + 7) // 8) * height, 9)
    out = [b"\x89PNG\r\n\x1a\n", _png_chunk(b"IHDR", header), _png_chunk(b"acTL", struct.pack(">II", frames, 0))]
    sequence = 0

    def control(w: int, h: int) -> bytes:
        return _png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", sequence, w, h, 0, 0, 10, 100, 0, 0))

    out += [control(width, height), _png_chunk(b"IDAT", idat)]
    pixel = zlib.compress(b"\x00\x80", 9)
    for _ in range(frames - 1):
        sequence += 1
        out.append(control(1, 1))
        sequence += 1
        out.append(_png_chunk(b"fdAT", struct.pack(">I", sequence) + pixel))
    return b"".join(out) + _png_chunk(b"IEND", b"")


def avif_sequence(width: int, height: int, frames: int) -> bytes:
    """An AVIF sequence of flat frames, one pixel changing (libaom at its fastest: an AV1 frame that changes nothing
    costs a few bytes)."""
    base = np.zeros((height, width), np.uint8)
    images = []
    for index in range(frames):
        base[0, 0] = 255 * (index % 2)
        images.append(Image.fromarray(base).convert("RGB"))
    return _saved(images, "AVIF", quality=10, speed=10, duration=100)


def tiff_pages(width: int, height: int, pages: int, compression: str = "group4") -> bytes:
    """A multi-page 1-bit TIFF of blank pages, one pixel differing from page to page."""
    images = []
    for index in range(pages):
        page = Image.new("1", (width, height), 1)
        page.putpixel((0, 0), index % 2)
        images.append(page)
    return _saved(images, "TIFF", compression=compression)


def gif_canvas(width: int, height: int, frames: int) -> bytes:
    """Issue 26's GIF: a `width`×`height` canvas and `frames` frames of one pixel each, nothing else (23 bytes a
    frame)."""
    head = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    return head + _gif_pixel_frames(frames, changing=True) + b"\x3b"


HOSTILE: dict[str, Callable[[], bytes]] = {
    "issue_4000_x12.gif": lambda: gif_canvas(4000, 4000, 12),  # the 315-byte GIF
    "filled_2000_x200.gif": lambda: gif_filled(2000, 2000, 200),
    "still_2000_x2.gif": lambda: gif_filled(2000, 2000, 2, changing=False),
    "filled_3000_x2.gif": lambda: gif_filled(3000, 3000, 2),
    "pixels_2000_x2.webp": lambda: webp_frames(2000, 2000, 2),
    "pixels_8000_x150.webp": lambda: webp_frames(8000, 8000, 150),
    "lossless_8000_x3.webp": lambda: webp_filled(8000, 8000, 3, lossy=False),
    "lossless_2000_x60.webp": lambda: webp_filled(2000, 2000, 60, lossy=False),
    "lossy_2000_x2.webp": lambda: webp_filled(2000, 2000, 2, lossy=True),
    "pixels_4000_x100.png": lambda: apng_pixels(4000, 4000, 100),
    "pixels_2000_x2.png": lambda: apng_pixels(2000, 2000, 2),
    "pixels_2560_x8.avif": lambda: avif_sequence(2560, 2560, 8),
    "pixels_2000_x2.avif": lambda: avif_sequence(2000, 2000, 2),
    "pages_4000_x3.tif": lambda: tiff_pages(4000, 4000, 3),
    "pages_2000_x12.tif": lambda: tiff_pages(2000, 2000, 12),
    "pages_2000_x2_deflate.tif": lambda: tiff_pages(2000, 2000, 2, "tiff_adobe_deflate"),
}


# --- realistic --------------------------------------------------------------------------------------------


def _face_disc(side: int) -> Image.Image:
    photo = Image.open(SAMPLE).convert("RGBA").resize((side, side))
    mask = Image.new("L", photo.size, 0)
    ImageDraw.Draw(mask).ellipse((0, 0, side, side), fill=255)
    photo.putalpha(mask)
    return photo


def sticker_offset(index: int, frames: int, side: int = 512) -> tuple[int, int]:
    """Where frame `index` of sticker() puts the photo's top left corner: it sways and bobs."""
    phase = index / frames * 2 * np.pi
    return side // 8 + int(24 * np.sin(phase)), side // 16 + int(20 * np.sin(2 * phase))


def sticker_face(index: int, frames: int, side: int = 512) -> tuple[int, int, int, int]:
    """The sample's face in frame `index` of sticker()."""
    scale = (side * 3 // 4) / 512
    x, y = sticker_offset(index, frames, side)
    return tuple(round(v * scale) + (x if k % 2 == 0 else y) for k, v in enumerate(SAMPLE_FACE))  # type: ignore[return-value]


def sticker_durations(frames: int) -> list[int]:
    return [40 + index % 3 * 10 for index in range(frames)]


def sticker(frames: int = 48, side: int = 512, quality: int = 75) -> bytes:
    """An animated sticker as WebP: the sample photo cut out in a disc, swaying and bobbing on a transparent
    background, a caption under it that changes: photographic frames, moving content, 40 to 60 ms a frame."""
    disc = _face_disc(side * 3 // 4)
    images = []
    for index in range(frames):
        canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0))
        canvas.alpha_composite(disc, sticker_offset(index, frames, side))
        ImageDraw.Draw(canvas).text((side // 3, side - 48), "hello!" + "!" * (index % 4), fill=(255, 220, 0, 255))
        images.append(canvas)
    return _saved(images, "WEBP", duration=sticker_durations(frames), loop=0, quality=quality)


def _screen(scroll: int, cursor: tuple[int, int], typed: int, width: int, height: int) -> Image.Image:
    """A window of a text editor: a title bar, lines of text scrolled by `scroll` pixels, a pointer."""
    screen = Image.new("RGB", (width, height), (250, 250, 248))
    draw = ImageDraw.Draw(screen)
    draw.rectangle((0, 0, width, 22), fill=(60, 64, 72))
    draw.text((8, 5), "notes.txt - editor", fill=(230, 230, 230))
    for line in range(40):
        y = 30 + line * 14 - scroll
        if 24 <= y < height - 12:
            words = " ".join(f"word{(line * 7 + k) % 13}" for k in range(3 + line % 5))
            text = words[:typed] if line == 12 else words
            draw.text((10, y), f"{line + 1:3d}  {text}", fill=(30, 30, 30))
    x, y = cursor
    draw.polygon([(x, y), (x, y + 14), (x + 4, y + 10), (x + 10, y + 10)], fill=(0, 0, 0))
    return screen


CALL_TILE = (270, 60, 200)  # x, y and side of the video call's tile in screen_recording()


def call_face() -> tuple[int, int, int, int]:
    """The sample's face in the call tile of screen_recording()."""
    x, y, side = CALL_TILE
    return tuple(round(v * side / 512) + (x if k % 2 == 0 else y) for k, v in enumerate(SAMPLE_FACE))  # type: ignore[return-value]


def screen_recording(width: int = 480, height: int = 270, frames: int = 60, call: bool = True) -> bytes:
    """A screen recording saved as GIF by Pillow (each frame written as the region that changed, a frame that
    changes nothing merged into the one before): a pause, a pointer moving, typing, then a scroll, 10 frames a
    second; with `call`, a video call's tile over the editor (the sample's face) all along."""
    tile = Image.open(SAMPLE).convert("RGB").resize((CALL_TILE[2], CALL_TILE[2])) if call else None
    images = []
    for index in range(frames):
        scroll = 0 if index < frames * 6 // 10 else min((index - frames * 6 // 10) * 12, 240)
        cursor = (100 + min(index, 40) * 6, 60 + min(index, 40) * 3)
        screen = _screen(scroll, cursor, max(0, min(index - 20, 30)), width, height)
        if tile is not None:
            screen.paste(tile, CALL_TILE[:2])
        images.append(screen.quantize(method=Image.Quantize.FASTOCTREE))  # a palette of its own for each frame
    return _saved(images, "GIF", duration=100, loop=0)


def scan(text_pages: int, blank_pages: int, width: int = 1728, height: int = 2200, lines: int = 60) -> bytes:
    """A scanned letter as a 1-bit G4 TIFF: a cover page of 12 lines, pages of `lines` lines, then blank pages
    (the backs of a duplex scan). 1728×2200: a fax page; 2480×3508: A4 at 300 dpi."""
    pages = []
    for page in range(text_pages):
        image = Image.new("1", (width, height), 1)
        draw = ImageDraw.Draw(image)
        for line in range(lines if page else 12):
            draw.text((120, 150 + line * 32), f"Line {line} of the letter, page {page}: words to fill a row.", fill=0)
        pages.append(image)
    pages += [Image.new("1", (width, height), 1) for _ in range(blank_pages)]
    return _saved(pages, "TIFF", compression="group4")


REALISTIC: dict[str, Callable[[], bytes]] = {
    "sticker_48.webp": sticker,
    "sticker_30_q50.webp": lambda: sticker(30, quality=50),
    "screen_480x270.gif": screen_recording,
    "scan_cover_and_blank.tif": lambda: scan(1, 1),
    "scan_cover_and_letter.tif": lambda: scan(2, 0),
    "scan_a4_cover_and_blank.tif": lambda: scan(1, 1, 2480, 3508),
}
LARGE: dict[str, Callable[[], bytes]] = {  # minutes to make
    "screen_1920x1080.gif": lambda: screen_recording(1920, 1080, call=False),
    "screen_2560x1440.gif": lambda: screen_recording(2560, 1440, call=False),
    "screen_2560x1440.webp": lambda: _saved(
        [_screen(min(i * 4, 240), (100 + i * 6, 60 + i * 3), i, 2560, 1440) for i in range(60)],
        "WEBP",
        duration=100,
        quality=75,
    ),
}


def ratios(data: bytes) -> tuple[str, float, float]:
    """The shape of a file (canvas and frames, from Pillow's header reading) and its pixels a byte: canvas, and
    the sum over its frames or pages."""
    with Image.open(io.BytesIO(data)) as image:
        frames = getattr(image, "n_frames", 1)
        width, height = image.size
        total = 0
        for index in range(frames):
            image.seek(index)
            total += image.size[0] * image.size[1] if image.format == "TIFF" else width * height
    return f"{width}×{height} ×{frames}", width * height / len(data), total / len(data)


def main() -> None:
    import argparse
    import time

    from unseen.media import budget

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="leave out the screen recordings above 480×270")
    args = parser.parse_args()
    print(
        f"bounds: canvas {budget.ANIMATION_CANVAS} px/B above {budget.ANIMATION_FLOOR:,} px, frames "
        f"{budget.ANIMATION_FRAMES:,} px/B, pages {budget.PAGES:,} px/B"
    )
    made = {**REALISTIC, **({} if args.quick else LARGE), **HOSTILE}
    for name, make in made.items():
        started = time.monotonic()
        data = make()
        shape, canvas, total = ratios(data)
        kind = "hostile" if name in HOSTILE else "real"
        print(
            f"{kind:7} {name:28} {len(data):9,} B {shape:16} canvas {canvas:10,.1f} px/B  all frames "
            f"{total:12,.1f} px/B  (made in {time.monotonic() - started:.0f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
