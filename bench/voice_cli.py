"""The voice measurements through the `unseen` command itself, as a judge with videos would take them.

bench/voice.py calls the disguise in-process on decoded halves, with the excerpt it chooses on given as the first
3 s. This bench takes the product's whole path instead: each half of the first --speakers development recordings
is put in a short video (a still grey picture at 2 fps and mono AAC at the recording's 16 kHz, made here in
bench/.work/, deleted after), `unseen FOLDER -o OUT --voice disguise` runs on the folder twice (run 1 and run 2:
the lazy-informed attacker's two runs), and the sound of every input and output is decoded and compared:

- GE2E (unseen's speaker.py), the SE-Res2Net-50 (res2net.py) and the GMM-UBM of bench/voice_metrics.py (its
  background model fitted on the last --dev recordings' halves, as AAC'd originals; its semi-informed model on the
  same halves through `unseen --voice disguise`): EER of the originals, ignorant (enrol original, test run 1),
  lazy (enrol run 2, test run 1), semi (GMM);
- STOI of each run-1 output against its input (aligned by cross-correlation: the container keeps the start time,
  the decoder's priming is not the same for both);
- each file's sound kept to the sample count, and the two runs never alike;
- the command's wall time per run.

The draws are unseen's own (`secrets`): no seed, so two calls of this bench give other figures, as two judges
would. Both neural verifiers take part in the shipped choice (optimistic); the GMM in none.

    PYTHONPATH=src nice -n 10 .venv/bin/python bench/voice_cli.py --speakers 48 --dev 24
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import voice_metrics as vm
from voice import _pool, classical_eers, load, neural_eers

from unseen.audio import res2net, speaker

ROOT = Path(__file__).resolve().parents[1]
VOICES = ROOT.parent / "shared" / "data" / "voices"
WORK = ROOT / "bench" / ".work" / "voice_cli"


def write(path: Path, samples: np.ndarray, rate: int, fps: int = 2, size: tuple[int, int] = (64, 48)) -> None:
    """A video of a still grey picture with `samples` as its mono AAC sound, as long as the sound."""
    width, height = size
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps, options={"preset": "veryfast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream("aac", rate=rate, layout="mono")
        audio.time_base = Fraction(1, rate)
        picture = np.full((height, width, 3), 128, np.uint8)
        done, step = 0, 1024
        for i in range(int(np.ceil(samples.size / rate * fps))):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
            while done < min(samples.size, round((i + 1) / fps * rate)):
                chunk = np.ascontiguousarray(samples[None, done : done + step])
                sound = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                sound.sample_rate, sound.pts, sound.time_base = rate, done, Fraction(1, rate)
                out.mux(audio.encode(sound))
                done += chunk.shape[1]
        out.mux(video.encode(None))
        out.mux(audio.encode(None))


def videos(files: list[Path], folder: Path) -> np.ndarray:
    """Each recording's two halves as videos in `folder` (names keep their order); their speakers."""
    folder.mkdir(parents=True)
    speakers = []
    for i, path in enumerate(files):
        x, rate = load(path)
        middle = len(x) // 2
        for k, half in enumerate((x[:middle], x[middle:])):
            write(folder / f"{i:03d}-{k}.mp4", half, rate)
            speakers.append(path.name.split("-")[0])
    return np.array(speakers)


def disguised(folder: Path, out: Path) -> float:
    """`unseen folder -o out --voice disguise`, its wall seconds; exits with its message if it fails."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "unseen", str(folder), "-o", str(out), "-q", "--voice", "disguise"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"unseen failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return time.perf_counter() - started


def sounds(folder: Path) -> tuple[list[np.ndarray], int]:
    decoded = [load(path) for path in sorted(folder.glob("*.mp4"))]  # the first audio stream, mono, priming and all
    return [x for x, _ in decoded], decoded[0][1]


def aligned(original: np.ndarray, output: np.ndarray, most: int = 4096) -> np.ndarray:
    """`output` moved to line up with `original` (the lag of their envelopes' best match), cut to its length."""
    n = original.size + output.size
    a, b = np.abs(original), np.abs(output)
    corr = np.fft.irfft(np.fft.rfft(b, n) * np.conj(np.fft.rfft(a, n)), n)
    lag = int(np.argmax(np.concatenate([corr[: most + 1], corr[-most:]])))
    lag = lag if lag <= most else lag - (2 * most + 1)
    moved = output[lag:] if lag >= 0 else np.concatenate([np.zeros(-lag, np.float32), output])
    return np.pad(moved, (0, max(0, original.size - moved.size)))[: original.size]


def neural(embed, originals: list, run1: list, run2: list, speakers: np.ndarray, rate: int) -> dict:
    eo, e1, e2 = (np.array([embed(x, rate) for x in r]) for r in (originals, run1, run2))
    return neural_eers(eo, e1, e2, speakers)


def classical(originals, run1, run2, dev, dev_disguised, speakers, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    ubm = vm.fit_ubm(_pool([vm.mfcc(x) for x in dev], rng), np.random.default_rng(seed))
    semi = vm.fit_ubm(_pool([vm.mfcc(x) for x in dev_disguised], rng), np.random.default_rng(seed))
    fo, f1, f2 = ([vm.mfcc(x) for x in r] for r in (originals, run1, run2))
    return classical_eers(ubm, semi, fo, f1, f2, speakers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speakers", type=int, default=48, help="the first N recordings are the test speakers")
    parser.add_argument("--dev", type=int, default=24, help="the last N recordings fit the GMM's background models")
    parser.add_argument("--data", type=Path, default=VOICES)
    parser.add_argument("--seed", type=int, default=2026, help="the GMM's fitting only (unseen draws its own)")
    args = parser.parse_args()
    files = sorted(args.data.glob("*.flac"))
    if len(files) < args.speakers + args.dev:
        parser.error(f"{len(files)} recordings in {args.data}: fewer than --speakers + --dev")
    shutil.rmtree(WORK, ignore_errors=True)
    try:
        return measure(files, args)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


def measure(files: list[Path], args: argparse.Namespace) -> int:
    print(f"{datetime.date.today()} · {platform.node()} · {os.cpu_count()} cores · load {os.getloadavg()[0]:.1f}")
    speakers = videos(files[: args.speakers], WORK / "test")
    videos(files[-args.dev :], WORK / "dev")
    times = [disguised(WORK / "test", WORK / f"run{k}") for k in (1, 2)]
    dev_time = disguised(WORK / "dev", WORK / "dev-run")
    print(
        f"unseen --voice disguise: {times[0]:.0f} s and {times[1]:.0f} s for {len(speakers)} videos, load "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )
    (originals, rate), (run1, _), (run2, _) = (sounds(WORK / d) for d in ("test", "run1", "run2"))
    (dev, _), (dev_disguised, _) = sounds(WORK / "dev"), sounds(WORK / "dev-run")
    kept = sum(o.size == a.size == b.size for o, a, b in zip(originals, run1, run2, strict=True))
    alike = sum(np.array_equal(a, b) for a, b in zip(run1, run2, strict=True))
    print(f"sample counts kept in {kept} of {len(originals)} files; run 1 and run 2 alike in {alike}")
    from pystoi import stoi

    scores = [stoi(o, aligned(o, d), rate) for o, d in zip(originals, run1, strict=True)]
    rows = {
        "GE2E": neural(speaker.embed, originals, run1, run2, speakers, rate),
        "Res2Net": neural(res2net.embed, originals, run1, run2, speakers, rate),
        "GMM": classical(originals, run1, run2, dev, dev_disguised, speakers, args.seed),
    }
    print(f"{args.speakers} speakers ({len(speakers)} halves), GMM background on {args.dev}; dev run {dev_time:.0f} s")
    print("| verifier | originals | ignorant | lazy | semi |\n|---|---|---|---|---|")
    for name, eers in rows.items():
        cells = " | ".join(
            f"{100 * eers[k]:.1f}" if k in eers else "–" for k in ("originals", "ignorant", "lazy", "semi")
        )
        print(f"| {name} | {cells} |")
    print(
        f"STOI (run 1 against its input) mean {np.mean(scores):.2f}, min {np.min(scores):.2f}; "
        f"load at the end {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
