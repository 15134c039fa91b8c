"""What --voice costs in a whole video run, and how much memory treating a long sound track takes.

1. Time: a 1080p talking-head clip made here (the bundled astronaut, slowly panned and zoomed, 25 fps, with
   speech from ../shared/data/voices over a soft background, AAC stereo 48 kHz) goes through the `unseen`
   command with --voice keep and --voice disguise (and mute), alternately, --repeats times; wall seconds and the
   ratio to keep are printed.
2. Memory: a clip of --long-minutes (default 10) of 48 kHz stereo AAC sound under a 64×48 picture at 2 fps
   goes through `unseen` with keep, mute and disguise; the peak resident memory of each child process is
   printed (ru_maxrss), beside a run with --no-audio as the floor.

    .venv/bin/python bench/voice_video.py                   # about 10 min on 2 busy cores
    .venv/bin/python bench/voice_video.py --seconds 4 --long-minutes 2 --repeats 1

The clips are made in bench/.work/ (git-ignored) and deleted; the voices are LibriSpeech (CC BY 4.0).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
VOICES = ROOT.parent / "shared" / "data" / "voices"
WORK = ROOT / "bench" / ".work" / "voice_video"
RATE = 48000


def voices(seconds: float) -> np.ndarray:
    """Mono speech from the development voices, recordings one after another, with a pause between them."""
    out: list[np.ndarray] = []
    total = 0
    for path in sorted(VOICES.glob("*.flac")):
        with av.open(str(path)) as container:
            resampler = av.AudioResampler("flt", "mono", RATE)
            for frame in container.decode(audio=0):
                for f in resampler.resample(frame):
                    out.append(f.to_ndarray().reshape(-1))
                    total += f.samples
        out.append(np.zeros(RATE // 2, np.float32))
        total += RATE // 2
        if total >= seconds * RATE:
            break
    if not out:
        sys.exit(f"no voices in {VOICES}")
    return np.concatenate(out)[: round(seconds * RATE)]


def sound(seconds: float) -> np.ndarray:
    """(2, n): speech (a little louder on the left) over a tone and soft noise."""
    n = round(seconds * RATE)
    t = np.arange(n) / RATE
    rng = np.random.default_rng(0)
    speech = voices(seconds)
    speech = np.pad(speech, (0, n - speech.size))
    back = 0.03 * np.sin(2 * np.pi * 220 * t) + 0.005 * rng.standard_normal(n)
    return np.stack([speech + back, 0.8 * speech + back]).astype(np.float32)


def write(path: Path, seconds: float, fps: int, size: tuple[int, int], picture: np.ndarray | None) -> None:
    samples = sound(seconds)
    width, height = size
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps, options={"preset": "veryfast", "crf": "20"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream("aac", rate=RATE, layout="stereo")
        audio.time_base = Fraction(1, RATE)
        done, step = 0, 1024
        for i in range(round(seconds * fps)):
            out.mux(video.encode(_frame(i, fps, width, height, picture)))
            while done + step <= min(samples.shape[1], round((i + 1) / fps * RATE)):
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(samples[:, done : done + step]), "fltp", "stereo"
                )
                frame.sample_rate, frame.pts, frame.time_base = RATE, done, Fraction(1, RATE)
                out.mux(audio.encode(frame))
                done += step
        out.mux(video.encode(None))
        out.mux(audio.encode(None))


def _frame(i: int, fps: int, width: int, height: int, picture: np.ndarray | None) -> av.VideoFrame:
    if picture is None:
        image = np.full((height, width, 3), (i * 7) % 256, np.uint8)
        return _numbered(av.VideoFrame.from_ndarray(image, format="rgb24"), i)
    zoom = 1.0 + 0.1 * i / (fps * 10)
    side = round(height * 0.8 * zoom)
    face = np.asarray(Image.fromarray(picture).resize((side, side)))
    image = np.full((height, width, 3), 60, np.uint8)
    x = (width - side) // 2 + round(40 * np.sin(i / fps))
    y = max(0, (height - side) // 2)
    image[y : y + side, x : x + side] = face[: height - y]
    return _numbered(av.VideoFrame.from_ndarray(image, format="rgb24"), i)


def _numbered(frame: av.VideoFrame, i: int) -> av.VideoFrame:
    frame.pts = i
    return frame


def run(source: Path, out: Path, *extra: str) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (KiB) of one `unseen` run in a child process."""
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "unseen", str(source), "-o", str(out), "-q", *extra]
    script = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(time.perf_counter() - t, u.ru_utime + u.ru_stime, u.ru_maxrss, r.returncode); "
        "sys.stderr.write(r.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", script, *command], capture_output=True, text=True, check=True)
    wall, cpu, rss, code = done.stdout.split()
    if code != "0":
        sys.exit(f"unseen failed: {done.stderr.strip()}")
    return float(wall), float(cpu), int(rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of the 1080p clip")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--long-minutes", type=float, default=10.0)
    parser.add_argument("--only", choices=["time", "memory"], help="run only one of the two measurements")
    parser.add_argument("--settings", nargs="+", default=["keep", "disguise", "mute"], help="timed, in this order")
    args = parser.parse_args()
    env_path = os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    os.environ["PYTHONPATH"] = env_path
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"load before: {os.getloadavg()}, cpus {os.cpu_count()}")
    try:
        if args.only != "memory":
            timed(args)
        if args.only != "time":
            memory(args)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(f"load after: {os.getloadavg()}; children's CPU {used.ru_utime + used.ru_stime:.0f} s")


def timed(args: argparse.Namespace) -> None:
    """The 1080p talking head with each setting, alternately; medians and their ratios to keep."""
    picture = np.asarray(Image.open(ROOT / "sample" / "astronaut.png").convert("RGB"))
    clip = WORK / "talking_1080p.mp4"
    write(clip, args.seconds, 25, (1920, 1080), picture)
    runs: dict[str, list[tuple[float, float, int]]] = {setting: [] for setting in args.settings}
    for _ in range(args.repeats):
        for setting, done in runs.items():
            done.append(run(clip, WORK / f"out-{setting}", "--voice", setting))
            print(
                f"  --voice {setting}: wall {done[-1][0]:.1f} s, CPU {done[-1][1]:.1f} s; load {os.getloadavg()[0]:.1f}"
            )
    wall0, cpu0 = (float(np.median([r[k] for r in runs["keep"]])) for k in (0, 1))
    for setting, done in runs.items():
        wall, cpu = (float(np.median([r[k] for r in done])) for k in (0, 1))
        shown = ", ".join(f"{r[0]:.1f}/{r[1]:.1f}" for r in done)
        print(
            f"1080p {args.seconds:g} s, --voice {setting}: wall/CPU {shown} s; median wall {wall:.1f} s "
            f"({wall / wall0:.3f}× keep), CPU {cpu:.1f} s ({cpu / cpu0:.3f}× keep)"
        )


def memory(args: argparse.Namespace) -> None:
    """The long clip with --no-audio (the floor) and each setting: time and peak memory."""
    long = WORK / "long.mp4"
    write(long, args.long_minutes * 60, 2, (64, 48), None)
    for extra in (["--no-audio"], ["--voice", "keep"], ["--voice", "mute"], ["--voice", "disguise"]):
        wall, cpu, rss = run(long, WORK / "out-long", *extra)
        print(
            f"{args.long_minutes:g} min stereo 48 kHz, {' '.join(extra)}: wall {wall:.1f} s, CPU {cpu:.1f} s, "
            f"peak RSS {rss / 1024:.0f} MiB"
        )


if __name__ == "__main__":
    main()
