"""What a file's first bytes say it holds, for the line that says why it could not be read: a photo named as a
video, a video named as a photo, a damaged file of a known kind. A file is read as its suffix says (paths.py);
these bytes only choose the words of a failure, so that the line tells the user what to do."""

from __future__ import annotations

from pathlib import Path

from unseen import formats
from unseen.media import heif

HEAD = 16  # every signature below lies within a file's first 16 bytes

# How each photo format's files begin (HEIF and AVIF: heif.kind, by the brand of their ftyp box).
_PHOTOS = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"GIF8": "GIF",
    b"BM": "BMP",
}
# ISO media files (MP4, QuickTime, 3GP) are boxes, bytes 4-8 naming the first: ftyp names the brand (bytes 8-12);
# an old QuickTime file has none and begins with one of these. Sound alone (M4A, audiobooks) is no video.
_QUICKTIME_FIRST = (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")
_SOUND_BRANDS = (b"M4A ", b"M4B ", b"M4P ")


def head(path: Path, size: int = HEAD) -> bytes:
    """The file's first `size` bytes (none where it cannot be read: the failure's own line says why)."""
    try:
        with path.open("rb") as stream:
            return stream.read(size)
    except OSError:
        return b""


def photo(head: bytes) -> formats.PhotoFormat | None:
    """The photo format a file beginning with `head` is in, if it looks like one."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return formats.photo("WEBP")
    name = heif.kind(head) or next((name for magic, name in _PHOTOS.items() if head.startswith(magic)), None)
    return formats.photo(name) if name is not None else None


def video(head: bytes) -> formats.VideoFormat | None:
    """The video container a file beginning with `head` is in, if it looks like one (an animated GIF: photo())."""
    box, brand = head[4:8], head[8:12]
    if box == b"ftyp" and heif.kind(head) is None and brand not in _SOUND_BRANDS:
        name = "MOV" if brand == b"qt  " else "3GP" if brand.startswith(b"3g") else "MP4"
    elif box in _QUICKTIME_FIRST:
        name = "MOV"
    elif head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska and WebM
        name = "Matroska"
    elif head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        name = "AVI"
    else:
        return None
    return formats.video(name)


def misnamed(start: bytes, named_as: str) -> str | None:
    """Why a file named as a "photo" or a "video" (`named_as`) and beginning with `start` (its `head`) could not
    be read, where it holds the other."""
    found = video(start) if named_as == "photo" else photo(start)
    if found is None:
        return None
    holds = "video" if named_as == "photo" else "photo"
    fix = f"rename it to end in {found.suffixes[0]} and run again"
    return f"a {holds} ({found.name}), not a {named_as} as its name says: {fix}"
