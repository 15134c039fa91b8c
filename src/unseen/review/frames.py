"""A video's frames for the review page: frame N as shown (rotation applied), at view size, found exactly.

Frames are numbered as the pipeline numbers them: in presentation order from the first. The frame times come
from one pass over the packets (no decoding); frame N is then reached by decoding on from where the decoder
is when N is a little ahead (stepping and playing forward), or from the keyframe before N otherwise (a seek).
Every frame decoded on the way is kept as a small JPEG, so stepping back through what was just seen is a cache
hit; nothing holds more than a window of frames, whatever the video's length.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from unseen.media.videofile import VideoReader, rotation, shown_size

VIDEO_SIDE = 1280  # px, the longer side of a frame as the page shows it
AHEAD = 48  # frames: a request this far past the decoder's position decodes on rather than seeking
KEEP_BEFORE = 12  # frames before the one asked for kept on the way there (a step back is then a cache hit)
JPEGS_KEPT = 400  # small JPEGs of frames (about 60 kB each at 1280×720)
# After a seek, the decoder skips the frames no other refers to until this many frames before the ones kept.
SKIP_MARGIN = 4
PIXELS_KEPT = 6  # decoded frames at view size, for the obscured preview of the frames around the one shown
QUALITY = 85


class FrameSource:
    """One video's frames; every method may be called from any thread (one decoder, behind a lock)."""

    def __init__(self, path: Path, max_pixels: int) -> None:
        self.path, self.max_pixels = path, max_pixels
        self._lock = threading.Lock()
        self._reader: VideoReader | None = None
        self._times: list[int] | None = None  # presentation times of the frames, in order
        self._decoded: Iterator[Any] | None = None  # the decoder's frame iterator, positioned after frame `_next - 1`
        self._next = 0
        self._jpegs: OrderedDict[int, bytes] = OrderedDict()
        self._pixels: OrderedDict[int, np.ndarray] = OrderedDict()
        self._shown_size = (0, 0)

    def jpeg(self, index: int) -> bytes:
        with self._lock:
            if index in self._jpegs:
                self._jpegs.move_to_end(index)
                return self._jpegs[index]
            self._reach(index)
            return self._jpegs[index]

    def pixels(self, index: int) -> np.ndarray:
        """Frame `index` at view size, RGB, as shown."""
        with self._lock:
            if index in self._pixels:
                self._pixels.move_to_end(index)
                return self._pixels[index]
            if index in self._jpegs:
                jpeg = np.frombuffer(self._jpegs[index], np.uint8)
                found = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[..., ::-1]  # type: ignore[index]  # made here: it decodes
                return self._keep_pixels(index, np.ascontiguousarray(found))
            self._reach(index)
            return self._pixels[index]

    def probe(self) -> tuple[int, int, int, float]:
        """Width and height as shown (full size), frame count and frames per second, before any search: what
        the page needs to show a video while its faces are still being found."""
        self.jpeg(0)
        with self._lock:
            reader = self._open()
            width, height = self._shown_size
            return width, height, len(self._frame_times()), float(reader.rate)

    def seconds(self, index: int) -> tuple[float, float]:
        """When frame `index` is shown, on a player's clock (0 where a player starts: the container's start time),
        and when the next one is (the last frame lasts as long as the one before it, or 1/fps)."""
        with self._lock:
            times = self._frame_times()
            if not 0 <= index < len(times):
                raise KeyError(index)
            reader = self._open()
            base = float(reader.time_base)
            start = reader.container.start_time
            origin = start / av.time_base if start is not None else 0.0
            if index + 1 < len(times):
                step = (times[index + 1] - times[index]) * base
            else:
                step = (times[index] - times[index - 1]) * base if index else 1 / float(reader.rate)
            shown = times[index] * base - origin
            return shown, shown + step

    def close(self) -> None:
        with self._lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    def _reach(self, index: int) -> None:
        """Decode up to frame `index`, keeping each frame passed."""
        times = self._frame_times()
        if not 0 <= index < len(times):
            raise KeyError(index)
        if self._decoded is None or not self._next <= index <= self._next + AHEAD:
            self._seek(times[index], times[max(0, index - KEEP_BEFORE - SKIP_MARGIN)])
        assert self._decoded is not None
        while self._next <= index:
            frame = next(self._decoded, None)
            if frame is None:
                raise KeyError(index)
            number = self._next if frame.pts is None else bisect.bisect_left(times, frame.pts)
            if number < self._next:
                continue  # before the frame wanted: the seek lands on the keyframe before it
            self._next = number + 1
            if number >= index - KEEP_BEFORE:  # converting every frame from the keyframe on cost 4× the decoding
                self._keep(number, frame)

    def _seek(self, pts: int, skip_before: int) -> None:
        reader = self._open()
        reader.container.seek(pts, stream=reader.stream, backward=True, any_frame=False)
        self._decoded = _decoded(reader, skip_before)
        self._next = bisect.bisect_left(self._frame_times(), pts)

    def _keep(self, number: int, frame: av.VideoFrame) -> None:
        self._shown_size = shown_size(frame)
        small = _shown(frame)
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
        if ok:
            self._jpegs[number] = data.tobytes()
            while len(self._jpegs) > JPEGS_KEPT:
                self._jpegs.popitem(last=False)
        self._keep_pixels(number, small)

    def _keep_pixels(self, number: int, small: np.ndarray) -> np.ndarray:
        self._pixels[number] = small
        while len(self._pixels) > PIXELS_KEPT:
            self._pixels.popitem(last=False)
        return small

    def _open(self) -> VideoReader:
        if self._reader is None:
            self._reader = VideoReader(self.path, keep_audio=False, max_pixels=self.max_pixels)  # local file only
        return self._reader

    def _frame_times(self) -> list[int]:
        """Every frame's presentation time, from the packets alone (no decoding): one pass, once."""
        if self._times is None:
            reader = VideoReader(self.path, keep_audio=False, max_pixels=self.max_pixels)
            try:
                times = [p.pts for p in reader.container.demux(reader.stream) if p.size and p.pts is not None]
            finally:
                reader.close()
            self._times = sorted(times)
        return self._times


def _decoded(reader: VideoReader, skip_before: int) -> Iterator[av.VideoFrame]:
    """The frames from where the reader was sought, the decoder skipping those no other frame refers to until a
    packet shows `skip_before` or later (packets come in decoding order, each with its presentation time: the
    frames kept, and the one asked for, are always decoded). On the bench's 1080p clip a third of the frames
    are such; scrubbing seeks to a keyframe up to 250 frames back."""
    context = reader.stream.codec_context
    context.skip_frame = "NONREF"
    for packet in reader.container.demux(reader.stream):
        if context.skip_frame != "DEFAULT" and (packet.pts is None or packet.pts >= skip_before):
            context.skip_frame = "DEFAULT"
        yield from reader.stream.decode(packet)


def _shown(frame: av.VideoFrame) -> np.ndarray:
    """The frame as shown, at view size, RGB."""
    turns = rotation(frame)
    shown_w, shown_h = shown_size(frame)
    scale = min(1.0, VIDEO_SIDE / max(shown_w, shown_h))
    width, height = max(2, round(frame.width * scale)), max(2, round(frame.height * scale))
    rgb = frame.reformat(width, height, "rgb24", interpolation="AREA").to_ndarray()
    return np.ascontiguousarray(np.rot90(rgb, turns))
