"""Every file format unseen reads or writes, one entry each: adding a format is adding an entry here.

A photo format says which suffixes are read as it, which Pillow decoder may open it, what an output of it is
written as by default, the encoder's options when it is written, whether it holds several frames, and the
metadata an output of it may keep (media/metadata.py, which the tests hold every output to). A video format
says which suffixes are read as it, the FFmpeg demuxers that may read it and the muxer that writes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from unseen.media import metadata


@dataclass(frozen=True)
class PhotoFormat:
    name: str  # Pillow's name for the format, and the name unseen uses (--format takes it in lower case)
    suffixes: tuple[str, ...]  # read as this format; the first is the one an output in it gets
    writes_as: str  # the format an output is written in unless --format says otherwise
    encoder: Mapping[str, object] | None = None  # Pillow's save options; None: never written in this format
    frames: bool = False  # animated or multi-page files are read and written with all their frames
    allowlist: Mapping[str, str] = field(default_factory=dict)  # metadata an output may keep, and why

    @property
    def writable(self) -> bool:
        return self.encoder is not None


@dataclass(frozen=True)
class VideoFormat:
    name: str
    suffixes: tuple[str, ...]
    muxer: str  # FFmpeg's muxer for an output in this container
    demuxers: tuple[str, ...]  # FFmpeg's demuxers that may read an input of it (nothing else is ever probed)
    animated_only: bool = False  # the suffix is a photo's too; only a file with several frames is a video
    # --codec names FFmpeg lists for the muxer but cannot finish a file with ("vp09 only supported in MP4"):
    # such an output is written as MP4, as one whose container cannot hold the codec at all.
    refuses: frozenset[str] = frozenset()


def _frozen(options: dict[str, object]) -> Mapping[str, object]:
    return MappingProxyType(options)


PHOTOS: tuple[PhotoFormat, ...] = (
    PhotoFormat(
        "JPEG",
        (".jpg", ".jpeg", ".jpe", ".jfif"),
        "JPEG",
        _frozen({"quality": 95, "subsampling": "4:2:0"}),
        allowlist=metadata.ALLOWLIST["JPEG"],
    ),
    # A multi-picture JPEG (a camera's depth map or preview after the main picture): the main picture only.
    PhotoFormat("MPO", (".mpo",), "JPEG"),
    PhotoFormat("PNG", (".png",), "PNG", _frozen({"compress_level": 6}), allowlist=metadata.ALLOWLIST["PNG"]),
    PhotoFormat(
        "WEBP",
        (".webp",),
        "WEBP",
        _frozen({"quality": 92, "method": 4}),
        frames=True,
        allowlist=metadata.ALLOWLIST["WEBP"],
    ),
    PhotoFormat(
        "TIFF",
        (".tif", ".tiff"),
        "TIFF",
        _frozen({"compression": "tiff_lzw"}),
        frames=True,
        allowlist=metadata.ALLOWLIST["TIFF"],
    ),
    # Phones' formats, read through media/heif.py. AVIF comes before HEIF: both may call themselves "mif1", and only
    # Pillow's AVIF decoder (libavif, dav1d) reads AV1; pillow-heif's libheif reads HEVC. Encoder settings, measured
    # on a 4032×3024 photo (2 CPUs, 2026-12-02): x265's "ultrafast" preset takes 2.3 s (libheif's default "slow":
    # 16.5 s), libaom at speed 8 1.7 s (Pillow's default 6: 4.4 s); a JPEG at quality 95, 0.04 s.
    PhotoFormat(
        "AVIF",
        (".avif",),
        "AVIF",
        _frozen({"quality": 90, "speed": 8}),
        # An animated AVIF is read frame by frame but written only with --format webp, tiff or heic: libavif stamps
        # an animation it writes with the time it was written (its movie's and track's creation dates).
        allowlist=metadata.ALLOWLIST["AVIF"],
    ),
    PhotoFormat(
        "HEIF",
        (".heic", ".heif", ".hif"),
        "HEIF",
        _frozen({"quality": 90, "enc_params": {"preset": "ultrafast"}}),
        frames=True,  # every top-level image of a multi-image HEIC, the one shown first kept first
        allowlist=metadata.ALLOWLIST["HEIF"],
    ),
    # Written as PNG: no metadata-free writer is worth keeping for them. An animated GIF is a video.
    PhotoFormat("BMP", (".bmp",), "PNG"),
    PhotoFormat("GIF", (".gif",), "PNG"),
)

_MP4 = ("mov", "mp4", "m4a", "3gp", "3g2", "mj2")  # FFmpeg's one demuxer for the MP4 family
VIDEOS: tuple[VideoFormat, ...] = (
    VideoFormat("MP4", (".mp4", ".m4v"), "mp4", _MP4),
    VideoFormat("MOV", (".mov",), "mov", _MP4, refuses=frozenset({"vp9", "av1"})),
    VideoFormat("3GP", (".3gp",), "3gp", _MP4, refuses=frozenset({"vp9", "av1"})),
    VideoFormat("Matroska", (".mkv",), "matroska", ("matroska", "webm")),
    VideoFormat("WebM", (".webm",), "webm", ("matroska", "webm")),
    VideoFormat("AVI", (".avi",), "avi", ("avi",)),
    VideoFormat("MPEG-TS", (".mts", ".m2ts", ".ts"), "mpegts", ("mpegts",)),
    VideoFormat("H.264", (".264", ".h264"), "h264", ("h264", "hevc")),  # a raw stream: H.264, or HEVC named so
    VideoFormat("GIF", (".gif",), "gif", ("gif",), animated_only=True),
)


def photo(name: str) -> PhotoFormat:
    """The photo format of that name (as Pillow names it)."""
    return _PHOTOS_BY_NAME[name]


def photo_for_suffix(suffix: str) -> PhotoFormat | None:
    """The photo format a file with this suffix is read as, if any."""
    return _PHOTOS_BY_SUFFIX.get(suffix.lower())


def video(name: str) -> VideoFormat:
    """The video container of that name (MP4, MOV, …; not GIF, which photo() names)."""
    return _VIDEOS_BY_NAME[name]


def video_for_suffix(suffix: str) -> VideoFormat | None:
    """The video container a file with this suffix is read as, if any (an animated GIF's too)."""
    return _VIDEOS_BY_SUFFIX.get(suffix.lower())


def is_video_suffix(suffix: str) -> bool:
    """Whether the suffix alone makes a file a video (.gif does not: it takes several frames)."""
    found = video_for_suffix(suffix)
    return found is not None and not found.animated_only


def write_suffix(name: str) -> str:
    """The suffix an output written in this photo format gets."""
    return photo(name).suffixes[0]


WRITABLE: tuple[str, ...] = tuple(f.name for f in PHOTOS if f.writable)
DEMUXERS: str = ",".join(dict.fromkeys(d for f in VIDEOS for d in f.demuxers))  # FFmpeg's format_whitelist

_PHOTOS_BY_NAME = {f.name: f for f in PHOTOS}
_PHOTOS_BY_SUFFIX = {suffix: f for f in PHOTOS for suffix in f.suffixes}
_VIDEOS_BY_SUFFIX = {suffix: f for f in VIDEOS for suffix in f.suffixes}
_VIDEOS_BY_NAME = {f.name: f for f in VIDEOS if not f.animated_only}
