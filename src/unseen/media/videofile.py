"""Videos: decode to plain frames, encode from plain frames, copy audio packets. Nothing else crosses.

An output holds only what is listed in ALLOWLIST: one video stream encoded afresh from pixels, the input's
audio streams (packets copied byte for byte, or re-encoded when the container cannot hold their codec), the
display matrix (so the video shows as the input did), colour tags and each audio stream's language. Container
and stream tags (creation_time, location, make, model, encoder, handler names), chapters, subtitle, data and
attachment streams and all frame side data (SEI user data, closed captions) are never copied.
"""

from __future__ import annotations

import contextlib
import math
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import av.bitstream
import numpy as np
from av.sidedata.sidedata import Type as SideDataType
from PIL import Image

from unseen import formats, publish
from unseen.errors import InputError, OutputError, first_line
from unseen.faces import turned_size
from unseen.media import budget, sniff
from unseen.media.colour import Colours

# --codec names and the encoder behind each.
CODECS = {"h264": "libx264", "hevc": "libx265", "vp9": "libvpx-vp9", "av1": "libsvtav1", "gif": "gif"}
KEPT_AUDIO_TAGS = ("language",)  # says nothing about who filmed, and players need it to pick a track
ALLOWLIST = {
    "video stream": "encoded afresh from the obscured pixels; no side data from the input frames",
    "audio streams": "packets copied unchanged (re-encoded only when the container cannot hold the codec)",
    "display matrix": "the rotation, so the output shows as the input did",
    "colour tags": "range, matrix, primaries and transfer of the video, needed to show the right colours",
    "audio language": "needed by players to pick a track",
    "timestamps": "every frame keeps its presentation time",
}
_MP4_FAMILY = {"mp4", "mov", "3gp"}
# FFmpeg opens only local files: a name such as "http:host:80.mp4" or "tcp:127.0.0.1:8766.mp4" would otherwise be
# taken for a URL. Every path reaches it as a "file:" URL of the absolute path, and only the file protocol may
# be used, also by a demuxer that opens further files.
LOCAL_ONLY = {"protocol_whitelist": "file"}
# The demuxers that may read an input are the registry's (formats.DEMUXERS): FFmpeg checks the probed format
# against them before reading its header. Never a playlist or concat list (hls, concat, dash), which would
# open other files, nor an image sequence.
_H264_SEI = 6  # the NAL unit type of H.264's supplemental enhancement information
_PRESETS = {"libx264": "veryfast", "libx265": "veryfast", "libsvtav1": "10"}


class Treated(Protocol):
    """Audio streams the writer encodes from changed samples instead of copying (audio/voice.py's Plan)."""

    indices: frozenset[int]  # the input's stream indices

    def open(self, container: av.container.OutputContainer, muxer: str, index: int) -> None: ...

    def until(self, packet: av.Packet) -> list[av.Packet]: ...  # the output's packets up to where this one ends

    def finish(self) -> list[av.Packet]: ...


class VideoReadError(InputError):
    """The video cannot be read to its end; the message says where and why, in one line."""


class VideoWriteError(OutputError):
    """The output cannot be written; the message says why, in one line."""


@dataclass(frozen=True)
class Demuxed:
    """One decoded frame (None after the last one) and the audio packets demuxed since the previous frame."""

    index: int
    frame: av.VideoFrame | None
    audio: list[av.Packet]


class VideoReader:
    """Demuxes the first video stream and, when kept, the audio streams; nothing else is read."""

    def __init__(self, path: Path, keep_audio: bool, max_pixels: int) -> None:
        # A GIF is judged before FFmpeg opens it: its probe decodes the first frame onto the whole canvas.
        try:
            gif = budget.read_gif(path)
        except OSError as error:
            raise VideoReadError(f"cannot read: {error.strerror or error}") from None
        if gif is not None:
            _check_budget(gif.width, gif.height, gif.frames, path, max_pixels, "GIF")
        try:
            # Tags that are not UTF-8 (old cameras write Latin-1) must not stop the video: none is copied anyway.
            self.container = open_input(path)
        except av.FFmpegError as error:
            raise VideoReadError(_unreadable(path, error)) from None
        # A cover picture is stored as a one-frame video stream: it is never written, and never taken for
        # the video (any other video stream is not written either).
        moving = [s for s in self.container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
        if not moving:
            self.container.close()
            raise VideoReadError("no video stream")
        self.stream = moving[0]
        if self.stream.codec_context is None:  # a codec FFmpeg does not know, or a header cut short
            self.container.close()
            raise VideoReadError("the video stream cannot be decoded (unknown codec or damaged header)")
        self.stream.thread_type = "AUTO"  # frame threads: decoding keeps up with the rest on any core count
        # An audio stream that cannot be decoded either could not be written: it is left out.
        self.audio = [s for s in self.container.streams.audio if s.codec_context is not None] if keep_audio else []
        self.width, self.height = self.stream.codec_context.width, self.stream.codec_context.height
        try:
            frames = gif.frames if gif is not None else max(self.stream.frames, 0)
            kind = "GIF" if gif is not None else self.stream.codec_context.name
            _check_budget(self.width, self.height, frames, path, max_pixels, kind)
        except VideoReadError:
            self.container.close()
            raise
        self.format_name = self.container.format.name

    @property
    def frame_count(self) -> int:
        """Frames the container announces (0 when it does not say)."""
        return max(self.stream.frames, 0)

    @property
    def rate(self) -> Fraction:
        return self.stream.average_rate or self.stream.guessed_rate or Fraction(25)

    @property
    def steady_rate(self) -> float | None:
        """The lower of the stream's average and guessed frame rates (None when it gives neither): fast only when
        both say so (a variable-rate clip's guessed rate can be its time base's, a broken average anything)."""
        rates = [float(r) for r in (self.stream.average_rate, self.stream.guessed_rate) if r]
        return min(rates) if rates else None

    @property
    def time_base(self) -> Fraction:
        return self.stream.time_base or 1 / self.rate

    def __iter__(self) -> Iterator[Demuxed]:
        index = packets = 0
        audio: list[av.Packet] = []
        cut = False  # whether the last packet read ran past the end of the file
        try:
            for packet in self.container.demux(self.stream, *self.audio):
                if packet.size:  # size 0: the demuxer's end-of-stream marker
                    cut = packet.is_corrupt  # a packet the file ends inside of is marked corrupt
                if packet.stream.type == "audio":
                    if packet.size:
                        audio.append(packet)
                    continue
                packets += packet.size > 0
                for frame in packet.decode():
                    yield Demuxed(index, frame, audio)
                    index, audio = index + 1, []
        except av.FFmpegError as error:
            raise VideoReadError(f"decoding failed at frame {index + 1}: {first_line(error, own_words=True)}") from None
        # A file cut short ends inside a packet. With frame threads the decoder does not always say so, and
        # what was read would be published as if it were the whole video.
        if cut:
            raise VideoReadError(f"truncated: the file ends partway through its data, after frame {index}")
        # Cut exactly between two frames, an MP4 or MOV whose index comes first reads cleanly to its (early)
        # end; the index still lists every frame. Packets, not decoded frames, are counted: an edit list that
        # trims the start makes the decoder drop frames that are nevertheless in the file. (An AVI's header
        # count is not exact enough for this: H.264 in AVI announces frames the encoder delayed.)
        if "mp4" in self.format_name.split(",") and packets < self.frame_count:
            raise VideoReadError(f"truncated: the file lists {self.frame_count} frames but ends after {packets}")
        if index == 0:
            raise VideoReadError("no frame could be decoded")
        yield Demuxed(index, None, audio)

    def close(self) -> None:
        """Close the file (again: nothing)."""
        self.container.close()


def open_input(path: Path) -> av.container.InputContainer:
    """An input opened as every reader of it must: a local file, through the registry's demuxers only."""
    return av.open(
        local_url(path), metadata_errors="replace", options=dict(LOCAL_ONLY, format_whitelist=formats.DEMUXERS)
    )


def fallback_audio_codec(muxer: str) -> str:
    """The audio codec written where the input's cannot be: AAC, or Opus in WebM (which refuses AAC)."""
    return "libopus" if muxer == "webm" else "aac"


def _check_budget(width: int, height: int, frames: int, path: Path, max_pixels: int, kind: str) -> None:
    """Refuse, before a frame is decoded, frames too large to hold or more frames than the file can code."""
    try:
        budget.check_video(width, height, frames, path.stat().st_size, max_pixels, kind)
    except budget.OverBudget as error:
        raise VideoReadError(str(error)) from None


def is_animated_gif(path: Path) -> bool:
    """A GIF with more than one frame (read as a video); a still GIF stays a photo.

    Its blocks are counted, not decoded (media/budget.py): Pillow would size each frame it passes, and warn on
    stderr about a large canvas.
    """
    try:
        gif = budget.read_gif(path)
    except (OSError, ValueError, struct.error):
        return False  # the photo path reports what is wrong with it
    return gif is not None and gif.frames > 1


def rotation(frame: av.VideoFrame) -> int:
    """Quarter turns counter-clockwise that show the frame upright (np.rot90's k)."""
    return round((frame.rotation or 0) / 90) % 4


def display_matrix(frame: av.VideoFrame) -> list[int] | None:
    for data in frame.side_data:
        if data.type == SideDataType.DISPLAYMATRIX:
            return list(struct.unpack("9i", bytes(data)[:36]))
    return None


def shown_size(frame: av.VideoFrame) -> tuple[int, int]:
    """Width and height of the frame as shown (rotation applied)."""
    return turned_size(frame.width, frame.height, rotation(frame))


def upright_rgb(frame: av.VideoFrame, scale: float, align: int = 32) -> np.ndarray:
    """The frame as shown (rotation applied), in RGB, resized by about `scale` to sides that are multiples of
    `align` (what CenterFace takes, so that it need not resize again), for the detector."""
    k = rotation(frame)
    shown_w, shown_h = shown_size(frame)
    width = max(align, math.ceil(shown_w * scale / align) * align)
    height = max(align, math.ceil(shown_h * scale / align) * align)
    stored_w, stored_h = turned_size(width, height, k)
    if (stored_w, stored_h) == (frame.width, frame.height):
        rgb = frame.to_ndarray(format="rgb24")
    else:
        shrink = stored_w < frame.width
        resized = frame.reformat(stored_w, stored_h, "rgb24", interpolation="AREA" if shrink else "BILINEAR")
        rgb = resized.to_ndarray()
    return np.ascontiguousarray(np.rot90(rgb, k))


# --- writing ----------------------------------------------------------------------------------------------


def output_plan(target: Path, source_suffix: str, codec: str | None) -> tuple[Path, str, str]:
    """The output path, muxer and --codec name: the input's container where it can hold the codec, else MP4."""
    suffix = source_suffix.lower()
    container = formats.video_for_suffix(suffix)
    muxer = container.muxer if container is not None else "mp4"
    name = codec or ("gif" if muxer == "gif" else "h264")
    if CODECS[name] not in av.codecs_available:
        raise VideoWriteError(f"this build of PyAV has no {CODECS[name]} encoder for --codec {name}")
    refused = container is not None and name in container.refuses
    if refused or not _holds(muxer, CODECS[name]):
        muxer = "mp4"
        if not _holds(muxer, CODECS[name]):
            raise VideoWriteError(f"--codec {name} cannot be written to a video file")
        target = target.with_suffix(".mp4")
    return target, muxer, name


def _holds(muxer: str, encoder: str) -> bool:
    codec_name = av.codec.Codec(encoder, "w").name
    with av.open(os.devnull, "w", format=muxer) as probe:
        return codec_name in probe.supported_codecs


class VideoWriter:
    """Encodes frames to a temporary file beside the target; `finish` renames it, `abort` removes it."""

    def __init__(
        self, target: Path, muxer: str, codec: str, crf: int, overwrite: bool, treated: Treated | None = None
    ) -> None:
        self.target, self.muxer, self.encoder = target, muxer, CODECS[codec]
        self.treated = treated  # audio streams written from changed samples instead of copied (audio/streams.py)
        self.crf, self.overwrite = crf, overwrite
        self.working_format = "rgb24" if self.encoder == "gif" else "yuv420p"
        self.temporary = publish.Temporary(target)
        self.tmp = self.temporary.path
        # bitexact: no encoder or muxer version tags, deterministic stream ids.
        options = {"fflags": "+bitexact"} | ({"movflags": "+faststart"} if muxer in _MP4_FAMILY else {})
        self.container = av.open(local_url(self.tmp), "w", format=muxer, options=options)
        self.video: av.VideoStream | None = None
        self.audio: dict[int, tuple[av.audio.stream.AudioStream, bool]] = {}
        self.colours: Colours | None = None
        self.last_pts: int | None = None
        self.durations: dict[int, int] = {}  # frames in the encoder: pts → duration
        self.sei_filter: av.bitstream.BitStreamFilterContext | None = None

    def start(self, reader: VideoReader, tags: Colours, matrix: list[int] | None, width: int, height: int) -> None:
        """Set up the streams before the first frame: size, colours, timing, rotation and audio."""
        stream = self.container.add_stream(self.encoder, rate=reader.rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = "pal8" if self.encoder == "gif" else "yuv420p"
        stream.time_base = reader.time_base
        stream.codec_context.time_base = reader.time_base
        self.colours = tags
        if self.encoder != "gif":
            context = stream.codec_context
            context.color_range, context.colorspace = tags.range, tags.space
            context.color_primaries, context.color_trc = tags.primaries, tags.trc
            stream.options = self._encoder_options()
        if matrix is not None and self.muxer not in ("gif", "h264"):
            stream.set_display_matrix(matrix)
        self.video = stream
        # x264 writes its version, build and every setting (thread count included) into an SEI message of the
        # first frame: it marks the file as processed and describes the machine. H.264 streams lose their SEI
        # units on the way to the muxer (an x264 stream has no other); x265 is told not to write its own.
        if self.encoder == "libx264":
            self.sei_filter = av.bitstream.BitStreamFilterContext(f"filter_units=remove_types={_H264_SEI}", "h264")
        for source in reader.audio:
            if self.treated is not None and source.index in self.treated.indices:
                self.treated.open(self.container, self.muxer, source.index)
            else:
                self.audio[source.index] = self._audio_stream(source)

    def _encoder_options(self) -> dict[str, str]:
        if self.encoder == "libsvtav1":
            os.environ.setdefault("SVT_LOG", "1")  # errors only: SVT-AV1 prints a banner to stderr otherwise
        options = {"crf": str(self.crf)}
        if self.encoder in _PRESETS:
            options["preset"] = _PRESETS[self.encoder]
        if self.encoder == "libvpx-vp9":
            options |= {"b": "0", "row-mt": "1", "deadline": "good", "cpu-used": "4"}
        if self.encoder == "libx265":
            options["x265-params"] = "log-level=error:info=0"  # info=0: no SEI with x265's version and settings
        return options

    def _audio_stream(self, source: av.audio.stream.AudioStream) -> tuple[av.audio.stream.AudioStream, bool]:
        """A copy of the source stream where the container can hold its codec; else AAC (Opus in WebM)."""
        if source.codec_context.name in self.container.supported_codecs:
            stream = self.container.add_stream_from_template(source)
            copy = True
        else:
            rate = source.codec_context.sample_rate or 48000
            stream = self.container.add_stream(fallback_audio_codec(self.muxer), rate=rate)
            stream.layout = source.codec_context.layout
            copy = False
        for tag in KEPT_AUDIO_TAGS:
            if tag in source.metadata:
                stream.metadata[tag] = source.metadata[tag]
        return stream, copy

    def write(self, pixels: np.ndarray, pts: int, duration: int) -> None:
        assert self.video is not None and self.colours is not None
        if self.last_pts is not None and pts <= self.last_pts:
            pts = self.last_pts + 1  # encoders refuse repeated timestamps; keep order, move by one tick
        self.last_pts = pts
        frame = self._frame(pixels)
        frame.pts, frame.time_base, frame.duration = pts, self.video.codec_context.time_base, duration
        self.durations[pts] = duration
        self._mux(self.video.encode(frame))

    def _frame(self, pixels: np.ndarray) -> av.VideoFrame:
        if self.encoder == "gif":
            return _palette_frame(pixels)
        frame = av.VideoFrame.from_ndarray(pixels, format="yuv420p")
        frame.colorspace, frame.color_range = self.colours.space, self.colours.range  # type: ignore[union-attr]  # start() set them
        return frame

    def _mux(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            # Each packet gets its own frame's duration: encoders that reorder frames guess it wrong for the
            # last ones, and the muxer takes the length of the video (and GIF the last delay) from it.
            duration = self.durations.pop(packet.pts, None) if packet.pts is not None else None
            if duration:
                packet.duration = duration
            for out in self.sei_filter.filter(packet) if self.sei_filter is not None else [packet]:
                out.stream = self.video
                self.container.mux(out)

    def write_audio(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            if self.treated is not None and packet.stream.index in self.treated.indices:
                self.container.mux(self.treated.until(packet))
                continue
            target = self.audio.get(packet.stream.index)
            if target is None:
                continue
            stream, copy = target
            if copy:
                packet.stream = stream
                self.container.mux(packet)
            else:
                for frame in packet.decode():
                    frame.pts = None  # the encoder numbers samples itself
                    self.container.mux(stream.encode(frame))

    def finish(self, check: Callable[[Path], None] | None = None) -> Path:
        """Flush the encoders, close the file and give it the target's name.

        `check` is called on the complete temporary file before that: if it raises, nothing is published
        (the caller's `abort` then removes the file).
        """
        try:
            if self.video is not None:
                self._mux(self.video.encode(None))
            if self.sei_filter is not None:  # whatever the filter still holds (none, for this one)
                for out in self.sei_filter.filter(None):
                    out.stream = self.video
                    self.container.mux(out)
            for stream, copy in self.audio.values():
                if not copy:
                    self.container.mux(stream.encode(None))
            if self.treated is not None:
                self.container.mux(self.treated.finish())
            self.container.close()
        except av.FFmpegError as error:
            raise VideoWriteError(f"cannot finish the video ({first_line(error, own_words=True)})") from None
        if check is not None:
            check(self.tmp)
        published = self.temporary.publish(self.overwrite)
        self.temporary.discard()
        return published

    def abort(self) -> None:
        # A half-written file may not close cleanly; it is removed either way.
        with contextlib.suppress(av.FFmpegError, OSError, ValueError):
            self.container.close()
        self.temporary.discard()


# How a list of other files begins (FFmpeg's concat list, HLS and DASH playlists): never read, whatever its name.
_PLAYLISTS = (b"ffconcat", b"#EXTM3U", b"<?xml", b"<MPD")


def _unreadable(path: Path, error: BaseException) -> str:
    start = sniff.head(path, 64)  # read once: a playlist, or a photo named as a video
    if start.lstrip().startswith(_PLAYLISTS):
        return "a playlist or list of other files, not a video: refused (unseen opens no file it was not given)"
    misnamed = sniff.misnamed(start, "video")
    if misnamed is not None:
        return misnamed
    return f"not a video unseen can read ({first_line(error, own_words=True)})"


def local_url(path: Path) -> str:
    """A path as FFmpeg must get it: a "file:" URL of the absolute path, never a name it could parse as a URL."""
    return "file:" + os.path.abspath(path)


def _palette_frame(rgb: np.ndarray) -> av.VideoFrame:
    """GIF pixels: a palette of up to 256 colours chosen for this frame, no dithering (obscured areas stay flat)."""
    image = Image.fromarray(rgb).quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    palette = np.zeros((256, 4), np.uint8)
    colours_ = np.array(image.getpalette() or [], np.uint8).reshape(-1, 3)[:256]
    palette[: len(colours_), 1:] = colours_
    palette[:, 0] = 255  # opaque
    return av.VideoFrame.from_ndarray((np.asarray(image), palette), format="pal8")
