"""What listening to a video for the review page's speech lane costs beside the face search it runs next to.

A clip is made at run time (never committed): SECONDS of 640×360 at 30 fps, the bundled astronaut moving over a
grey background, and AAC speech from ../shared/data/voices (LibriSpeech, read speech) one recording after
another. Timed once each, one after the other on the same machine: audio/voice.speech_heard (what the review's
Listener runs: decode every audio stream, Silero VAD) and kinds.Videos.search (what the review's worker runs).

    .venv/bin/python bench/review_listen.py [SECONDS]     # 30 s: about two minutes on 2 busy cores
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from unseen.audio.voice import speech_heard  # noqa: E402
from unseen.config import RunConfig, VideoOptions  # noqa: E402
from unseen.kinds import Videos  # noqa: E402
from unseen.paths import Job  # noqa: E402
from unseen.regions import AnyEntry  # noqa: E402

VOICES = ROOT.parent / "shared" / "data" / "voices"
RATE, FPS, SIZE = 48000, 30, (640, 360)


def speech(seconds: float) -> np.ndarray:
    """Recordings one after another, mono float32 at RATE, cut to `seconds`."""
    out: list[np.ndarray] = []
    for path in sorted(VOICES.glob("*.flac")):
        with av.open(str(path)) as container:
            resampler = av.AudioResampler("flt", "mono", RATE)
            out += [f.to_ndarray().reshape(-1) for fr in container.decode(audio=0) for f in resampler.resample(fr)]
        if sum(map(len, out)) >= seconds * RATE:
            break
    return np.concatenate(out)[: round(seconds * RATE)].astype(np.float32)


def make_clip(path: Path, seconds: float) -> None:
    width, height = SIZE
    face = np.asarray(Image.open(ROOT / "sample" / "astronaut.png").convert("RGB").resize((180, 180)))
    sound = speech(seconds)[None, :]
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream("aac", rate=RATE, layout="mono")
        audio.time_base = Fraction(1, RATE)
        done = 0
        for i in range(round(seconds * FPS)):
            image = np.full((height, width, 3), 190, np.uint8)
            x = 40 + (i * 3) % (width - 260)
            image[90:270, x : x + 180] = face
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
            while done + 1024 <= min(sound.shape[1], round((i + 1) / FPS * RATE)):
                piece = av.AudioFrame.from_ndarray(np.ascontiguousarray(sound[:, done : done + 1024]), "fltp", "mono")
                piece.sample_rate, piece.time_base, piece.pts = RATE, Fraction(1, RATE), done
                out.mux(audio.encode(piece))
                done += 1024
        out.mux(video.encode(None))
        out.mux(audio.encode(None))


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    with tempfile.TemporaryDirectory() as folder:
        clip = Path(folder) / "talk.mp4"
        make_clip(clip, seconds)
        load = os.getloadavg()[0]
        start = time.perf_counter()
        heard = speech_heard(clip)
        listened = time.perf_counter() - start
        videos = Videos(RunConfig((clip,), video=VideoOptions()), None)
        found: list[AnyEntry] = []
        start = time.perf_counter()
        report = videos.search(Job(clip, Path(folder) / "out.mp4", None), clip.name, found)
        searched = time.perf_counter() - start
        assert report.status == "done", report.reason
    print(f"clip: {seconds:.0f} s, {SIZE[0]}x{SIZE[1]} at {FPS} fps; load {load:.1f} -> {os.getloadavg()[0]:.1f}")
    print(f"speech heard: {sum(b - a for a, b in heard.spans):.1f} s in {len(heard.spans)} spans")
    print(f"listening (speech_heard): {listened:.2f} s ({seconds / listened:.0f}x real time)")
    print(f"face search (Videos.search): {searched:.2f} s ({seconds / searched:.1f}x real time)")
    print(f"listening / search: {listened / searched:.3f}")


if __name__ == "__main__":
    main()
