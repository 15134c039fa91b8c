"""One video through the pipeline: decode → detect → track → obscure → encode, told as a FileReport.

Three threads overlap so that every core works: a reader decodes and prepares the detector's input (PyAV
releases the GIL while decoding and scaling), the calling thread detects (ONNX Runtime releases it) and tracks,
a writer obscures and encodes. The queues between them are bounded and the tracker holds a fixed number of
frames, so memory does not grow with the length of the video.

Two variants share the pipeline (a regions file's two halves): `search_video` decodes, detects and tracks
exactly as a run does and hands each frame's boxes, with their track ids, to a sink, writing nothing; and
`process_video` with `decided` covers in each frame what the decisions say (video_decisions.Plan) instead of
detecting, everything else as in a plain run.
"""

from __future__ import annotations

import math
import queue
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

import av
import numpy as np

from unseen import formats, stop
from unseen.audio import voice as voices
from unseen.audio.check import VoiceCheck, check_voices
from unseen.audio.vad import Span
from unseen.audio.voice import Prepared
from unseen.config import PhotoOptions, VideoOptions
from unseen.detectors.centerface import INT8_MODEL_NAME, CenterFace
from unseen.detectors.orient import PROBE_LONG_SIDE, PROBE_MODEL, Orientation, Probe, also_turned
from unseen.errors import NameTaken, reason
from unseen.faces import Detector, Faces, turned_size
from unseen.media.colour import Colours, colours, fill_yuv420, paint_yuv420, working_pixels
from unseen.media.videofile import (
    CODECS,
    Demuxed,
    VideoReader,
    VideoWriteError,
    VideoWriter,
    display_matrix,
    is_animated_gif,
    output_plan,
    rotation,
    upright_rgb,
)
from unseen.names import display
from unseen.obscure import Method, head_boxes, obscure, region_mask
from unseen.paths import Job
from unseen.report import FileReport
from unseen.runner import Checked, Done, Record, checker, run_file
from unseen.track import Tracker
from unseen.verify.photo_check import Verifier
from unseen.verify.residual import residual_detector
from unseen.verify.video_check import CHECK_EVERY, Regions, check_video

if TYPE_CHECKING:
    from tqdm import tqdm

# A video larger than about 1.25× REDUCED_PIXELS is searched as its quality's plan says (config.VideoPlan, set
# by detectors/presets.py): by default every `full_every`-th frame at full resolution and every `search_every`-th
# of the others at about REDUCED_PIXELS (at 1080p a 0.75 scale), all with the int8 model; frames in between are
# not searched, and the tracker covers them. Smaller videos are searched in every frame at full resolution.
# Why: docs/measurements-detection.md, "Videos".
REDUCED_PIXELS = 1440 * 810
# --codec choices: those this PyAV build can encode.
VIDEO_CODECS = sorted(name for name, encoder in CODECS.items() if encoder in av.codecs_available)
# One CenterFace pass at this threshold: at scale 1 it finds most faces under 16 px at 0.7% collateral on the
# dev stills, and costs what video can afford per frame (the tracker then covers what it misses for a while).
# The int8 model: about 1.6× faster than fp32 (detectors/centerface.py).
VIDEO_THRESHOLD = 0.12
VIDEO_MODEL = INT8_MODEL_NAME
# Every this many frames (from the first), the orientation probe looks at the frame (detectors/orient.py):
# about 3% of the detection's time. A video that shows on its side is searched turned upright as well, from
# the frame where the frames seen so far hold more sure faces turned than upright.
PROBE_EVERY = 30
# The plan above, the probe's and the tracker's frame counts are meant for about 30 frames a second. A video of
# STEP_FROM fps or more (a phone's 60, a slow-motion 120 or 240) is searched in steps of round(fps / 30) frames
# (at most MAX_STEP), the same plan in seconds, and the tracker covers the frames between
# (TrackerSettings.stepped): at 60 fps about half the detection (README "Videos": the bench clip at 60 fps).
STEP_FROM = 45
# The tracker's lookahead is in frames, so a longer step holds more frames: 1080p at 60 fps peaked at 1.24 GB
# RSS against 1.15 GB at 30 fps on the bench clips. At most 4 (120 fps and more are searched at least 30 times a
# second), so that slow motion at 240 fps holds about 80 frames, not 160.
MAX_STEP = 4
_QUEUE = 4  # frames waiting between two stages
_POLL = 0.1  # seconds between checks that the other stages are still alive


def is_video(path: Path) -> bool:
    """Whether a file goes through the video path: a video suffix, or a GIF with more than one frame."""
    suffix = path.suffix.lower()
    container = formats.video_for_suffix(suffix)
    if container is None:
        return False
    return not container.animated_only or is_animated_gif(path)


def video_detector(threshold: float | None = None) -> Detector:
    """The detector for videos: a single pass, run by the pipeline at full or reduced resolution per frame."""
    return CenterFace(threshold=threshold or VIDEO_THRESHOLD, model=VIDEO_MODEL)


def describe_video(video: VideoOptions, threshold: float | None) -> dict[str, object]:
    """The video settings as they will run, for the report."""
    return {
        "codec": video.codec or "h264 (gif for an animated GIF)",
        "crf": video.crf,
        "audio": "copied" if video.audio else "dropped",
        **({"voice": voices.describe(video.voice)} if video.audio else {}),
        "detector": {"model": VIDEO_MODEL, "threshold": threshold or VIDEO_THRESHOLD},
        "full_resolution_every": video.full_every if video.plan.full_resolution else None,
        "searched_every": video.plan.search_every or video.search_every,
        "orientation_probe": {"model": PROBE_MODEL, "every": PROBE_EVERY, "long_side": PROBE_LONG_SIDE},
        "reduced_resolution_pixels": REDUCED_PIXELS,
        "tracker": asdict(video.tracker),
        "frame_step": f"1 under {STEP_FROM} fps, else round(fps / 30) (at most {MAX_STEP}): the plan, the probe and "
        "the tracker's frame counts are in steps of that many frames, only the first of each searched",
    }


def frame_step(rate: float | None) -> int:
    """Frames per search step for a video of `rate` frames a second (VideoReader.steady_rate): 1 under STEP_FROM,
    else about 30 a second."""
    if rate is None or not math.isfinite(rate) or rate < STEP_FROM:
        return 1
    return min(MAX_STEP, round(rate / 30))


def detection_scale(width: int, height: int, index: int, video: VideoOptions, step: int = 1) -> float | None:
    """The scale frame `index` is searched at (None: not searched, the tracker covers it): 1 on every
    `full_every`-th step, reduced on every `search_every`-th of the others; only the first frame of each step of
    `step` frames is searched. A small video, and every step the orientation probe looks at, is searched in
    every step."""
    if index % step:
        return None
    index //= step
    low = math.sqrt(REDUCED_PIXELS / (width * height))
    plan = video.plan
    if low > 0.8 or (plan.full_resolution and index % video.full_every == 0):
        return 1.0
    every = plan.search_every or video.search_every
    if index % every and index % PROBE_EVERY:
        return None
    return low


@dataclass
class _Item:
    index: int
    pixels: np.ndarray | None  # working pixels; None for the audio that follows the last frame
    pts: int = 0
    duration: int = 0
    audio: list = field(default_factory=list)
    detect: np.ndarray | None = None  # the upright RGB image for the detector
    turns: int = 0  # quarter turns counter-clockwise that show the frame upright
    start: tuple[Colours, list[int] | None] | None = None  # the first frame's colours and display matrix


_END = object()
_NO_PIXELS = np.zeros(0, np.uint8)  # a frame searched and not written (search_video)
# What the writer calls on the finished temporary file, with the regions obscured in each frame, the frames per
# search step (the check samples in steps too) and what the voices got.
_Check = Callable[[Path, Regions, int, Prepared | None], None]
# Where search_video hands each frame: its index, the boxes a run covers in it (stored frame's pixels), the track
# id of each box, and the quarter turns that show the frame upright.
Sink = Callable[[int, Faces, np.ndarray, int], None]


class Decided(Protocol):
    """What to cover in each frame instead of detecting (video_decisions.Plan); raises to refuse the video."""

    def faces(self, index: int, turns: int, width: int, height: int) -> Faces: ...

    def end(self, frames: int) -> None: ...


@dataclass(frozen=True)
class Searched:
    """What search_video saw of a video."""

    width: int  # of the stored frames
    height: int
    frames: int
    fps: float
    tracks: list[dict[str, object]]  # the tracker's summaries


def process_video(
    job: Job,
    detector: Detector | None,
    options: PhotoOptions,
    video: VideoOptions | None = None,
    verifier: Verifier | None = None,
    decided: Decided | None = None,
    silence: Sequence[Span] = (),
) -> FileReport:
    """Never raises for a problem with this one video: the report says what went wrong, in one line.

    With `options.verify`, the written file is decoded and checked before it is published under its final
    name (with `verifier`'s detector, when given, reused across files). With `decided`, no frame is searched:
    each gets what `decided` says obscured (and `detector` may be None). The spans in `silence` (seconds on
    the players' clock) are silenced in every audio stream.
    """
    video = video or VideoOptions()

    def work(record: Record) -> Done:
        check = _checker(options, video, verifier, record)
        target, (width, height), tracks, heard = _run(job, detector, options, video, check, decided, silence)
        return Done(target, width, height, tracks, *voices.outcome(heard))

    return run_file(job, work)


def search_video(job: Job, detector: Detector, options: PhotoOptions, video: VideoOptions, sink: Sink) -> Searched:
    """Decode, detect and track as `process_video` does, handing `sink` every frame's boxes in order; nothing
    is written. Raises for a problem with the video (run it inside runner.run_file)."""
    reader = VideoReader(job.source, False, options.max_pixels)
    try:
        pipeline = _Pipeline(reader, None, detector, options, video, sink=sink)
        tracker = pipeline.run()
        return Searched(reader.width, reader.height, pipeline.frames, float(reader.rate), tracker.summaries())
    finally:
        reader.close()


def _checker(options: PhotoOptions, video: VideoOptions, verifier: Verifier | None, record: Record) -> _Check | None:
    """The residual check on the finished temporary file (None with --no-verify); under --strict it refuses
    an output with a residual."""
    if not options.verify:
        return None
    detector = verifier.detector if verifier is not None else residual_detector()

    def check(written: Path, regions: Regions, step: int, heard: Prepared | None) -> None:
        def run(path: Path) -> Checked:
            with _bar(video, len(regions), "checking") as bar:
                most = video.plan.check_pixels
                found = check_video(path, regions, detector, options.grow, bar.update, CHECK_EVERY * step, most)
            voiced = check_voices(path, heard) if heard is not None else VoiceCheck()
            problems = [p for p in (None if found.clean else found.problem(), voiced.problem()) if p]
            return Checked(found.to_list() + voiced.found, None, "; ".join(problems) or None)

        checker(run, options.strict, record)(written)

    return check


def _bar(video: VideoOptions, total: int | None, what: str) -> tqdm:
    """A progress bar over frames on stderr, when asked for and stderr is a terminal."""
    from tqdm import tqdm  # imported when a video is done, not by every run of the command

    show = video.progress and sys.stderr.isatty()
    return tqdm(total=total, desc=what, unit="frame", disable=not show, leave=False, file=sys.stderr)


def _run(
    job: Job,
    detector: Detector | None,
    options: PhotoOptions,
    video: VideoOptions,
    check: _Check | None,
    decided: Decided | None,
    silence: Sequence[Span] = (),
) -> tuple[Path, tuple[int, int], list[dict[str, object]], Prepared | None]:
    # The planned name may carry a photo format's suffix (a GIF is planned as PNG): a video keeps its own.
    planned = job.target.with_suffix(job.source.suffix)
    target, muxer, codec = output_plan(planned, job.source.suffix, video.codec)
    if target.exists() and not options.overwrite:
        raise NameTaken(display(target))
    reader = VideoReader(job.source, video.audio, options.max_pixels)
    try:
        heard = voices.prepare(job.source, video.voice, silence) if video.audio else None
        writer = VideoWriter(target, muxer, codec, video.crf, options.overwrite, heard.plan if heard else None)
        try:
            pipeline = _Pipeline(reader, writer, detector, options, video, decided)
            tracker = pipeline.run()
            # Every frame and audio packet is read: the input's index (FFmpeg holds an MP4's whole, 5-6 KiB per
            # second of video) is freed before the check reads the output's.
            reader.close()
            steps = pipeline.search_step
            published = writer.finish(None if check is None else lambda tmp: check(tmp, pipeline.regions, steps, heard))
            return published, (reader.width, reader.height), tracker.summaries(), heard
        except BaseException:
            writer.abort()
            raise
    finally:
        reader.close()


class _Pipeline:
    def __init__(
        self,
        reader: VideoReader,
        writer: VideoWriter | None,  # None: search only, every frame's boxes handed to `sink`
        detector: Detector | None,
        options: PhotoOptions,
        video: VideoOptions,
        decided: Decided | None = None,  # what to cover instead of detecting
        sink: Sink | None = None,
    ) -> None:
        self.reader, self.writer, self.detector = reader, writer, detector
        self.options, self.video, self.decided, self.sink = options, video, decided, sink
        self.frames = 0  # decoded so far
        self.decoded: queue.Queue = queue.Queue(_QUEUE)
        self.obscured: queue.Queue = queue.Queue(_QUEUE)
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.regions = Regions()  # what was obscured in each frame written, for the check on the output
        self.orientation = Orientation(Probe())  # which way up the frames are, once rotation is applied
        self.search_step = frame_step(reader.steady_rate)  # frames per search step

    def run(self) -> Tracker:
        with _bar(self.video, self.reader.frame_count or None, "") as bar:
            threads = [
                threading.Thread(target=self._guard, args=(self._read,), daemon=True),
                threading.Thread(target=self._guard, args=(self._write, bar.update), daemon=True),
            ]
            for thread in threads:
                thread.start()
            try:
                tracker = self._detect_all(threads[1])
            finally:
                self.stop.set()
                for thread in threads:
                    thread.join()
        if self.errors:
            raise self.errors[0]
        stop.check()  # stopped while waiting on the other stages: what was written is not the whole video
        return tracker

    def _guard(self, work: Callable, *args: object) -> None:
        try:
            work(*args)
        except _Stopped:
            pass  # another stage failed first: its error is the one to report
        except BaseException as error:  # handed to the calling thread, which reports it
            self.errors.append(error)
            self.stop.set()

    def _put(self, where: queue.Queue, item: object) -> None:
        while not self.stop.is_set() and not stop.requested():
            try:
                where.put(item, timeout=_POLL)
                return
            except queue.Full:
                continue
        raise _Stopped

    def _get(self, where: queue.Queue) -> object:
        while True:
            try:
                return where.get(timeout=_POLL)
            except queue.Empty:
                if self.stop.is_set() or stop.requested():
                    raise _Stopped from None

    # --- the three stages ---------------------------------------------------------------------------------

    def _read(self) -> None:
        step = max(1, round(1 / (self.reader.rate * self.reader.time_base)))
        last_pts: int | None = None
        for decoded in self.reader:
            item = self._prepare(decoded, last_pts, step)
            last_pts = item.pts
            self._put(self.decoded, item)
        self._put(self.decoded, _END)

    def _prepare(self, decoded: Demuxed, last_pts: int | None, step: int) -> _Item:
        frame = decoded.frame
        if frame is None:
            return _Item(decoded.index, None, audio=decoded.audio)
        # Raw streams carry no timestamps: number the frames at the stream's rate.
        pts = frame.pts if frame.pts is not None else (0 if last_pts is None else last_pts + step)
        scale = detection_scale(frame.width, frame.height, decoded.index, self.video, self.search_step)
        pixels = _NO_PIXELS if self.writer is None else working_pixels(frame, self.writer.working_format)
        item = _Item(decoded.index, pixels, pts, frame.duration or step)
        item.audio, item.turns = decoded.audio, rotation(frame)
        item.detect = None if self.decided is not None or scale is None else upright_rgb(frame, scale)
        if decoded.index == 0 and self.writer is not None:
            tagged = frame if frame.format.name in ("yuv420p", "yuvj420p") else frame.reformat(format="yuv420p")
            item.start = (colours(tagged), display_matrix(frame))
        return item

    def _detect_all(self, writer_thread: threading.Thread) -> Tracker:
        tracker = Tracker(self.video.tracker.stepped(self.search_step))
        held: dict[int, _Item] = {}
        try:
            while (item := self._get(self.decoded)) is not _END:
                assert isinstance(item, _Item)
                stop.check()  # Ctrl-C: between two frames, where stopping leaves nothing half done
                if item.pixels is None:  # the audio after the last frame: it goes out last
                    held[-1] = item
                    continue
                self.frames = item.index + 1
                if self.decided is not None:  # no detection, no tracking: the frame goes straight on
                    faces = self.decided.faces(item.index, item.turns, self.reader.width, self.reader.height)
                    self._put(self.obscured, (item, faces, None))
                    continue
                faces = self._faces(item)
                item.detect = None  # not needed any more: keep the held frames small
                held[item.index] = item
                for index, boxes, ids in tracker.push_tracked(item.index, faces):
                    self._put(self.obscured, (held.pop(index), boxes, ids))
            for index, boxes, ids in tracker.flush_tracked():
                self._put(self.obscured, (held.pop(index), boxes, ids))
            if self.decided is not None:
                self.decided.end(self.frames)
            if -1 in held:
                self._put(self.obscured, (held.pop(-1), Faces(), None))
            self._put(self.obscured, _END)
            writer_thread.join()
        except _Stopped:
            pass  # another stage failed; its error is raised by run()
        return tracker

    def _faces(self, item: _Item) -> Faces:
        """Detections on the upright (maybe reduced) image, in the stored frame's pixels; none in a frame that
        is not searched."""
        assert self.detector is not None
        if item.detect is None:
            return Faces()
        width, height = self.reader.width, self.reader.height
        upright_w, upright_h = turned_size(width, height, item.turns)
        if item.index % (PROBE_EVERY * self.search_step) == 0:
            self.orientation.observe(item.detect)
        found = also_turned(self.detector, item.detect, self.detector(item.detect), self.orientation.quarter_turns)
        found = found.scaled(upright_w / item.detect.shape[1], upright_h / item.detect.shape[0])
        return found.unturned(item.turns, width, height).clipped(width, height)

    def _write(self, progress: Callable[[int], object]) -> None:
        while (message := self._get(self.obscured)) is not _END:
            item, faces, ids = cast(tuple[_Item, Faces, "np.ndarray | None"], message)
            try:
                self._write_one(item, faces, ids)
            except av.FFmpegError as error:
                raise VideoWriteError(f"encoding failed at frame {item.index + 1}: {reason(error)}") from None
            if item.pixels is not None:
                progress(1)

    def _write_one(self, item: _Item, faces: Faces, ids: np.ndarray | None) -> None:
        writer = self.writer
        if writer is None:  # searched only
            if item.pixels is not None and self.sink is not None and ids is not None:
                self.sink(item.index, faces, ids, item.turns)
            return
        if item.start is not None and item.pixels is not None:  # the first frame
            height, width = _size(item.pixels, writer.working_format)
            writer.start(self.reader, *item.start, width, height)
        if item.pixels is not None:
            writer.write(self._obscure(writer, item.pixels, faces), item.pts, item.duration)
            self.regions.add(item.index, faces)
        writer.write_audio(item.audio)

    def _obscure(self, writer: VideoWriter, pixels: np.ndarray, faces: Faces) -> np.ndarray:
        if not len(faces):
            return pixels
        o = self.options
        if writer.working_format == "rgb24":
            return obscure(pixels, faces, o.method, o.strength, o.grow)
        height, width = _size(pixels, "yuv420p")
        colours = writer.colours
        assert colours is not None
        # Overlapping regions are painted together, each with only the faces that reach it, and black is written
        # straight into the planes: converting every face's box to RGB and back with every face drawn in it
        # took half as long as detecting on the bench clip (47 ms a frame with 40 faces; now 4.4 ms).
        for (x1, y1, x2, y2), members in _groups(head_boxes(faces, width, height, o.grow)):
            box = (x1 - x1 % 2, y1 - y1 % 2, x2 + x2 % 2, y2 + y2 % 2)  # whole chroma samples
            if box[2] > box[0] and box[3] > box[1]:
                inside = faces[members].shifted(-box[0], -box[1])
                if o.method is Method.SOLID:  # black written straight into the planes
                    mask = region_mask(inside, box[2] - box[0], box[3] - box[1], o.grow)
                    fill_yuv420(pixels, box, mask, colours)
                else:
                    paint_yuv420(pixels, box, _painter(inside, o), colours)
        return pixels


def _groups(boxes: np.ndarray) -> list[tuple[tuple[int, int, int, int], np.ndarray]]:
    """Boxes (x1, y1, x2, y2, ends exclusive) merged into rectangles that no other box overlaps: each with the
    indices of the boxes inside it."""
    rects: list[list[int]] = [[int(v) for v in b] for b in boxes]
    members: list[list[int]] = [[i] for i in range(len(rects))]
    merged = True
    while merged:
        merged = False
        i = 0
        while i < len(rects):
            a = rects[i]
            j = i + 1
            while j < len(rects):
                b = rects[j]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    a[:] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    members[i] += members.pop(j)
                    rects.pop(j)
                    merged = True
                else:
                    j += 1
            i += 1
    return [((r[0], r[1], r[2], r[3]), np.array(m, np.int64)) for r, m in zip(rects, members, strict=True)]


class _Stopped(Exception):
    """Another stage failed or the run was interrupted: this stage ends quietly."""


def _painter(faces: Faces, options: PhotoOptions) -> Callable[[np.ndarray], np.ndarray]:
    return lambda rgb: obscure(rgb, faces, options.method, options.strength, options.grow)


def _size(pixels: np.ndarray, fmt: str) -> tuple[int, int]:
    """(height, width) of working pixels."""
    if fmt == "rgb24":
        return pixels.shape[0], pixels.shape[1]
    return pixels.shape[0] * 2 // 3, pixels.shape[1]
