"""What decoding a file may cost, decided from its header before a single pixel is decoded.

Two rules, for photos and videos alike:

- The pixels the decoder will produce (every frame of an animation is decoded onto the whole canvas) must stay
  within --max-pixels, the largest frame and the sum over the frames; a video's frames also within
  VIDEO_FRAME_PIXELS, since a video holds dozens of frames at once.
- A file cannot hold more pixels than its bytes can code. A header, canvas or frame count far beyond that is a
  decompression bomb (a 38-byte WebP that says 15800×15800), or a file whose data stops early: either way it is
  refused, unless it is under FLOOR_PIXELS, which costs little whatever it holds.

How many pixels a byte can code depends on the format: where the coding has a hard limit, that limit is the
bound; where it has none, the bound sits above what the encoders make of a flat colour, the cheapest picture
there is. The measurements below were made with Pillow 13.0 (libjpeg-turbo, zlib 1.2.13, libwebp 1.6.0, libtiff
4.7.0) on 8192×8192 images of one colour, and with PyAV 18.1 (libx264 veryfast, libvpx-vp9) on 1920×1080 clips
of one colour, 2026-12-01.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image

from unseen.errors import InputError

# Under this many pixels (2048×2048) the bytes rule never refuses: such a photo costs a few seconds and little
# beyond the fixed part of a run (photo_memory below: 2.05 GiB), whatever the file holds.
FLOOR_PIXELS = 1 << 22

# Pixels per byte of file, at most.
# JPEG: Huffman coding spends at least one bit on every 8×8 block of a scan (64 pixels a bit). Flat grey with
# optimized tables: 256 px/B (progressive: 255); flat colour, 4:2:0: 170.
JPEG = 512
# Deflate codes at most 258 bytes in 2 bits (1032:1): 8256 / bits per pixel. PNG, level 9: flat 1-bit 3,629 px/B
# (bound 8,256), flat grey 796 (1,032), flat RGB 311 (344). TIFF deflate, flat grey: 704.
DEFLATE_BYTES = 1032
# A 12-bit LZW code stands for at most 4,096 bytes. GIF, flat grey: 1,329 px/B; TIFF LZW, flat grey: 152 (libtiff
# clears its table every 4,094 codes).
LZW_BYTES = 2730
PACKBITS_BYTES = 64  # two bytes for a run of 128; TIFF PackBits, flat grey: 63 px/B
BMP_RLE = 128  # two bytes for a run of up to 255 pixels (uncompressed BMP: 8 pixels a byte at 1 bit)
# A VP8 key frame spends at least 2.8 bits on the modes of every 16×16 macroblock (their probabilities are fixed):
# 740 px/B. libwebp, flat: 562 px/B at quality 92, 475 at quality 0.
WEBP_LOSSY = 1024
# No hard limit: a one-colour lossless WebP costs no bits per pixel, a blank row of a G4 fax one bit. libwebp
# lossless, flat: 25,517 px/B (25,899 at 12000×12000), an A4 page of text at 600 dpi: 1,976, a 24-megapixel page
# blank but for a drawing and a word: 2,769; TIFF G4, flat 1-bit: 14,188, the page of text: 153. libwebp's
# fastest lossless setting (method 0) writes one colour in 38 bytes at any size, and is refused above the floor:
# it holds no picture (with any content that setting gives 28 to 105 px/B). The bound for these, for animated
# WebP and for anything not listed.
LOOSE = 32768
# Videos: frames × pixels per byte. libx264, a still flat 1080p clip: 19,508 px/B at CRF 18, 9,683 at CRF 51;
# libvpx-vp9 at CRF 51: 38,593; an animated GIF (Pillow) changing one pixel a frame on a 1080p canvas: 31,677,
# the same written with one-pixel frames of 23 bytes: about 90,000.
VIDEO = 1 << 18
VIDEO_FLOOR_PIXELS = 1 << 30  # about 500 frames of 1080p: a few minutes of work at most

# Animations (GIF, animated WebP, AVIF sequences) and multi-page files (TIFF, multi-image HEIC), issue 26. Every
# frame is decoded onto the whole canvas and searched, obscured, encoded and checked as a whole picture, so a few
# bytes of frames that change one pixel or nothing on a large canvas cost seconds and gigabytes (a 315-byte GIF of
# 12 frames on 4000×4000: 25 s and 2.5 GB). Their work is bounded by what their bytes hold, in pixels a byte
# (bench/animations.py measures them; docs/animations.md, 2026-12-05):
# - the canvas: an animation whose canvas is larger than ANIMATION_FLOOR (just above 1920×1080) holds a byte for
#   every ANIMATION_CANVAS pixels of it at least, as its first frame fills the canvas with a picture. Screen
#   recordings of a mostly empty editor window, 57 frames: 2560×1440 as GIF 9.2, 1920×1080 as GIF 5.2, 2560×1440 as
#   WebP 2.1. Anything under 10 KB on a canvas of 2000×2000 or more: 400 or more. The bound is 7 times the first
#   and a sixth of the second.
# - the frames: canvas × frames at most ANIMATION_FRAMES pixels a byte, above FLOOR_PIXELS, whatever the canvas.
#   The same recordings: 524, 296 and 125; 480×270 as GIF 8.4; 512×512 stickers of 30 and 48 frames as WebP, 12.4
#   and 10.6; the dev set's GIF, 2.7. The bound is 15 times the highest, and refuses what the canvas bound does not
#   see: 300 one-pixel frames on 1920×1080 (7 KB, 89,000 pixels a byte).
# - pages: a multi-page file whose largest page is above ANIMATION_FLOOR holds a byte for every PAGES pixels of its
#   pages at least. A page cannot be had from the page before it, and a real scan can be nearly blank: a 1-bit A4
#   page at 300 dpi holding 12 short lines, then a blank page, in G4: 2,996; a fax page so, 1,558; a cover and a
#   letter, 352. Blank pages that only their header pays for are refused (2 to 12 pages of 2000×2000 to 4000×4000:
#   4,630 to 9,615), and with them an A4 scan of 6 short lines or fewer and a blank page (4,183 and more): the
#   margin is thin on both sides, see docs/animations.md for what it leaves.
ANIMATION_FLOOR = 1 << 21
ANIMATION_CANVAS = 64
ANIMATION_FRAMES = 8192
PAGES = 4096

# TIFF compression tags and the most bytes of samples each can code per byte of file.
_TIFF_BYTES = {1: 1, 32773: PACKBITS_BYTES, 5: LZW_BYTES, 8: DEFLATE_BYTES, 32946: DEFLATE_BYTES}
_TIFF_JPEG = (6, 7)  # old-style and new-style JPEG: the JPEG bound
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by colour type
_WEBP_KINDS = {b"VP8 ": "lossy WebP", b"VP8L": "lossless WebP"}  # by first chunk ("VP8X": extended, either)


Many = Literal["", "animation", "pages"]


class OverBudget(InputError):
    """Decoding the file would cost more than it may; the message says why, in one line."""


@dataclass(frozen=True)
class Claim:
    """What a header says will be decoded: `frames` frames of `width`×`height`, in pixels per byte at most."""

    kind: str  # what the file was read as, for the message
    width: int
    height: int
    frames: int
    per_byte: float
    pixels: int = 0  # decoded pixels over all frames when they differ in size; else width × height × frames
    many: Many = ""  # "animation" (frames of one canvas) or "pages" (unrelated pictures): the bounds above

    @property
    def total(self) -> int:
        return self.pixels or self.width * self.height * self.frames


def check(claim: Claim, size: int, max_pixels: int) -> None:
    """Refuse, before decoding, a file over --max-pixels or claiming more pixels than its `size` bytes can hold."""
    if claim.width * claim.height > max_pixels:
        raise OverBudget(f"image is {claim.width}×{claim.height}, over the {max_pixels:,}-pixel limit (--max-pixels)")
    if claim.total > max_pixels:
        raise OverBudget(
            f"image frames add up to over the {max_pixels:,}-pixel limit (--max-pixels): "
            f"{claim.total:,} pixels in {claim.frames} frames"
        )
    _check_bytes(claim, size, FLOOR_PIXELS)
    if claim.frames > 1 and claim.many == "animation":
        check_animation(claim.kind, claim.width, claim.height, claim.frames, size)
    elif claim.frames > 1 and claim.many == "pages":
        _check_pages(claim, size)


def check_animation(kind: str, width: int, height: int, frames: int, size: int) -> None:
    """Refuse an animation whose canvas, or canvas × frames, is more than its `size` bytes can have filled."""
    canvas = width * height
    most = size * ANIMATION_CANVAS
    if canvas > max(ANIMATION_FLOOR, most):
        raise OverBudget(
            f"decompression bomb: its header says a {width}×{height} canvas ({canvas:,} pixels) in {frames} frames, "
            f"more than {size:,} bytes of {kind} can fill (at most {most:,}, {ANIMATION_CANVAS} pixels a byte)"
        )
    most = size * ANIMATION_FRAMES
    if canvas * frames > max(FLOOR_PIXELS, most):
        raise OverBudget(
            f"decompression bomb: its header says {frames} frames of {width}×{height}, {canvas * frames:,} pixels, "
            f"more than {size:,} bytes of {kind} can animate (at most {most:,}, {ANIMATION_FRAMES:,} pixels a byte)"
        )


def _check_pages(claim: Claim, size: int) -> None:
    most = size * PAGES
    if claim.width * claim.height > ANIMATION_FLOOR and claim.total > most:
        raise OverBudget(
            f"decompression bomb, or pages nearly blank: its header says {claim.frames} pages of up to "
            f"{claim.width}×{claim.height}, {claim.total:,} pixels, more than {size:,} bytes of {claim.kind} can "
            f"hold as pages (at most {most:,}, {PAGES:,} pixels a byte)"
        )


def _check_bytes(claim: Claim, size: int, floor: int) -> None:
    most = int(size * claim.per_byte)
    if claim.total > max(floor, most):
        frames = f" in {claim.frames} frames" if claim.frames > 1 else ""
        raise OverBudget(
            f"decompression bomb or truncated file: its header says {claim.width}×{claim.height}{frames}, "
            f"{claim.total:,} pixels, more than {size:,} bytes of {claim.kind} can hold (at most {most:,})"
        )


def image_claim(image: Image.Image, path: Path) -> Claim:
    """The claim of an opened photo (Pillow has read its header, not its pixels)."""
    width, height = image.size
    fmt = image.format
    if fmt in ("JPEG", "MPO"):  # MPO: only the first picture is ever decoded
        return Claim("JPEG", width, height, 1, JPEG)
    if fmt == "PNG":  # an animated PNG is refused before its frames are decoded
        bits = _png_bits(path)
        return Claim(f"{bits}-bit PNG", width, height, 1, DEFLATE_BYTES * 8 / bits)
    if fmt == "BMP":
        rle = bool(image.tile) and image.tile[0].codec_name == "bmp_rle"  # type: ignore[attr-defined]  # ImageFile's
        return Claim("BMP", width, height, 1, BMP_RLE if rle else 8)
    if fmt == "WEBP":  # every frame of an animation is decoded onto the whole canvas
        frames = getattr(image, "n_frames", 1)  # from the demuxer's count: nothing decoded
        kind = _WEBP_KINDS.get(_webp_bitstream(path), "WebP") if frames == 1 else "animated WebP"
        return Claim(kind, width, height, frames, WEBP_LOSSY if kind == "lossy WebP" else LOOSE, many="animation")
    if fmt == "TIFF":
        return _tiff_claim(image)
    if fmt == "AVIF":  # a sequence's frames share one size; libavif counts them from the file's boxes
        frames = getattr(image, "n_frames", 1)
        return Claim("AVIF sequence" if frames > 1 else "AVIF", width, height, frames, LOOSE, many="animation")
    if fmt == "HEIF":  # top-level images, each of its own size: pages
        return _pages_claim(image, "HEIF", lambda _page: LOOSE)
    return Claim(fmt or "image", width, height, 1, LZW_BYTES if fmt == "GIF" else LOOSE)


def _png_bits(path: Path) -> int:
    """Bits per pixel from the IHDR chunk (always the first); 1, the loosest bound, where it cannot be read."""
    with path.open("rb") as stream:
        head = stream.read(26)
    if len(head) < 26 or head[12:16] != b"IHDR":
        return 1
    return max(1, head[24] * _PNG_CHANNELS.get(head[25], 1))


def _webp_bitstream(path: Path) -> bytes:
    """The first chunk after the RIFF header: "VP8 " (lossy), "VP8L" (lossless) or "VP8X" (extended)."""
    with path.open("rb") as stream:
        return stream.read(16)[12:16]


def _tiff_claim(image: Image.Image) -> Claim:
    """Every page of a TIFF, from its directory alone (Pillow reads no strip when it moves to a page)."""
    return _pages_claim(image, "TIFF", _tiff_per_byte)


def _pages_claim(image: Image.Image, kind: str, per_byte: Callable[[Image.Image], float]) -> Claim:
    """Every page of a multi-page file, its size read from its header (nothing decoded): the largest page, the
    sum over the pages and the loosest bound any page's coding has. Seeking back leaves the file at the page it
    was opened at (pillow-heif opens a HEIC at its primary image)."""
    frames = getattr(image, "n_frames", 1)
    opened = image.tell()
    total, loosest, largest = 0, 0.0, image.size
    try:
        for index in range(frames):
            image.seek(index)
            width, height = image.size
            total += width * height
            loosest = max(loosest, per_byte(image))
            largest = max(largest, image.size, key=lambda size: size[0] * size[1])
    finally:
        image.seek(opened)
    return Claim(kind, *largest, frames, loosest, pixels=total, many="pages")


def _tiff_per_byte(page: Image.Image) -> float:
    tags = getattr(page, "tag_v2", {})
    compression = int(tags.get(259, 1))
    if compression in _TIFF_JPEG:
        return JPEG
    if compression not in _TIFF_BYTES:
        return LOOSE  # CCITT fax, zstd, LZMA and others
    depths = tags.get(258, (1,))
    samples = len(depths) if len(depths) > 1 else int(tags.get(277, 1))
    bits = max(1, int(depths[0]) * samples)
    return _TIFF_BYTES[compression] * 8 / bits


# --- what a photo costs -----------------------------------------------------------------------------------

# Reading an RGB photo holds the picture as Pillow stores it (4 bytes a pixel) and the array made from it (3), with
# a band of 4 megapixels in between (media/image.py). Peak RSS of read_image beyond a process that has read a tiny
# JPEG: 5776×4332 JPEG 205 MB (8.6 B/px with the band), 18257×13693 (250 megapixels) 1.71 GB (7.2 B/px), against
# 430 MB and 4.2 GB before (np.asarray went through Pillow's tobytes, which holds the bytes twice, and an image
# already in RGB was copied twice more), 2026-12-01.
READ_BYTES_PER_PIXEL = 7
READ_BAND_BYTES = 64 * 2**20
# One photo's whole run (read, the balanced preset's passes at 0.5, 1 and 1.5 and its orientation probe, obscure,
# encode, read back, residual check). Before the check reads the output back, the photo as read and as obscured
# are freed (3 B/px each; photo.py keeps the original only for --reid) and the encoder's copy (4) with them; the
# check mirrors its input resized to 0.75, not the output (3); the orientation probe turns one full-size copy at
# a time, not two (3). What stays is the process and ONNX Runtime's arenas (about 1.7 GB once the detector runs in
# tiles; without the arenas 0.8 GB less, but 45% slower at 25 megapixels), the output as read back (3 B/px) and
# the passes' resized inputs. Peak RSS of `python -m unseen photo.jpg -o out` (the sample scaled up, balanced,
# 2 cores, 2026-12-02): 4000×3000 1.84 GB (12 s), 5776×4332 2.02 GB (22 s), 18257×13693, the largest the default
# --max-pixels allows, 4.69 GB (188 s), against 1.95, 2.15 and 6.84 GB before (2.06, 2.33 and 7.00 on 2026-12-01,
# before the encoder's copy was freed). The line through them: 1.8 GB and 12.5 bytes a pixel; stated with a
# margin below.
PHOTO_BASE_BYTES = 2 * 2**30
PHOTO_BYTES_PER_PIXEL = 13


def read_memory(pixels: int) -> int:
    """Memory, in bytes, that reading an RGB photo of `pixels` pixels adds at its peak."""
    return READ_BYTES_PER_PIXEL * pixels + READ_BAND_BYTES


def photo_memory(pixels: int) -> int:
    """Peak memory, in bytes, of one photo of `pixels` pixels through the whole run: 5.0 GiB at 250 megapixels."""
    return PHOTO_BASE_BYTES + PHOTO_BYTES_PER_PIXEL * pixels


# --- animated GIF ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gif:
    width: int  # the canvas every frame is drawn onto
    height: int
    frames: int  # image descriptors found


def read_gif(path: Path) -> Gif | None:
    """The canvas and frame count of a GIF from its blocks alone (no pixel decoded); None if it is not a GIF.

    A GIF has no frame count: every image descriptor is counted by skipping from block to block, a few
    operations per 255 bytes. A frame reaching past the canvas widens it, as decoders draw it.
    """
    size = path.stat().st_size
    if size < 13:
        return None
    with path.open("rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[:3] != b"GIF":
            return None
        width, height, flags = struct.unpack_from("<HHB", data, 6)
        at = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
        frames = 0
        while at < size:
            block = data[at]
            if block == 0x2C and at + 10 <= size:  # image descriptor
                x, y, w, h, flags = struct.unpack_from("<HHHHB", data, at + 1)
                width, height = max(width, x + w), max(height, y + h)
                frames += 1
                at += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0) + 1  # colour table, LZW code size
            elif block == 0x21:  # extension: its label, then sub-blocks
                at += 2
            else:  # the trailer, or what no decoder reads past
                break
            at = _skip_sub_blocks(data, at, size)
    return Gif(width, height, frames)


def _skip_sub_blocks(data: mmap.mmap, at: int, size: int) -> int:
    while at < size and data[at]:
        at += data[at] + 1
    return at + 1


# --- videos ------------------------------------------------------------------------------------------------

# Frames a video holds in memory at once (src/unseen/video.py, src/unseen/track.py), in working form: I420, 1.5
# bytes a pixel (RGB, 3 bytes, when the output is a GIF):
#   4 waiting for the detector, 1 in the reader's hands and 1 in the detector's, each with an RGB copy for the
#   detector (3 B/px on the frames searched at full resolution), and the detector's own resized copy;
#   up to 29 held by the tracker (its lookahead, max_gap + 1 = 21 frames, and those being released);
#   4 waiting for the writer and 1 being obscured and encoded;
#   the decoder's frame threads and reference frames, the encoder's lookahead, B-frames and references (libx264
#   veryfast: 10-frame lookahead, 3 B-frames, 3 frame threads, with half-pel planes beside each reference).
# About 45 frames in all. tracemalloc put Python's part at 84 bytes per pixel of one frame on a 4K clip, and the
# codecs' part is about as large. Peak RSS of `python -m unseen clip.mp4 -o out --no-verify` on x264 clips (CRF 23,
# panning over the sample, 35-45 frames, 2 cores, 2026-12-01): 1920×1080 1.25 GB, 3840×2160 2.84 GB, 5760×3240
# 4.13 GB, 7680×4320 5.35 GB: a fixed 1.8 GB (the process and ONNX Runtime's arenas, which stop growing once the
# detector runs in tiles) and at most 125 bytes per pixel of one frame (the 4K to 6K slope).
VIDEO_BASE_BYTES = 1800 * 2**20
VIDEO_BYTES_PER_PIXEL = 125
# Frames up to 8192×4320 (8K, the largest that H.264 and HEVC levels 6.x allow; 35.4 megapixels): at most about
# 6.2 GB. A GIF's frames are held in RGB, twice the bytes: half as many pixels.
VIDEO_FRAME_PIXELS = 8192 * 4320
GIF_FRAME_PIXELS = VIDEO_FRAME_PIXELS // 2


def video_memory(frame_pixels: int) -> int:
    """Peak memory, in bytes, of one video whose frames have `frame_pixels` pixels (I420 working frames)."""
    return VIDEO_BASE_BYTES + VIDEO_BYTES_PER_PIXEL * frame_pixels


def check_video(width: int, height: int, frames: int, size: int, max_pixels: int, kind: str = "video") -> None:
    """Refuse, before decoding, frames over --max-pixels or the frame limit for videos, or more frames × pixels
    than `size` bytes can hold (`frames` 0: the container does not say). `kind` "GIF": frames held in RGB, and
    the bounds of an animation (check_animation) as well."""
    pixels = width * height
    if pixels > max_pixels:
        raise OverBudget(f"frames are {width}×{height}, over the {max_pixels:,}-pixel limit (--max-pixels)")
    gif = kind == "GIF"
    limit = GIF_FRAME_PIXELS if gif else VIDEO_FRAME_PIXELS
    if pixels > limit:
        raise OverBudget(
            f"frames are {width}×{height}, over the {limit:,}-pixel limit for {'GIF' if gif else 'video'} frames "
            f"(a video holds about 45 frames at once)"
        )
    _check_bytes(Claim(kind, width, height, max(frames, 1), VIDEO), size, VIDEO_FLOOR_PIXELS)
    if gif and frames > 1:  # an animation drawn onto a canvas, as an animated WebP is; a video codes every frame
        check_animation("animated GIF", width, height, frames, size)
