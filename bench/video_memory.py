"""Streaming memory: peak RSS of the `unseen` command on synthetic clips of 1 and 10 minutes.

Clips are made at run time with PyAV: 30 fps, H.264 (CRF 16, veryfast), 320×180 by default (--size 640x360
also works), over a static colour gradient; the astronaut of sample/astronaut.png (face box
(185, 65, 265, 175) of the 512×512 image, with some head and shoulders around it) is pasted with its face at
1/3 of the frame height and moves on a smooth Lissajous path across the frame; a 440 Hz sine is the AAC audio
track. Each clip is run through the installed command in its own process,
`.venv/bin/unseen CLIP -o OUTDIR --quiet` (default settings: the residual check on the output included), one
clip after the other.

Peak RSS is the child's own: it is started with subprocess.Popen and reaped with os.wait4(pid), whose rusage
is that one child's (with any process it waited for), so ru_maxrss (KiB on Linux) is its high-water mark of
resident memory over the whole run, model loading included, and no earlier child leaks into it (unlike
RUSAGE_CHILDREN, a maximum over every child ever waited for). Its VmRSS is also polled every 0.5 s from
/proc/PID/status: the table gives the polled peak in the first and in the second half of each run, so that
growth within a run shows as well (stderr has the RSS at each tenth). fps is frames / wall seconds of the
command (model loading included). Then the output is decoded next to the input: frame counts must be equal,
and in --samples frames spread over the clip the face box must be covered (≥70% of its pixels changed by >8
in some channel, the rule of bench/protect.py).

    .venv/bin/python bench/video_memory.py                      # about 6 min on 2 busy cores
    .venv/bin/python bench/video_memory.py --size 640x360 --minutes 1 10

No WIDER FACE data is used. Clips and outputs live in bench/.work/ (git-ignored) and are deleted after the
run unless --keep is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from itertools import zip_longest
from pathlib import Path

import av
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from metrics import CHANGE_TOLERANCE, PROTECTED_FRACTION
from protect import git_commit, machine_info

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
UNSEEN = REPO_ROOT / ".venv" / "bin" / "unseen"
SAMPLE = REPO_ROOT / "sample" / "astronaut.png"
FACE = (185, 65, 265, 175)  # x1, y1, x2, y2 of the face in SAMPLE
CONTEXT = 1.8  # the pasted crop: the face box grown this much, so the head has its hair and shoulders
FPS = 30
AUDIO_RATE = 48_000
POLL_S = 0.5


@dataclass(frozen=True)
class Sprite:
    """The pasted crop and the face box inside it (x1, y1, x2, y2)."""

    pixels: np.ndarray
    face: tuple[int, int, int, int]


@dataclass
class Check:
    in_frames: int = 0
    out_frames: int = 0
    covered: int = 0


@dataclass
class Run:
    minutes: float
    frames: int  # as written
    peak_kib: int
    wall_s: float
    trace: list[int]  # VmRSS (KiB) every POLL_S seconds
    check: Check
    sampled: int

    def half_peaks(self) -> tuple[float, float]:
        """Highest polled RSS (MiB) in the first and in the second half of the run."""
        half = len(self.trace) // 2
        return max(self.trace[:half], default=0) / 1024, max(self.trace[half:], default=0) / 1024

    @property
    def ok(self) -> bool:
        return self.check.in_frames == self.check.out_frames == self.frames and self.check.covered == self.sampled

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s


# --- the clip ---------------------------------------------------------------------------------------------


def make_sprite(frame_height: int) -> Sprite:
    """The face of SAMPLE with some context, scaled so that the face is 1/3 of the frame high."""
    x1, y1, x2, y2 = FACE
    cx, cy, half_w, half_h = (x1 + x2) / 2, (y1 + y2) / 2, CONTEXT * (x2 - x1) / 2, CONTEXT * (y2 - y1) / 2
    with Image.open(SAMPLE) as im:
        image = im.convert("RGB")
        box = (round(cx - half_w), max(0, round(cy - half_h)), round(cx + half_w), round(cy + half_h))
        scale = frame_height / 3 / (y2 - y1)
        size = (round((box[2] - box[0]) * scale), round((box[3] - box[1]) * scale))
        pixels = np.asarray(image.crop(box).resize(size, Image.Resampling.LANCZOS))
    fx1, fy1, fx2, fy2 = (round((v - o) * scale) for v, o in zip(FACE, box[:2] * 2, strict=True))
    return Sprite(pixels, (fx1, fy1, fx2, fy2))


def background(width: int, height: int) -> np.ndarray:
    x = np.linspace(0, 1, width)[None, :]
    y = np.linspace(0, 1, height)[:, None]
    rgb = [70 + 100 * x + 0 * y, 90 + 60 * y + 0 * x, 150 - 60 * x * y]
    return np.stack(rgb, axis=2).astype(np.uint8)


def position(index: int, size: tuple[int, int], sprite: Sprite) -> tuple[int, int]:
    """Top-left corner of the sprite at frame `index`: a slow Lissajous path that spans the frame."""
    t = index / FPS
    free_w, free_h = size[0] - sprite.pixels.shape[1], size[1] - sprite.pixels.shape[0]
    x = free_w * (0.5 + 0.5 * np.sin(2 * np.pi * t / 9.0))
    y = free_h * (0.5 + 0.5 * np.sin(2 * np.pi * t / 7.0 + 1.0))
    return round(x), round(y)


def face_box(index: int, size: tuple[int, int], sprite: Sprite) -> tuple[int, int, int, int]:
    x, y = position(index, size, sprite)
    x1, y1, x2, y2 = sprite.face
    return x + x1, y + y1, x + x2, y + y2


def make_clip(path: Path, seconds: float, size: tuple[int, int], sprite: Sprite) -> int:
    """Write the clip; return its frame count. Only one frame is in memory at a time."""
    frames = round(seconds * FPS)
    back = background(*size)
    sh, sw = sprite.pixels.shape[:2]
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        video.options = {"crf": "16", "preset": "veryfast"}
        audio = out.add_stream("aac", rate=AUDIO_RATE, layout="mono")
        for i in range(frames):
            frame = back.copy()
            x, y = position(i, size, sprite)
            frame[y : y + sh, x : x + sw] = sprite.pixels
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            vf.pts = i
            out.mux(video.encode(vf))
        out.mux(video.encode(None))
        write_sine(out, audio, frames / FPS)
    return frames


def write_sine(out: av.container.OutputContainer, stream: av.audio.stream.AudioStream, seconds: float) -> None:
    step = 1024
    for start in range(0, int(seconds * AUDIO_RATE), step):
        t = (start + np.arange(step)) / AUDIO_RATE
        samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = AUDIO_RATE, start, Fraction(1, AUDIO_RATE)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


# --- the measurement --------------------------------------------------------------------------------------


def measure(command: list[str], log: Path) -> tuple[int, float, list[int]]:
    """Peak RSS (KiB) and wall seconds of one child process, from its own rusage (os.wait4), and its VmRSS
    (KiB) polled every POLL_S seconds while it runs."""
    print(f"$ {shlex.join(command)}", file=sys.stderr, flush=True)
    trace: list[int] = []
    with log.open("wb") as fh:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=fh, stderr=subprocess.STDOUT)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            trace += vm_rss(proc.pid)
            time.sleep(POLL_S)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"exit code {proc.returncode}: {shlex.join(command)}\n{tail}")
    deciles = " ".join(f"{trace[len(trace) * k // 10] / 1024:.0f}" for k in range(10)) if trace else "-"
    print(f"  {wall:.1f} s, peak RSS {usage.ru_maxrss / 1024:.0f} MiB; RSS at each tenth: {deciles}", file=sys.stderr)
    return usage.ru_maxrss, wall, trace


def vm_rss(pid: int) -> list[int]:
    """[VmRSS in KiB] of a running process, [] once it is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return []
    return [int(line.split()[1]) for line in lines if line.startswith("VmRSS:")]


def sample_indices(frames: int, count: int) -> set[int]:
    return {int((k + 0.5) * frames / count) for k in range(count)}


def covered(before: np.ndarray, after: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    x1, y1, x2, y2 = box
    diff = np.abs(before[y1:y2, x1:x2].astype(np.int16) - after[y1:y2, x1:x2].astype(np.int16))
    return float((diff.max(axis=2) > CHANGE_TOLERANCE).mean()) >= PROTECTED_FRACTION


def check_output(clip: Path, output: Path, frames: int, size: tuple[int, int], sprite: Sprite, samples: int) -> Check:
    """Input and output decoded side by side: both frame counts, faces covered in the sampled frames."""
    picks = sample_indices(frames, samples)
    check = Check()
    with av.open(str(clip)) as src, av.open(str(output)) as out:
        for i, (before, after) in enumerate(zip_longest(src.decode(video=0), out.decode(video=0))):
            check.in_frames += before is not None
            check.out_frames += after is not None
            if before is not None and after is not None and i in picks:
                box = face_box(i, size, sprite)
                check.covered += covered(before.to_ndarray(format="rgb24"), after.to_ndarray(format="rgb24"), box)
    return check


def run_one(minutes: float, args: argparse.Namespace, work: Path, sprite: Sprite) -> Run:
    clip = work / f"clip-{minutes:g}min.mp4"
    started = time.perf_counter()
    frames = make_clip(clip, minutes * 60, args.size, sprite)
    print(f"made {clip.name}: {frames} frames in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    out_dir = work / f"out-{minutes:g}min"
    command = [str(UNSEEN), str(clip), "-o", str(out_dir), "--quiet", *args.unseen_args.split()]
    peak, wall, trace = measure(command, work / f"unseen-{minutes:g}min.log")
    check = check_output(clip, out_dir / clip.name, frames, args.size, sprite, args.samples)
    if not args.keep:
        shutil.rmtree(out_dir)  # the 10-minute files need not wait for the end of the run
        clip.unlink()
    return Run(minutes, frames, peak, wall, trace, check, args.samples)


# --- report -----------------------------------------------------------------------------------------------


def table(runs: list[Run]) -> str:
    lines = [
        "| clip length | frames | peak RSS (MiB) | polled RSS peak, 1st / 2nd half of run (MiB) | fps "
        "| frames equal | face covered (sampled) |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for r in runs:
        c, (first, second) = r.check, r.half_peaks()
        equal = "yes" if c.in_frames == c.out_frames == r.frames else f"NO ({c.in_frames} in, {c.out_frames} out)"
        lines.append(
            f"| {r.minutes:g} min | {r.frames} | {r.peak_kib / 1024:.0f} | {first:.0f} / {second:.0f} | "
            f"{r.fps:.1f} | {equal} | "
            f"{c.covered}/{r.sampled} |"
        )
    return "\n".join(lines)


def parse_size(text: str) -> tuple[int, int]:
    width, height = (int(v) for v in text.lower().split("x"))
    if width % 2 or height % 2 or height < 90:
        raise argparse.ArgumentTypeError("WIDTHxHEIGHT, both even, height ≥ 90")
    return width, height


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=parse_size, default=(320, 180), help="WIDTHxHEIGHT (default 320x180)")
    p.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0], help="clip lengths (default 1 10)")
    p.add_argument("--samples", type=int, default=8, help="frames checked for a covered face (default 8)")
    p.add_argument("--unseen-args", default="", help="extra options for unseen, e.g. '--full-every 1'")
    p.add_argument("--keep", action="store_true", help="keep the work dir (bench/.work/video-memory-*)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sprite = make_sprite(args.size[1])
    (BENCH_DIR / ".work").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="video-memory-", dir=BENCH_DIR / ".work"))
    try:
        runs = [run_one(minutes, args, work, sprite) for minutes in args.minutes]
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    m = machine_info()
    print(f"Date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}  ")
    print(f"Machine: {m['cpu']}, {m['nproc']} CPUs  ")
    print(f"Repo commit: {git_commit()}; PyAV {av.__version__}; unseen args: {args.unseen_args or '(defaults)'}  ")
    print(f"Clips: {args.size[0]}×{args.size[1]} @ {FPS} fps, H.264 + AAC, one face (1/3 of the frame high)")
    print()
    print(table(runs))
    return 0 if all(r.ok for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
