"""Audio streams of a video: decoded whole to float samples, and treated samples encoded back into the output.

A video's audio is small beside its pictures (10 minutes of 48 kHz stereo are 230 MB as float32), so each
stream is decoded whole before the video pipeline starts, changed, and then encoded by the video writer in step
with the input's packets (Encoder.until), so that the output interleaves sound and picture as the input did.
The first sample keeps its time on the file's clock, every sample is kept, and a gap between two decoded frames
is filled with silence, so that the sound stays in sync with the picture to the sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from unseen.errors import InputError, OutputError
from unseen.media.videofile import KEPT_AUDIO_TAGS, fallback_audio_codec, open_input

VAD_RATE = 16000  # the voice-activity detector's and the speaker check's rate: mono at 16 kHz
_CHUNK = 4096  # samples handed to an encoder or resampler at a time
_GAP = 0.001  # seconds: a hole between two decoded frames longer than this is filled with silence
# Bit rates for a re-encoded stream whose input does not say its own, per channel.
_DEFAULT_BIT_RATE = {"aac": 96_000, "libopus": 64_000, "libmp3lame": 96_000, "ac3": 96_000, "eac3": 96_000}


class AudioReadError(InputError):
    """An audio stream cannot be decoded; the message says which and where, in one line."""


class AudioWriteError(OutputError):
    """Treated audio cannot be encoded into the output; the message says why, in one line."""


@dataclass
class Track:
    """One audio stream of a file, decoded whole."""

    index: int  # the stream's index in the file
    number: int  # 1 for the file's first audio stream, 2 for the second... (for the user's lines)
    codec: str  # the decoder's name
    rate: int
    layout: str
    bit_rate: int | None
    tags: dict[str, str]  # those of KEPT_AUDIO_TAGS the stream has
    start: float  # seconds on the file's clock of the first sample
    samples: np.ndarray  # float32 (channels, n); (channels, 0) when only listened to
    frames: int = 0  # samples in the stream
    heard: np.ndarray | None = None  # mono at VAD_RATE, when decoded to be listened to only

    @property
    def seconds(self) -> float:
        return self.frames / self.rate

    def listened(self) -> np.ndarray:
        """The stream as the voice-activity detector and the speaker model hear it: mono at VAD_RATE."""
        return self.heard if self.heard is not None else mono16k(self.samples, self.rate)


def decode_tracks(path: Path, listen_only: bool = False) -> tuple[list[Track], float]:
    """Every audio stream of `path` that FFmpeg can decode, whole (a stream it has no decoder for is left out,
    as the video writer leaves it out), and the seconds on the file's clock that players show as 0. With
    `listen_only`, each stream is kept only as mono at VAD_RATE (Track.heard), a twelfth of 48 kHz stereo's
    size. Raises AudioReadError for a stream whose data cannot be decoded."""
    try:
        container = open_input(path)
    except av.FFmpegError as error:
        raise AudioReadError(f"cannot open the file to read its audio ({_reason(error)})") from None
    with container:
        origin = container.start_time / av.time_base if container.start_time is not None else 0.0
        streams = [s for s in container.streams.audio if s.codec_context is not None]
        if not streams:
            return [], origin
        numbers = {s.index: n for n, s in enumerate(container.streams.audio, 1)}
        decoders = {s.index: _Decoder(s, numbers[s.index], listen_only) for s in streams}
        try:
            for packet in container.demux(*streams):
                if packet.size:  # size 0: the end-of-stream marker, or an empty packet in the file: no sound
                    decoders[packet.stream.index].add(packet)
            for decoder in decoders.values():
                decoder.flush()
        except av.FFmpegError as error:
            where = _current(decoders)
            raise AudioReadError(f"audio stream {where} ({_reason(error)}); --no-audio leaves the sound out") from None
        return [decoder.track() for decoder in decoders.values()], origin


class _Decoder:
    """Decodes one stream's packets into float32 planes, holes on the clock filled with silence."""

    def __init__(self, stream: av.audio.stream.AudioStream, number: int, listen_only: bool = False) -> None:
        context = stream.codec_context
        self.stream, self.number = stream, number
        self.rate = context.sample_rate or 48000
        self.layout = context.layout.name
        self.resampler = av.AudioResampler(format="fltp", layout=self.layout, rate=self.rate)
        # The samples go straight into one array sized from the length the file announces (a second more), so
        # that a long stream is held once, not also as a list of frames to be joined.
        announced = _announced(stream) or _announced(stream.container)
        channels = av.AudioLayout(self.layout).nb_channels  # the resampler gives every frame this layout
        size = 0 if listen_only else round(((announced or 10.0) + 1.0) * self.rate)
        self.buffer = np.zeros((channels, size), np.float32)
        self.heard: _Listener | None = _Listener(self.rate) if listen_only else None
        self.count = 0  # samples so far
        self.start: float | None = None
        self.at: float | None = None  # seconds: where the stream has got to (for the user's line)

    def add(self, packet: av.Packet | None) -> None:
        if packet is not None and packet.pts is not None and packet.time_base is not None:
            self.at = float(packet.pts * packet.time_base)
        frames = self.stream.decode(packet) if packet is not None else self.stream.decode(None)
        for frame in frames:
            self._frame(frame)

    def flush(self) -> None:
        self.add(None)

    def _frame(self, frame: av.AudioFrame) -> None:
        if frame.pts is not None and frame.time_base is not None:
            when = float(frame.pts * frame.time_base)
            if self.start is None:
                self.start = when
            hole = round((when - self.start) * self.rate) - self.count
            if hole > _GAP * self.rate:
                self._append(np.zeros((self.buffer.shape[0], hole), np.float32))
        for converted in self.resampler.resample(frame):
            self._append(converted.to_ndarray().astype(np.float32, copy=False))

    def _append(self, planes: np.ndarray) -> None:
        end = self.count + planes.shape[1]
        if self.heard is not None:
            self.heard.add(planes)
            self.count = end
            return
        if end > self.buffer.shape[1]:  # longer than announced: grow by half
            grown = np.zeros((self.buffer.shape[0], max(end, self.buffer.shape[1] * 3 // 2)), np.float32)
            grown[:, : self.count] = self.buffer[:, : self.count]
            self.buffer = grown
        self.buffer[:, self.count : end] = planes
        self.count = end

    def track(self) -> Track:
        samples = self.buffer[:, : self.count]
        if self.buffer.shape[1] > self.count + 2 * self.rate:  # far shorter than announced: hold only the sound
            samples = samples.copy()
        self.buffer = self.buffer[:, :0]
        # The decoder gives the encoder's padding after the last sample too; the stream's duration (an MP4's edit
        # list) says where the sound ends, and players stop there. Sound that ends early (zero-length packets at
        # the end) is made up to it with silence, as a player plays it.
        frames, heard = self.count, None
        if self.stream.duration and self.stream.time_base:
            frames = round(self.stream.duration * self.stream.time_base * self.rate)
            if frames < samples.shape[1]:
                samples = samples[:, :frames]
            elif frames > samples.shape[1] and self.heard is None:
                samples = np.pad(samples, ((0, 0), (0, frames - samples.shape[1])))
        if self.heard is not None:
            heard = self.heard.result(round(frames * VAD_RATE / self.rate))
        tags = {tag: self.stream.metadata[tag] for tag in KEPT_AUDIO_TAGS if tag in self.stream.metadata}
        bit_rate = self.stream.codec_context.bit_rate or None
        return Track(
            self.stream.index,
            self.number,
            self.stream.codec_context.name,
            self.rate,
            self.layout,
            bit_rate,
            tags,
            self.start or 0.0,
            samples,
            frames,
            heard,
        )


class _Listener:
    """A stream mixed to mono and resampled to VAD_RATE as it is decoded (as mono16k does, a piece at a time)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.resampler = av.AudioResampler(format="flt", layout="mono", rate=VAD_RATE)
        self.pieces: list[np.ndarray] = []

    def add(self, planes: np.ndarray) -> None:
        mono = np.ascontiguousarray(planes.mean(axis=0, dtype=np.float32)[None, :])
        frame = av.AudioFrame.from_ndarray(mono, format="flt", layout="mono")
        frame.rate = self.rate
        self.pieces.extend(f.to_ndarray().reshape(-1) for f in self.resampler.resample(frame))

    def result(self, length: int) -> np.ndarray:
        """The whole stream, cut or made up with silence to `length` samples."""
        self.pieces.extend(f.to_ndarray().reshape(-1) for f in self.resampler.resample(None))
        heard = np.concatenate(self.pieces) if self.pieces else np.zeros(0, np.float32)
        self.pieces = []
        return heard[:length] if heard.size >= length else np.pad(heard, (0, length - heard.size))


def _announced(item: av.container.InputContainer | av.audio.stream.AudioStream) -> float | None:
    """The length in seconds a stream (or the whole file) announces, if it does."""
    duration = getattr(item, "duration", None)
    if not duration:
        return None
    base = getattr(item, "time_base", None)
    seconds = float(duration * base) if base else duration / av.time_base
    return seconds if 0 < seconds < 24 * 3600 else None


def _current(decoders: dict[int, _Decoder]) -> str:
    """Which stream was being decoded, and how far it had got, for the line of a decoding error."""
    latest = max(decoders.values(), key=lambda d: d.at or 0.0)
    return f"{latest.number} cannot be decoded at {max(0.0, latest.at or 0.0):.2f} s"


def mono16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """The channels mixed to one and resampled to VAD_RATE (FFmpeg's resampler): what the voice-activity
    detector and the speaker model hear."""
    if rate == VAD_RATE:
        return samples.mean(axis=0, dtype=np.float32)
    resampler = av.AudioResampler(format="flt", layout="mono", rate=VAD_RATE)
    out: list[np.ndarray] = []
    for start in range(0, samples.shape[1], _CHUNK * 16):  # mixed a piece at a time: no full-rate mono copy
        mono = samples[:, start : start + _CHUNK * 16].mean(axis=0, dtype=np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(mono), format="flt", layout="mono")
        frame.rate = rate
        out.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
    out.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    return np.concatenate(out).astype(np.float32, copy=False) if out else np.zeros(0, np.float32)


def encoder_name(codec: str, muxer: av.container.OutputContainer, muxer_name: str) -> str:
    """The encoder a treated stream is written with: the input's codec where FFmpeg can encode it and the
    container hold it, else the container's usual audio codec (AAC; Opus in WebM)."""
    try:
        same = av.codec.Codec(codec, "w")
        if same.name in muxer.supported_codecs and same.name in av.codecs_available:
            return same.name
    except av.FFmpegError:
        pass
    fallback = fallback_audio_codec(muxer_name)
    if av.codec.Codec(fallback, "w").name not in muxer.supported_codecs:
        raise AudioWriteError(f"no audio codec unseen can encode fits a {muxer_name} file")
    return fallback


class Encoder:
    """One treated stream in the output: its samples encoded as the input's packets for it go by."""

    def __init__(self, container: av.container.OutputContainer, muxer: str, track: Track, samples: np.ndarray) -> None:
        self.track, self.samples = track, samples  # the treated samples, as long as the input's
        name = encoder_name(track.codec, container, muxer)
        try:
            self.stream = container.add_stream(name, rate=track.rate)
            self.stream.layout = track.layout
            self.stream.time_base = Fraction(1, track.rate)
            channels = samples.shape[0]
            self.stream.bit_rate = track.bit_rate or _DEFAULT_BIT_RATE.get(self.stream.codec_context.name, 0) * channels
        except (av.FFmpegError, ValueError) as error:
            why = _reason(error)
            raise AudioWriteError(f"audio stream {track.number} cannot be encoded as {name} ({why})") from None
        self.stream.metadata.update(track.tags)  # the language only, as for a copied stream
        self.first = round(track.start * track.rate)  # the first sample's pts, in 1/rate
        self.done = 0  # samples encoded so far

    def until(self, seconds: float | None) -> list[av.Packet]:
        """The packets for the samples up to `seconds` on the file's clock (None: none yet)."""
        if seconds is None:
            return []
        upto = min(self.samples.shape[1], max(0, math.ceil((seconds - self.track.start) * self.track.rate)))
        return self._encode(upto)

    def finish(self) -> list[av.Packet]:
        """Every sample left, and what the encoder still holds."""
        packets = self._encode(self.samples.shape[1])
        return packets + self._packets(self.stream.encode(None))

    def _encode(self, upto: int) -> list[av.Packet]:
        packets: list[av.Packet] = []
        while self.done < upto:
            end = min(upto, self.done + _CHUNK)
            planes = np.ascontiguousarray(self.samples[:, self.done : end])
            frame = av.AudioFrame.from_ndarray(planes, format="fltp", layout=self.track.layout)
            frame.rate = self.track.rate
            frame.time_base = Fraction(1, self.track.rate)
            frame.pts = self.first + self.done
            packets += self._packets(self.stream.encode(frame))
            self.done = end
        return packets

    def _packets(self, encoded: list[av.Packet]) -> list[av.Packet]:
        for packet in encoded:
            packet.stream = self.stream
        return encoded


def packet_end(packet: av.Packet) -> float | None:
    """Seconds on the file's clock where an input packet's sound ends (None when it carries no time)."""
    when = packet.pts if packet.pts is not None else packet.dts
    if when is None or packet.time_base is None:
        return None
    return float((when + (packet.duration or 0)) * packet.time_base)


def _reason(error: BaseException) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__
