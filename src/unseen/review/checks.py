"""The residual check on a video's decisions before it is written, so that the timeline can show which frames
still hold a face: the sampled frames (verify/video_check.sampled: every 5th and the last) decoded at full size
as shown, covered as the decisions say (video_decisions.boxes_at, obscure), and looked at by the residual
detector, as the check on a written video does (it runs again then, on the encoded output).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from unseen import stop
from unseen.faces import Detector
from unseen.media.videofile import VideoReader, upright_rgb
from unseen.obscure import obscure
from unseen.photo import Options
from unseen.regions import VideoEntry
from unseen.verify.residual import residuals
from unseen.verify.video_check import sampled
from unseen.video_decisions import boxes_at


def flagged_frames(
    source: Path, entry: VideoEntry, options: Options, detector: Detector, current: Callable[[], bool]
) -> list[int] | None:
    """The sampled frames in which the check still finds a face once `entry`'s decisions cover it; None when
    `current()` turned false (the decisions changed: the answer would be stale) or the run is stopped."""
    flagged: list[int] = []
    reader = VideoReader(source, keep_audio=False, max_pixels=options.max_pixels)
    try:
        for item in reader:
            if item.frame is None or item.index >= entry.frames:
                break
            if not sampled(item.index, entry.frames):
                continue
            if stop.requested() or not current():
                return None
            pixels = upright_rgb(item.frame, 1.0, align=1)
            faces = boxes_at(entry, item.index, options.grow)
            covered = obscure(pixels, faces, options.method, options.strength, options.grow)
            if len(residuals(covered, faces, detector, options.grow)):
                flagged.append(item.index)
    finally:
        reader.close()
    return flagged
