"""Clips with sound for the voice tests, made at run time: a small moving picture and AAC (or other) audio
streams of real speech (../shared/data/voices, never committed) over a tone-and-noise background."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import SHARED_DATA

VOICES = SHARED_DATA / "voices"
RATE = 48000


def speech(seconds: float, which: int = 0, rate: int = RATE) -> np.ndarray:
    """Mono float32 speech from the development voices (skips the test where they are absent)."""
    files = sorted(VOICES.glob("*.flac")) if VOICES.is_dir() else []
    if not files:
        pytest.skip(f"no development voices in {VOICES}")
    out: list[np.ndarray] = []
    with av.open(str(files[which % len(files)])) as container:
        resampler = av.AudioResampler("flt", "mono", rate)
        for frame in container.decode(audio=0):
            out.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
    voice = np.concatenate(out)[: round(seconds * rate)]
    return np.pad(voice, (0, max(0, round(seconds * rate) - voice.size))).astype(np.float32)


def background(seconds: float, rate: int = RATE, seed: int = 3) -> np.ndarray:
    """A steady tone and soft noise: sound that is not speech, which `mute` must keep."""
    t = np.arange(round(seconds * rate)) / rate
    rng = np.random.default_rng(seed)
    return (0.05 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


@dataclass
class Sound:
    samples: np.ndarray  # float32 (channels, n)
    codec: str = "aac"
    layout: str = "mono"
    start: float = 0.0  # seconds: the stream's first sample on the file's clock
    rate: int = RATE
    language: str | None = None


def write_clip(
    path: Path, seconds: float, sounds: list[Sound], fps: int = 10, size: tuple[int, int] = (64, 48)
) -> None:
    """A clip of `seconds` with a moving gradient and the given audio streams, interleaved as a camera writes."""
    width, height = size
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        streams = []
        for sound in sounds:
            stream = out.add_stream(sound.codec, rate=sound.rate, layout=sound.layout)
            stream.time_base = Fraction(1, sound.rate)
            if sound.language:
                stream.metadata["language"] = sound.language
            streams.append(stream)
        frames = round(seconds * fps)
        step = 1024
        done = [0] * len(sounds)
        for i in range(frames):
            image = np.zeros((height, width, 3), np.uint8)
            image[..., 0] = (np.arange(width)[None, :] * 4 + i * 3) % 256
            image[..., 1] = 80
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
            for k, (sound, stream) in enumerate(zip(sounds, streams, strict=True)):
                upto = min(sound.samples.shape[1], round(((i + 1) / fps - sound.start) * sound.rate))
                while done[k] + step <= upto:
                    _audio(out, stream, sound, done[k], done[k] + step)
                    done[k] += step
        out.mux(video.encode(None))
        for k, (sound, stream) in enumerate(zip(sounds, streams, strict=True)):
            while done[k] < sound.samples.shape[1]:
                end = min(sound.samples.shape[1], done[k] + step)
                _audio(out, stream, sound, done[k], end)
                done[k] = end
            out.mux(stream.encode(None))


def _audio(
    out: av.container.OutputContainer, stream: av.audio.stream.AudioStream, sound: Sound, a: int, b: int
) -> None:
    planes = np.ascontiguousarray(sound.samples[:, a:b])
    frame = av.AudioFrame.from_ndarray(planes, format="fltp", layout=sound.layout)
    frame.sample_rate, frame.time_base = sound.rate, Fraction(1, sound.rate)
    frame.pts = round(sound.start * sound.rate) + a
    out.mux(stream.encode(frame))


def talking(seconds: float = 6.0, which: int = 0) -> np.ndarray:
    """(1, n): silence-padded speech from 1 s to seconds - 1 over the background."""
    voice = np.zeros(round(seconds * RATE), np.float32)
    said = speech(seconds - 2, which)
    voice[RATE : RATE + said.size] = said
    return (voice + background(seconds))[None, :]


def _boxes(data: bytes, start: int, end: int) -> list[tuple[str, int, int]]:
    found = []
    while start < end:
        size, kind = struct.unpack(">I4s", data[start : start + 8])
        found.append((kind.decode("latin-1"), start, start + size))
        start += size
    return found


def _box(data: bytes, start: int, end: int, path: list[str]) -> list[tuple[int, int]]:
    hits = []
    for kind, a, b in _boxes(data, start, end):
        if kind == path[0]:
            hits += [(a, b)] if len(path) == 1 else _box(data, a + 8, b, path[1:])
    return hits


def empty_audio_packets(path: Path, chunks: tuple[int, ...] = (2, 3)) -> None:
    """Make the last audio packet of each of these chunks (1-based) of an MP4 zero bytes long, as some cameras
    write them: the sample size table says 0, its bytes stay where they were, nothing else moves."""
    data = bytearray(path.read_bytes())
    ((moov_start, moov_end),) = [(a, b) for kind, a, b in _boxes(data, 0, len(data)) if kind == "moov"]
    for a, b in _box(data, moov_start + 8, moov_end, ["trak"]):
        (hdlr, _) = _box(data, a + 8, b, ["mdia", "hdlr"])[0]
        if data[hdlr + 16 : hdlr + 20] != b"soun":
            continue
        (stsc, _) = _box(data, a + 8, b, ["mdia", "minf", "stbl", "stsc"])[0]
        (stsz, _) = _box(data, a + 8, b, ["mdia", "minf", "stbl", "stsz"])[0]
        count = struct.unpack(">I", data[stsc + 12 : stsc + 16])[0]
        runs = [struct.unpack(">III", data[stsc + 16 + 12 * i : stsc + 28 + 12 * i])[:2] for i in range(count)]
        per_chunk = [next(n for first, n in reversed(runs) if first <= chunk) for chunk in range(1, max(chunks) + 1)]
        for chunk in chunks:
            last = sum(per_chunk[:chunk]) - 1  # the chunk's last sample: no later sample's offset depends on it
            struct.pack_into(">I", data, stsz + 20 + 4 * last, 0)
    path.write_bytes(bytes(data))
