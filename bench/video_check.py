"""What the residual check on a written video costs: unseen's video path with and without it, on real faces.

The clip is bench/video.py's (4 WIDER FACE dev images, panned and zoomed, 30 fps, 1080p), cut to --seconds
and also scaled to 720p. Each size runs through `process_video` twice in this process, the check off, then on
(default settings otherwise); the check's own seconds are timed inside the second run. It prints wall and CPU
seconds, the check's share, the frames it looked at and the residuals it reported.

    .venv/bin/python bench/video_check.py              # about 6 min on 2 busy cores
    .venv/bin/python bench/video_check.py --seconds 4  # quicker

WIDER FACE is for non-commercial research: the clips live in bench/.work/ (git-ignored) and are deleted.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import video as bench_video
from protect import DEFAULT_DATA, git_commit, machine_info

from unseen.paths import Job
from unseen.photo import Options
from unseen.verify import video_check as check_module
from unseen.video import VideoOptions, process_video, video_detector


def scaled(source: Path, target: Path, height: int) -> Path:
    """The clip at another size, encoded as the original was (CRF 16, veryfast), without audio."""
    with av.open(str(source)) as src, av.open(str(target), "w") as out:
        stream = out.add_stream("libx264", rate=bench_video.FPS)
        width = round(src.streams.video[0].width * height / src.streams.video[0].height / 2) * 2
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "16", "preset": "veryfast"}
        for frame in src.decode(video=0):
            small = frame.reformat(width, height, "yuv420p", interpolation="AREA")
            small.pts = frame.pts
            out.mux(stream.encode(small))
        out.mux(stream.encode(None))
    return target


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(clip: Path, out: Path, verify: bool) -> tuple[float, float, int]:
    """Wall and CPU seconds of one video through the pipeline, and the residuals reported."""
    wall, used = time.perf_counter(), cpu()
    job = Job(clip, out / clip.name, None)
    report = process_video(job, video_detector(), Options(overwrite=True, verify=verify), VideoOptions())
    assert report.status == "done", report.reason
    return time.perf_counter() - wall, cpu() - used, len(report.residuals)


def timed_check(spent: list[float]) -> None:
    """Time every call of the check, from inside the pipeline."""
    real = check_module.check_video

    def check(*args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        try:
            return real(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            spent.append(time.perf_counter() - started)

    import unseen.video

    unseen.video.check_video = check  # type: ignore[assignment]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--seconds", type=float, default=6.0, help="clip length (default 6 s, 180 frames)")
    args = p.parse_args()
    bench_video.SEGMENT_S = args.seconds / bench_video.IMAGES
    work = bench_video.BENCH_DIR / ".work" / f"video-check-{os.getpid()}"
    work.mkdir(parents=True)
    spent: list[float] = []
    timed_check(spent)
    try:
        gt = bench_video.load_ground_truth(args.data)
        clip = bench_video.make_clip(gt, args.data, bench_video.pick_images(gt, args.data), work / "clip.mp4")
        clips = {"1920×1080": clip.path, "1280×720": scaled(clip.path, work / "clip720.mp4", 720)}
        m = machine_info()
        print(f"{m['cpu']}, {m['nproc']} CPUs; commit {git_commit()}; {clip.frames} frames at 30 fps")
        print("\n| clip | without check | with check | check alone | extra | frames checked | residuals |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, path in clips.items():
            off_wall, off_cpu, _ = run(path, work / "off", False)
            on_wall, on_cpu, residuals = run(path, work / "on", True)
            check_s = spent[-1]
            checked = sum(check_module.sampled(i, clip.frames) for i in range(clip.frames))
            print(
                f"| {name} | {off_wall:.1f} s ({off_cpu:.0f} CPU s) | {on_wall:.1f} s ({on_cpu:.0f} CPU s) | "
                f"{check_s:.1f} s | +{check_s / (on_wall - check_s) * 100:.0f}% | {checked} | {residuals} |",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
