"""What a video's voices get (--voice keep, disguise or mute, and the spans a person marked to silence), decided
before the video is written, and what the report says of them.

`prepare` decodes every audio stream whole (audio/streams.py), listens for speech (audio/vad.py) and makes the
treated samples; its Plan is what the video writer encodes in place of copying a changed stream's packets. A
stream nothing changes is copied packet for packet, as without --voice, and so is every stream under `keep`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from unseen.audio import vad
from unseen.audio.mute import FADE, MARGIN, MUTE_THRESHOLD, merged, mute_speech, silence, silence_in_place
from unseen.audio.streams import AudioReadError, Encoder, Track, decode_tracks, mono16k, packet_end
from unseen.audio.vad import Span
from unseen.config import Voice

SPEECH_HEARD = "speech heard: voices kept as recorded; --voice disguise or --voice mute"


def _disguise(samples: np.ndarray, rate: int, mono: np.ndarray, speech: list[Span]) -> np.ndarray:
    """audio/disguise.py's method with the farthest of several fresh random draws (audio/select.py: tried on an
    excerpt of the `speech` heard in `mono`, the stream at 16 kHz); disguise works in cross-faded blocks itself,
    so memory stays bounded on a long stream. A seam the tests replace."""
    from unseen.audio.select import disguise

    return disguise(samples, rate, mono, speech)


@dataclass
class Stream:
    """One audio stream: what was heard in it and what it becomes."""

    track: Track  # its samples are released once treated
    before: np.ndarray  # the input as the detector and the speaker model hear it (mono, 16 kHz)
    heard: list[Span]  # speech, seconds from the stream's first sample
    silenced: list[Span] = field(default_factory=list)  # silenced spans, margins included, same seconds
    treated: np.ndarray | None = None  # the samples to write; let go once written
    changed: bool = False  # False: the stream is copied unchanged
    frames: int = 0  # samples in the stream
    written_as: str | None = None  # the encoder, once the writer has opened it


class Plan:
    """The treated streams, as the video writer encodes them (videofile.Treated)."""

    def __init__(self, streams: list[Stream]) -> None:
        self.streams = {s.track.index: s for s in streams if s.changed}
        self.indices = frozenset(self.streams)
        self.encoders: dict[int, Encoder] = {}

    def open(self, container: av.container.OutputContainer, muxer: str, index: int) -> None:
        stream = self.streams[index]
        assert stream.treated is not None
        encoder = Encoder(container, muxer, stream.track, stream.treated)
        stream.written_as = encoder.stream.codec_context.name
        self.encoders[index] = encoder

    def until(self, packet: av.Packet) -> list[av.Packet]:
        return self.encoders[packet.stream.index].until(packet_end(packet))

    def finish(self) -> list[av.Packet]:
        packets = [packet for encoder in self.encoders.values() for packet in encoder.finish()]
        for index, encoder in self.encoders.items():  # written: the check reads the output, not these
            self.streams[index].treated = encoder.samples = None  # type: ignore[assignment]
        return packets


@dataclass
class Prepared:
    """A video's voices, decided."""

    setting: Voice
    streams: list[Stream]
    origin: float  # seconds on the file's clock that players show as 0
    unheard: str | None = None  # why the sound could not be listened to (under keep: copied all the same)
    plan: Plan | None = None

    @property
    def speech_seconds(self) -> float:
        return sum(_seconds(s.heard) for s in self.streams)

    @property
    def notice(self) -> str | None:
        """The line a kept video with speech in it earns, once."""
        heard = any(s.heard for s in self.streams)
        return SPEECH_HEARD if heard and self.setting is Voice.KEEP and self.plan is None else None

    def clock(self, stream: Stream, span: Span) -> list[float]:
        """A span of a stream's seconds on the players' clock, rounded for the report."""
        offset = stream.track.start - self.origin
        return [round(span[0] + offset, 3), round(span[1] + offset, 3)]

    def report(self) -> dict[str, object]:
        """The file's `voice` entry in the report."""
        entry: dict[str, object] = {
            "setting": self.setting.value,
            "audio_streams": len(self.streams),
            "speech_heard": None if self.unheard else any(s.heard for s in self.streams),
            "speech_seconds": round(self.speech_seconds, 2),
        }
        if self.unheard:
            entry["not_heard"] = self.unheard
        if not self.streams and not self.unheard:
            entry["note"] = "no audio: nothing to do"
        entry["streams"] = [self._stream(s) for s in self.streams]
        return entry

    def _stream(self, stream: Stream) -> dict[str, object]:
        track = stream.track
        return {
            "stream": track.number,
            "codec": track.codec,
            "seconds": round(stream.frames / track.rate, 3),
            "speech_seconds": round(_seconds(stream.heard), 2),
            "speech": [self.clock(stream, s) for s in stream.heard],
            "silenced": [self.clock(stream, s) for s in stream.silenced],
            "written": f"re-encoded as {stream.written_as or '?'}" if stream.changed else "copied",
        }


def _seconds(spans: Sequence[Span]) -> float:
    return sum(b - a for a, b in spans)


def prepare(source: Path, setting: Voice, marked: Sequence[Span] = ()) -> Prepared:
    """Listen to every audio stream of `source` and make what `setting` and the spans a person `marked` (seconds
    on the players' clock) ask for. Raises AudioReadError when sound that must be changed cannot be decoded."""
    listen_only = setting is Voice.KEEP and not marked  # nothing will be written from the samples
    try:
        tracks, origin = decode_tracks(source, listen_only)
    except AudioReadError as error:
        if setting is Voice.KEEP and not marked:  # copied packet for packet as before: only the listening failed
            return Prepared(setting, [], 0.0, unheard=str(error))
        raise
    streams = [
        _treat(track, setting, [(a + origin - track.start, b + origin - track.start) for a, b in marked])
        for track in tracks
    ]
    prepared = Prepared(setting, streams, origin)
    if any(s.changed for s in streams):
        prepared.plan = Plan(streams)
    return prepared


def _treat(track: Track, setting: Voice, marked: list[Span]) -> Stream:
    rate, samples = track.rate, track.samples
    before = track.listened()
    probs = vad.probabilities(before)
    stream = Stream(track, before, vad.frames_to_spans(probs), frames=track.frames)
    end = track.frames / rate
    treated: np.ndarray | None = None
    if setting is Voice.MUTE:
        heard = vad.frames_to_spans(probs, MUTE_THRESHOLD, 0.0)
        treated, stream.silenced = mute_speech(samples, rate, lambda s: mono16k(s, rate), heard, in_place=True)
    elif setting is Voice.DISGUISE:
        treated = _treat_disguise(samples, rate, before, stream.heard)
    person = merged(marked, 0.0, end)
    if person:
        stream.silenced = merged([*stream.silenced, *person], 0.0, end)
        if treated is None:
            treated = silence(samples, rate, person)
        else:
            silence_in_place(treated, rate, person)
    stream.treated, stream.changed = treated, treated is not None
    track.samples = samples[:, :0]  # a copied stream's packets are copied, a treated one's written: let them go
    return stream


def _treat_disguise(samples: np.ndarray, rate: int, mono: np.ndarray, speech: list[Span]) -> np.ndarray:
    treated = np.asarray(_disguise(samples, rate, mono, speech), np.float32)
    if treated.shape != samples.shape:
        raise ValueError(f"the disguise returned {treated.shape} samples for {samples.shape}")
    return treated


def describe(setting: Voice) -> dict[str, object]:
    """The voice settings as they run, for the report."""
    described: dict[str, object] = {
        "setting": setting.value,
        "detector": {"model": vad.MODEL_FILE, "sha256": vad.model_sha256(), "threshold": vad.THRESHOLD},
        "speech_counted_from_seconds": vad.MIN_SPEECH,
        "silenced_spans": f"marked in a regions file: silenced exactly, with {FADE * 1000:g}-ms fades outside",
    }
    if setting is Voice.MUTE:
        described["mute"] = {
            "threshold": MUTE_THRESHOLD,
            "margin_seconds": MARGIN,
            "fade_seconds": FADE,
            "replaced_by": "silence",
        }
    if setting is Voice.DISGUISE:
        from unseen.audio.select import DESCRIPTION

        described["disguise"] = DESCRIPTION
    return described


def outcome(prepared: Prepared | None) -> tuple[dict[str, object] | None, str | None]:
    """The report's `voice` entry and the file's notice (None, None with --no-audio)."""
    return (None, None) if prepared is None else (prepared.report(), prepared.notice)


def treat_samples(samples: np.ndarray, rate: int, voice: str) -> np.ndarray:
    """(channels, n) float32 sound with its voices disguised or muted (the Python API's anonymize_audio)."""
    setting = Voice(voice)
    if setting is Voice.DISGUISE:
        mono = mono16k(samples, rate)
        return _treat_disguise(samples, rate, mono, vad.frames_to_spans(vad.probabilities(mono)))
    if setting is Voice.MUTE:
        heard = vad.frames_to_spans(vad.probabilities(mono16k(samples, rate)), MUTE_THRESHOLD, 0.0)
        return mute_speech(samples, rate, lambda s: mono16k(s, rate), heard)[0]
    raise ValueError(f"voice must be disguise or mute, not {voice!r}")


@dataclass(frozen=True)
class Timeline:
    """Where speech is heard in a video, for a timeline (the review page's)."""

    streams: int  # audio streams listened to (0: the video has no sound)
    spans: list[list[float]]  # [start, end] seconds on a player's clock, sorted and joined, all streams together


def speech_heard(source: Path) -> Timeline:
    """Where speech is heard in any audio stream of a video, as [start, end] seconds on a player's clock, sorted
    and joined (for a timeline: the review page). Raises AudioReadError when the sound cannot be decoded."""
    tracks, origin = decode_tracks(source, listen_only=True)
    spans: list[Span] = []
    for track in tracks:
        offset = track.start - origin
        spans += [(a + offset, b + offset) for a, b in vad.hear(track.listened()).spans]
        track.heard = None  # listened to: let go
    return Timeline(len(tracks), [[round(a, 3), round(b, 3)] for a, b in merged(spans)])
