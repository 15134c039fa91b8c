"""The residual check on a written video: decode the output as a player would and look at sampled frames.

The regions obscured in each frame (detections, tracked and extended) are kept while the video is written;
after encoding, the temporary output is decoded through the project's own reader, and the residual detector
(the photos' one: verify/residual.py) runs on every CHECK_EVERY-th frame and on the last. A face it finds that
the frame's regions do not cover is a residual, reported with its frame index and time.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from unseen import stop
from unseen.faces import Detector, Faces
from unseen.media.videofile import VideoReader, VideoReadError, VideoWriteError, rotation, shown_size, upright_rgb
from unseen.obscure import DEFAULT_GROW, region_mask
from unseen.verify.residual import uncovered

# Every 5th frame (and the last) costs about 12% on top of processing, at 1080p as at 720p (bench/video_check.py,
# README "Verification"); every frame would cost about 55% (estimated from the same runs): a checked frame costs
# about half of what processing spends on a frame, at every size tried down to 320×240, so none is cheap enough
# to check in full. An exposure of 5 frames or more
# (1/6 s at 30 fps) is always sampled; a detection is covered for 8 frames either side, so shorter ones are rare.
# A video of 45 fps or more is searched in steps of about 1/30 s (video.frame_step) and checked every 5 steps:
# the same 1/6 s (at 60 fps every 10th frame: on the bench clip made at 60 fps, 61.5 s instead of 70.7).
CHECK_EVERY = 5


def sampled(index: int, frames: int, every: int = CHECK_EVERY) -> bool:
    """Whether frame `index` of `frames` is checked: every `every`-th one from the first, and the last."""
    return index % every == 0 or index == frames - 1


class Regions:
    """The faces obscured in each frame, as written, in flat arrays (about 20 bytes a face and 4 a frame: a
    10-minute clip at 30 fps with 3 faces in every frame keeps about 1.1 MB), not a Python object per frame."""

    def __init__(self) -> None:
        self._ends = array("I")  # per frame: where its faces end in _scores (and, times 4, in _boxes)
        self._boxes = array("f")
        self._scores = array("f")

    def add(self, index: int, faces: Faces) -> None:
        """The faces of frame `index`; frames come in order, each once, as the writer encodes them."""
        if index != len(self._ends):
            raise ValueError(f"regions of frame {index} added after {len(self._ends)} frames")
        self._boxes.frombytes(faces.boxes.tobytes())
        self._scores.frombytes(faces.scores.tobytes())
        self._ends.append(len(self._scores))

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index: int) -> Faces:
        start, end = (self._ends[index - 1] if index else 0), self._ends[index]
        boxes = np.array(self._boxes[4 * start : 4 * end], np.float32).reshape(-1, 4)
        return Faces(boxes, np.array(self._scores[start:end], np.float32))

    @property
    def nbytes(self) -> int:
        return sum(len(a) * a.itemsize for a in (self._ends, self._boxes, self._scores))


@dataclass(frozen=True)
class FrameResiduals:
    """The faces left visible in one checked frame."""

    frame: int  # index in the output, the same as in the input: the writer keeps every frame, in order
    time: float  # seconds, the frame's presentation time in the output
    faces: Faces

    def to_list(self) -> list[dict[str, object]]:
        return [{"frame": self.frame, "time": round(self.time, 3), **f} for f in self.faces.to_list()]


@dataclass(frozen=True)
class VideoVerification:
    """What the residual check found in one written video."""

    checked: int  # frames the detector looked at
    frames: int  # frames in the output
    found: list[FrameResiduals] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.found

    def to_list(self) -> list[dict[str, object]]:
        return [entry for frame in self.found for entry in frame.to_list()]

    def problem(self) -> str:
        """Why the output is not clean, in one line (empty when it is)."""
        if not self.found:
            return ""
        worst = max(self.found, key=lambda f: float(f.faces.scores.max()))
        best = int(np.argmax(worst.faces.scores))
        box = ",".join(str(round(float(v))) for v in worst.faces.boxes[best])
        return (
            f"a face may be left visible in {len(self.found)} of {self.checked} checked frames "
            f"(e.g. frame {worst.frame} at {worst.time:.2f} s, at {box}, score {worst.faces.scores[best]:.2f})"
        )


def check_video(
    path: Path,
    regions: Regions,
    detector: Detector,
    grow: float = DEFAULT_GROW,
    progress: Callable[[int], object] | None = None,
    every: int = CHECK_EVERY,
    most_pixels: int | None = None,
) -> VideoVerification:
    """Decode the written video at `path` and look for faces that `regions` leave visible in sampled frames
    (every `every`-th and the last: video.py passes CHECK_EVERY frames per search step, the same in seconds),
    each shrunk to at most `most_pixels` first (video.py: --quality fast, above 1080p).

    Raises VideoWriteError when the output cannot be decoded to the frames written: then it cannot be checked.
    """
    try:  # no --max-pixels limit: the output is ours, its frames as large as the input's (or one pixel more)
        reader = VideoReader(path, keep_audio=False, max_pixels=sys.maxsize)
    except VideoReadError as error:
        raise VideoWriteError(f"the written video cannot be read back ({error})") from None
    found: list[FrameResiduals] = []
    checked = frames = 0
    try:
        for decoded in reader:
            stop.check()  # Ctrl-C while checking: the output is not published
            if decoded.frame is None:
                break
            frames = decoded.index + 1
            if frames <= len(regions) and sampled(decoded.index, len(regions), every):
                checked += 1
                left = frame_residuals(decoded.frame, regions[decoded.index], detector, grow, most_pixels)
                if len(left):
                    found.append(FrameResiduals(decoded.index, _seconds(decoded.frame, decoded.index, reader), left))
            if progress is not None:
                progress(1)
    except VideoReadError as error:
        raise VideoWriteError(f"the written video cannot be read back ({error})") from None
    finally:
        reader.close()
    if frames != len(regions):  # frames could not be matched to their regions: the check would mean nothing
        raise VideoWriteError(f"the written video decodes to {frames} frames, not the {len(regions)} written")
    return VideoVerification(checked, frames, found)


def frame_residuals(
    frame: av.VideoFrame, obscured: Faces, detector: Detector, grow: float, most_pixels: int | None = None
) -> Faces:
    """The faces `detector` finds in the frame as shown (rotation applied: faces are found upright), shrunk to
    at most `most_pixels`, that the regions obscured in the stored frame leave visible; boxes in the shown
    picture's pixels."""
    pixels = frame.width * frame.height
    scale = min(1.0, math.sqrt(most_pixels / pixels)) if most_pixels else 1.0
    image = upright_rgb(frame, scale, align=1)
    found = detector(image)
    if not len(found):
        return found
    if scale < 1.0:
        shown_w, shown_h = shown_size(frame)
        found = found.scaled(shown_w / image.shape[1], shown_h / image.shape[0])
    # The mask as drawn on the stored frame (whose sides the writer may have padded to even), turned as shown.
    mask = np.rot90(region_mask(obscured, frame.width, frame.height, grow), rotation(frame))
    return uncovered(found, mask)


def _seconds(frame: av.VideoFrame, index: int, reader: VideoReader) -> float:
    """The frame's presentation time; a raw stream has none, and its frames are numbered at its rate."""
    return float(frame.time) if frame.time is not None else float(index / reader.rate)
