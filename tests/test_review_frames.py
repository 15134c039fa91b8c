"""The review page's frames by number (review/frames.py): exact after any seek, stepping or jump, with the
decoder skipping the frames no other refers to on its way to one far past a keyframe."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from unseen.review.frames import FrameSource

FRAMES = 220
BITS = 8  # the frame's number, drawn as 8 black or white blocks across the frame
BLOCK = 16


def numbered_clip(path: Path) -> None:
    """H.264 with B-frames (x264's defaults) and a keyframe every 100 frames; frame i shows i in binary."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=30)
        video.width, video.height, video.pix_fmt = BITS * BLOCK, 2 * BLOCK, "yuv420p"
        video.options = {"g": "100", "crf": "20"}
        for i in range(FRAMES):
            image = np.full((2 * BLOCK, BITS * BLOCK, 3), 128, np.uint8)
            for bit in range(BITS):
                image[:BLOCK, bit * BLOCK : (bit + 1) * BLOCK] = 255 if i >> bit & 1 else 0
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))


def number_shown(rgb: np.ndarray) -> int:
    top = rgb[: rgb.shape[0] // 2].mean(axis=2)
    width = rgb.shape[1] / BITS
    cells = [top[:, round(bit * width) + 2 : round((bit + 1) * width) - 2].mean() for bit in range(BITS)]
    return sum(1 << bit for bit, value in enumerate(cells) if value > 128)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("frames") / "numbered.mp4"
    numbered_clip(path)
    with av.open(str(path)) as container:
        kinds = {int(frame.pict_type) for frame in container.decode(video=0)}
    assert 3 in kinds  # B-frames (AV_PICTURE_TYPE_B): frames no other refers to: what the decoder skips on its way
    return path


def test_every_frame_is_found_by_number_after_seeks_jumps_and_steps(clip: Path) -> None:
    source = FrameSource(clip, 10**9)
    try:
        order = [150, 3, 149, 151, 152, 60, 219, 0, 120, 121, 119, 100, 99, 101, 199, 30, 218, 75, 76, 74, 160, 1]
        for index in order:
            assert number_shown(source.pixels(index)) == index, index
        fresh = FrameSource(clip, 10**9)  # the JPEGs kept on the way: the same numbers
        try:
            for index in (205, 17, 140, 141, 55):
                assert number_shown(_jpeg_pixels(fresh.jpeg(index))) == index, index
        finally:
            fresh.close()
    finally:
        source.close()


def test_every_frame_in_turn_from_a_far_seek(clip: Path) -> None:
    source = FrameSource(clip, 10**9)
    try:
        assert number_shown(source.pixels(190)) == 190
        for index in range(FRAMES):
            assert number_shown(source.pixels(index)) == index, index
    finally:
        source.close()


def _jpeg_pixels(data: bytes) -> np.ndarray:
    import cv2

    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
