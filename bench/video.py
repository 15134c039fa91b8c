"""Video benchmark: unseen vs deface vs a pure transcode on a synthetic 1080p clip with known face paths.

The clip is made at run time from 4 WIDER FACE DEV images (3 s each at 30 fps: pan and zoom between 1.1× and
2×, with a little hand-held shake, plus an AAC audio track), so every ground-truth face moves along a known
path; a face counts in a frame when at least half of its box is in the frame. Each tool runs once over the
clip, one after the other, in its own process:

* unseen: its video pipeline with default settings, the residual check on the output included (or
  --unseen-args, e.g. "--quality fast" or "--no-verify"; bench/video_check.py times the check alone); given
  more than once, one column for each, "--unseen-args '' --unseen-args '--quality fast'" the default and fast;
* deface 1.5.0 from bench/.venv-deface (made by bench/protect.py's ensure_deface): --replacewith solid
  --keep-audio, CPU provider, and imageio's macro_block_size 1 so that 1080 rows stay 1080 rows;
* transcode: unseen's decode and encode with the same settings, no detection and no check — the ceiling. It
  runs unseen's pipeline with decisions that cover nothing, so no frame is converted for a detector either (before
  2026-12-02 it ran a detector that found nothing, and paid for that conversion: its CPU per frame was 0.048 s
  instead of 0.041, which flattered every share below by about a sixth).

Every output frame is compared with the input frame: a face-frame is protected when ≥70% of its box pixels
changed by >8 in some channel (the rule of bench/protect.py); per face, the longest run of consecutive
exposed frames; collateral as in bench/protect.py (changed pixels farther than one face size from every
face). It prints fps (wall clock, model loading included) and its share of the transcode's, CPU seconds per
frame and the transcode's share of them (steadier than wall time on a shared machine), the load average
before and after each tool, and checks frame count, duration and audio packets against the input.

    .venv/bin/python bench/video.py                     # about 5 min on 2 quiet cores
    .venv/bin/python bench/video.py --skip-deface --unseen-args "" --unseen-args "--quality fast"

WIDER FACE is for non-commercial research: the clip and outputs live in bench/.work/ (git-ignored) and are
deleted after the run unless --keep is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from metrics import CHANGE_TOLERANCE, PROTECTED_FRACTION, GTImage, load_ground_truth
from protect import DEFACE_PROVIDER, DEFAULT_DATA, ensure_deface, git_commit, machine_info, run_timed

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
UNSEEN = REPO_ROOT / ".venv" / "bin" / "unseen"
WIDTH, HEIGHT, FPS = 1920, 1080, 30
SEGMENT_S = 3.0  # seconds of video per WIDER image: 12 s in all, the bench stays under 10 min on 2 cores
IMAGES = 4
SEED = 20250602
AUDIO_RATE = 48_000
PROTECTED = PROTECTED_FRACTION  # share of a face box that must change (bench/protect.py's rule)
MIN_VISIBLE = 0.5  # a face counts in a frame when at least half of its box is inside the frame
# x264 settings shared by the clip, unseen's defaults and the transcode ceiling.
CRF = 18


@dataclass
class Clip:
    path: Path
    frames: int
    # Per frame: face ids and their boxes (x1, y1, x2, y2) clipped to the frame.
    ids: list[np.ndarray] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)


@dataclass
class Result:
    name: str
    wall_s: float
    cpu_s: float  # user + system time of the tool's processes: steadier than wall time on a shared machine
    frames: int
    face_frames: int = 0
    protected: int = 0
    longest_exposed: int = 0
    faces_ever_exposed: int = 0
    collateral: float = 0.0
    audio_identical: bool | None = None
    same_frame_count: bool = False
    duration_s: float | None = None

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s else float("nan")


# --- the clip ---------------------------------------------------------------------------------------------


def pick_images(gt: dict[str, GTImage], data: Path) -> list[str]:
    """Landscape images with 6–40 faces from different events, chosen with a fixed seed."""
    candidates = []
    for name, g in gt.items():
        if 6 <= len(g.boxes) <= 40:
            with Image.open(data / "images" / name) as im:
                if im.height <= 800:
                    candidates.append(name)
    rng = np.random.default_rng(SEED)
    chosen: list[str] = []
    for name in rng.permutation(candidates):
        if all(Path(name).parent != Path(c).parent for c in chosen):
            chosen.append(str(name))
        if len(chosen) == IMAGES:
            break
    return chosen


def camera(segment: int, u: float, t: float, size: tuple[int, int]) -> tuple[float, float, float]:
    """Scale and the image point at the frame centre at segment progress u in [0, 1] (time t in seconds)."""
    w, h = size
    ease = u * u * (3 - 2 * u)
    zoom_in = segment % 2 == 0
    scale = 1.1 + 0.9 * (ease if zoom_in else 1 - ease)
    x0, x1 = (0.35, 0.65) if zoom_in else (0.65, 0.35)
    cx = w * (x0 + (x1 - x0) * ease) + 6 * np.sin(2 * np.pi * 0.7 * t)  # hand-held shake
    cy = h * (0.42 + 0.16 * ease) + 5 * np.sin(2 * np.pi * 1.1 * t + 1)
    return scale, cx, cy


def frame_at(image: np.ndarray, scale: float, cx: float, cy: float) -> tuple[np.ndarray, np.ndarray]:
    matrix = np.array([[scale, 0, WIDTH / 2 - scale * cx], [0, scale, HEIGHT / 2 - scale * cy]], np.float64)
    frame = cv2.warpAffine(image, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR, borderValue=(96, 96, 96))
    return frame, matrix


def visible_boxes(boxes: np.ndarray, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices and clipped boxes of the faces at least MIN_VISIBLE inside the frame."""
    s, tx, ty = matrix[0, 0], matrix[0, 2], matrix[1, 2]
    x1, y1 = boxes[:, 0] * s + tx, boxes[:, 1] * s + ty
    xyxy = np.stack([x1, y1, x1 + boxes[:, 2] * s, y1 + boxes[:, 3] * s], axis=1)
    clipped = np.clip(xyxy, 0, [WIDTH, HEIGHT, WIDTH, HEIGHT])
    area = (xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1])
    seen = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    keep = seen >= MIN_VISIBLE * area
    whole = np.concatenate([np.floor(clipped[:, :2]), np.ceil(clipped[:, 2:])], axis=1)  # never empty
    return np.nonzero(keep)[0], whole[keep].astype(np.int64)


def make_clip(gt: dict[str, GTImage], data: Path, names: list[str], path: Path) -> Clip:
    clip = Clip(path, 0)
    per_segment = round(SEGMENT_S * FPS)
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.options = {"crf": "16", "preset": "veryfast"}
        audio = out.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
        for segment, name in enumerate(names):
            with Image.open(data / "images" / name) as im:
                image = np.asarray(im.convert("RGB"))
            for k in range(per_segment):
                t = clip.frames / FPS
                frame, matrix = frame_at(image, *camera(segment, k / (per_segment - 1), t, image.shape[1::-1]))
                ids, boxes = visible_boxes(gt[name].boxes.astype(np.float64), matrix)
                clip.ids.append(ids + 1000 * segment)
                clip.boxes.append(boxes)
                vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
                vf.pts = clip.frames
                out.mux(video.encode(vf))
                clip.frames += 1
        out.mux(video.encode(None))
        write_audio(out, audio, clip.frames / FPS)
    return clip


def write_audio(out: av.container.OutputContainer, stream: av.audio.stream.AudioStream, seconds: float) -> None:
    """A quiet chord with some noise: real AAC packets whose bytes must survive unchanged."""
    rng = np.random.default_rng(SEED)
    step = 1024
    for start in range(0, int(seconds * AUDIO_RATE), step):
        t = (start + np.arange(step)) / AUDIO_RATE
        tone = 0.1 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.sin(2 * np.pi * 660 * t)
        samples = np.stack([tone, tone]) + 0.01 * rng.standard_normal((2, step))
        frame = av.AudioFrame.from_ndarray(samples.astype(np.float32), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = AUDIO_RATE, start, Fraction(1, AUDIO_RATE)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


# --- running the tools --------------------------------------------------------------------------------------


LOADS: dict[str, tuple[float, float]] = {}  # each run's 1-minute load average before and after it


def timed(command: list[str], log: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one run (its child processes included)."""
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = run_timed(command, log)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LOADS[log.stem] = (load, os.getloadavg()[0])
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run_unseen(
    clip: Path, out_dir: Path, work: Path, extra: list[str], transcode: bool = False
) -> tuple[Path, float, float]:
    """The unseen command in its own process (model loading included, as for deface); for the transcode ceiling,
    the same video pipeline with a detector that finds nothing."""
    if transcode:
        command = [sys.executable, str(Path(__file__)), "_unseen", str(clip), str(out_dir), "--", *extra]
    else:
        command = [str(UNSEEN), str(clip), "-o", str(out_dir), "--quiet", "--overwrite", "--crf", str(CRF), *extra]
    name = "transcode" if transcode else out_dir.name
    return (out_dir / clip.name, *timed(command, work / f"{name}.log"))


def run_deface(clip: Path, work: Path) -> tuple[Path, float, float]:
    exe = ensure_deface()
    out = work / "deface" / clip.name
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [
        str(exe),
        str(clip),
        "-o",
        str(out),
        "--keep-audio",
        "--replacewith",
        "solid",
        "--execution-provider",
        DEFACE_PROVIDER,
        # Without this imageio stretches 1080 rows to 1088 (a multiple of 16): frames could not be compared.
        "--ffmpeg-config",
        json.dumps({"codec": "libx264", "macro_block_size": 1}),
    ]
    return (out, *timed(command, work / "deface.log"))


class _Nothing:
    """What a decided run covers (video.Decided): nothing, so that no frame is converted for a detector."""

    def faces(self, index: int, turns: int, width: int, height: int) -> object:
        from unseen.faces import Faces

        return Faces()

    def end(self, frames: int) -> None:
        pass


def unseen_child(argv: list[str]) -> int:
    """`bench/video.py _unseen CLIP OUT_DIR -- [--crf N]`: unseen's video path deciding to cover nothing: decode
    and encode as the command does them, with no frame converted for a detector: the ceiling for its speed."""
    sys.path.insert(0, str(REPO_ROOT / "src"))
    from unseen.paths import Job
    from unseen.photo import Options
    from unseen.video import VideoOptions, process_video

    clip, out_dir, *rest = argv
    extra = argparse.ArgumentParser(prog="_unseen")
    extra.add_argument("--crf", type=int, default=CRF)
    settings, _ = extra.parse_known_args(rest[rest.index("--") + 1 :] if "--" in rest else [])
    video = VideoOptions(crf=settings.crf)
    target = Path(out_dir) / Path(clip).name
    options = Options(overwrite=True, verify=False)  # the ceiling: no residual check on the output either
    report = process_video(Job(Path(clip), target, None), None, options, video, decided=_Nothing())
    print(json.dumps({k: v for k, v in report.__dict__.items() if k != "faces"}))
    return 0 if report.status == "done" else 1


# --- scoring ----------------------------------------------------------------------------------------------


def rgb_frames(path: Path) -> Iterator[np.ndarray]:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")


@dataclass
class Exposure:
    """Per-face runs of consecutive exposed frames, in one output."""

    run: dict[int, int] = field(default_factory=dict)
    longest: dict[int, int] = field(default_factory=dict)
    far_changed: int = 0
    far_total: int = 0
    frames: int = 0

    def add(self, result: Result, ids: np.ndarray, protected: np.ndarray) -> None:
        result.face_frames += len(ids)
        result.protected += int(protected.sum())
        present = set(ids.tolist())
        for face in set(self.run) - present:
            self.run[face] = 0  # out of frame: a new run starts when it comes back
        for face, ok in zip(ids.tolist(), protected.tolist(), strict=True):
            self.run[face] = 0 if ok else self.run.get(face, 0) + 1
            self.longest[face] = max(self.longest.get(face, 0), self.run[face])


def score_all(clip: Clip, runs: dict[str, tuple[Path, float, float]]) -> list[Result]:
    """Every output against the input, frame by frame, in one pass over the input."""
    results = {name: Result(name, wall, cpu, clip.frames) for name, (_, wall, cpu) in runs.items()}
    tallies = {name: Exposure() for name in runs}
    outputs = {name: rgb_frames(path) for name, (path, _, _) in runs.items()}
    for i, before in enumerate(rgb_frames(clip.path)):
        boxes = clip.boxes[i]
        far = ~far_mask(boxes)
        far_total = int(np.count_nonzero(far))
        for name, frames in outputs.items():
            after = next(frames, None)
            if after is None:
                continue  # a missing frame counts as exposed: nothing is added for it
            tally = tallies[name]
            tally.frames += 1
            changed = cv2.absdiff(before, after).max(axis=2) > CHANGE_TOLERANCE  # metrics.changed_mask, faster
            tally.add(results[name], clip.ids[i], box_shares(changed, boxes) >= PROTECTED)
            tally.far_changed += int(np.count_nonzero(changed & far))
            tally.far_total += far_total
    for name, (path, _, _) in runs.items():
        result, tally = results[name], tallies[name]
        extra = sum(1 for _ in outputs[name])
        result.same_frame_count = tally.frames == clip.frames and extra == 0
        result.longest_exposed = max(tally.longest.values(), default=0)
        result.faces_ever_exposed = sum(1 for v in tally.longest.values() if v)
        result.collateral = tally.far_changed / max(tally.far_total, 1)
        result.audio_identical = audio_packets(clip.path) == audio_packets(path)
        result.duration_s = duration(path)
    return list(results.values())


def box_shares(changed: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Share of changed pixels in each (clipped, non-empty) box."""
    return np.array([changed[y1:y2, x1:x2].mean() for x1, y1, x2, y2 in boxes], np.float64).reshape(-1)


def far_mask(boxes: np.ndarray) -> np.ndarray:
    """Pixels within one face size of some face (bench/protect.py's collateral rule)."""
    mask = np.zeros((HEIGHT, WIDTH), bool)
    for x1, y1, x2, y2 in boxes:
        s = max(x2 - x1, y2 - y1)
        mask[max(0, y1 - s) : y2 + s, max(0, x1 - s) : x2 + s] = True
    return mask


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return []
        return [bytes(p) for p in container.demux(audio=0) if p.size]


def duration(path: Path) -> float | None:
    with av.open(str(path)) as container:
        return container.duration / 1e6 if container.duration else None


# --- report -----------------------------------------------------------------------------------------------


def table(results: list[Result], clip: Clip) -> str:
    base = next((r for r in results if r.name == "deface"), None)
    ceiling = next((r for r in results if r.name == "transcode"), None)
    rows = [
        ("fps", lambda r: f"{r.fps:.2f}"),
        ("fps vs deface", lambda r: f"{r.fps / base.fps:.2f}×" if base else "—"),
        ("fps share of transcode", lambda r: f"{r.fps / ceiling.fps * 100:.0f}%" if ceiling else "—"),
        ("CPU s per frame", lambda r: f"{r.cpu_s / r.frames:.3f}"),
        ("transcode's CPU s as a share", lambda r: f"{ceiling.cpu_s / r.cpu_s * 100:.0f}%" if ceiling else "—"),
        ("load before → after", lambda r: "{:.1f} → {:.1f}".format(*LOADS.get(r.name, (float("nan"),) * 2))),
        ("CPU vs deface", lambda r: f"{base.cpu_s / r.cpu_s:.2f}× less" if base else "—"),
        ("face-frames protected %", lambda r: f"{r.protected / max(r.face_frames, 1) * 100:.2f}"),
        ("longest exposed run (frames)", lambda r: str(r.longest_exposed)),
        ("faces ever exposed", lambda r: str(r.faces_ever_exposed)),
        ("collateral %", lambda r: f"{r.collateral * 100:.2f}"),
        ("frame count equal", lambda r: "yes" if r.same_frame_count else "NO"),
        ("duration s", lambda r: f"{r.duration_s:.3f}" if r.duration_s is not None else "—"),
        ("audio packets identical", lambda r: "yes" if r.audio_identical else "NO"),
    ]
    faces = len({int(i) for ids in clip.ids for i in ids})
    lines = [
        f"Clip: {clip.frames} frames {WIDTH}×{HEIGHT} @ {FPS} fps, {faces} faces, "
        f"{sum(len(b) for b in clip.boxes)} face-frames",
        "",
        "| | " + " | ".join(r.name for r in results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    lines += [f"| {label} | " + " | ".join(cell(r) for r in results) + " |" for label, cell in rows]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="WIDER subset dir (default: %(default)s)")
    p.add_argument("--skip-deface", action="store_true", help="do not run deface")
    p.add_argument("--keep", action="store_true", help="keep the work dir (bench/.work/video-*)")
    p.add_argument(
        "--unseen-args",
        action="append",
        help="extra options for unseen, e.g. '--quality fast'; again for another unseen column (default: none)",
    )
    p.add_argument("--json", type=Path, help="also write the results as JSON here")
    p.add_argument(
        "--fps", type=int, default=FPS, help="frames a second of the clip, the same motion (default: %(default)s)"
    )
    p.add_argument("--size", default=f"{WIDTH}x{HEIGHT}", help="the clip's WIDTHxHEIGHT (default: %(default)s)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_unseen"]:
        return unseen_child(argv[1:])
    args = parse_args(argv)
    global FPS, WIDTH, HEIGHT
    FPS = args.fps  # the clip's frame times, and the camera's path sampled at them
    WIDTH, HEIGHT = (int(v) for v in args.size.lower().split("x"))  # the clip's frames and the scoring's masks
    gt = load_ground_truth(args.data)
    work = BENCH_DIR / ".work" / f"video-{dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}"
    work.mkdir(parents=True)
    try:
        names = pick_images(gt, args.data)
        print(f"making the clip from {', '.join(names)}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        clip = make_clip(gt, args.data, names, work / "clip.mp4")
        print(f"  {clip.frames} frames in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        results = run_all(args, clip, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    m = machine_info()
    print(f"Date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}  ")
    print(f"Machine: {m['cpu']}, {m['nproc']} CPUs  ")
    columns = ", ".join(repr(a) for a in args.unseen_args or [""])
    print(f"Repo commit: {git_commit()}; PyAV {av.__version__}; unseen args per column: {columns}")
    print()
    print(table(results, clip))
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=2) + "\n")
    return 0


def run_all(args: argparse.Namespace, clip: Clip, work: Path) -> list[Result]:
    """Each tool once, one after the other (so that none slows another), then all outputs scored."""
    variants = args.unseen_args or [""]
    runs = {}
    for number, variant in enumerate(variants):
        name = "unseen" + (f" {variant}" if variant else "")
        out_dir = work / (f"unseen-{number}" if number else "unseen")
        out, wall, cpu = run_unseen(clip.path, out_dir, work, variant.split())
        LOADS[name] = LOADS.pop(out_dir.name)
        runs[name] = (out, wall, cpu)
    if not args.skip_deface:
        runs["deface"] = run_deface(clip.path, work)
    runs["transcode"] = run_unseen(clip.path, work / "transcode", work, variants[0].split(), transcode=True)
    print("scoring every frame of every output", file=sys.stderr, flush=True)
    return score_all(clip, runs)


if __name__ == "__main__":
    raise SystemExit(main())
