"""The voice check on a written video, beside the face check: is a voice that was to be changed still there?

After `disguise`, each stretch of speech in the output is compared with the same stretch of the input by a
speaker-embedding model (audio/speaker.py): a stream whose stretches score on average at or above its
MATCH_THRESHOLD, or one stretch scoring UNCHANGED or more, is a residual (_compare says why, and what was
measured). After `mute` and for the spans a person marked, the voice-activity detector listens to each silenced
span of the output: speech heard there is a residual. Residuals are listed in the report like faces left
visible, flag the file (one warning line), and refuse it under --strict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from unseen.audio import vad
from unseen.audio.streams import VAD_RATE, decode_tracks
from unseen.audio.vad import Span
from unseen.audio.voice import Prepared, Stream, Voice

# Speech is compared in stretches of about this many seconds of voice (neighbouring spans joined): speaker
# embeddings of a second or less are unreliable, and a long stretch would hide one sentence left recognisable.
STRETCH = 3.0
MIN_STRETCH = 1.0  # a shorter remainder joins the stretch before it
UNCHANGED = 0.9  # one stretch scoring this against its own input was barely changed (see _compare)


@dataclass
class VoiceCheck:
    """What the voice check found in one written video."""

    checked: int = 0  # stretches (disguise) and silenced spans (mute, marked) listened to
    found: list[dict[str, object]] = field(default_factory=list)

    def problem(self) -> str | None:
        """Why the output is flagged, in one line; None when it is clean."""
        if not self.found:
            return None
        first = self.found[0]
        at = f"stream {first['stream']} at {first['start']:.2f}-{first['end']:.2f} s"
        if "similarity" in first:
            return (
                f"a voice may still be recognisable in {len(self.found)} of {self.checked} checked stretches of "
                f"speech (e.g. {at}, similarity {first['similarity']:.2f})"
            )
        return f"speech is still heard in {len(self.found)} of {self.checked} silenced spans (e.g. {at})"


def check_voices(written: Path, prepared: Prepared) -> VoiceCheck:
    """Listen to the written file's treated streams against what `prepared` made them from."""
    found = VoiceCheck()
    treated = [s for s in prepared.streams if s.changed]
    if not treated:
        return found
    tracks, origin = decode_tracks(written, listen_only=True)
    # The output holds the input's decodable streams in their order (the writer leaves none out and adds none).
    outputs = dict(zip([s.track.index for s in prepared.streams], tracks, strict=False))
    for stream in treated:
        track = outputs.get(stream.track.index)
        if track is None:
            raise ValueError(f"audio stream {stream.track.number} is missing from the output")
        after = track.listened()
        shift = round((track.start - origin - (stream.track.start - prepared.origin)) * VAD_RATE)
        after = _aligned(after, shift, stream.before.size)
        if prepared.setting is Voice.DISGUISE:
            _compare(stream, after, prepared, found)
        _listen(stream, after, prepared, found)
    return found


def _aligned(after: np.ndarray, shift: int, size: int) -> np.ndarray:
    """The output's samples at the input's sample positions (`shift`: how much later the output starts)."""
    out = np.zeros(size, np.float32)
    if shift >= 0:
        part = after[: max(0, size - shift)]
        out[shift : shift + part.size] = part
    else:
        part = after[-shift : -shift + size]
        out[: part.size] = part
    return out


def stretches(spans: list[Span]) -> list[list[Span]]:
    """Speech spans grouped into stretches of about STRETCH seconds of voice."""
    groups: list[list[Span]] = []
    voiced = 0.0
    for span in spans:
        if not groups or voiced >= STRETCH:
            groups.append([])
            voiced = 0.0
        groups[-1].append(span)
        voiced += span[1] - span[0]
    if len(groups) > 1 and sum(b - a for a, b in groups[-1]) < MIN_STRETCH:
        groups[-2].extend(groups.pop())
    return groups


def _voiced(mono: np.ndarray, group: list[Span]) -> np.ndarray:
    return np.concatenate([mono[round(a * VAD_RATE) : round(b * VAD_RATE)] for a, b in group])


def _compare(stream: Stream, after: np.ndarray, prepared: Prepared, found: VoiceCheck) -> None:
    """A stream's voice is a residual when its stretches score, on average, at or above the speaker model's
    MATCH_THRESHOLD against the same stretches of the input, or when one stretch scores UNCHANGED or more.

    Why the average and not each stretch against MATCH_THRESHOLD: that threshold is calibrated on two different
    recordings of a speaker, and the same words of the same recording score higher for every voice. Measured on
    25 development voices in 3-s stretches (bench/voice_check_calibration.py, 2026-12-05): the shipped disguise's
    stretches scored 0.48-0.73 on average per file (0.52-0.74 under noise at 10 dB SNR: 3 of 25 files flagged),
    2-8% of single stretches at 0.74 or more and none at 0.9; a weak disguise (McAdams alpha 0.7-0.9 alone,
    ignorant EER 6-8%) 0.64-0.97 per file, 84-96% of files flagged, 16-50% of its stretches at 0.9 or more; a
    kept voice 1.0. docs/voices-in-videos.md has the table."""
    from unseen.audio import speaker

    scored: list[tuple[float, dict[str, object]]] = []
    for group in stretches(stream.heard):
        before_voice, after_voice = _voiced(stream.before, group), _voiced(after, group)
        if before_voice.size < VAD_RATE * MIN_STRETCH / 2:
            continue
        found.checked += 1
        score = speaker.similarity(speaker.embed(before_voice, VAD_RATE), speaker.embed(after_voice, VAD_RATE))
        start, end = prepared.clock(stream, (group[0][0], group[-1][1]))
        scored.append((score, {"kind": "voice", "stream": stream.track.number, "start": start, "end": end}))
    if not scored:
        return
    mean = float(np.mean([score for score, _ in scored]))
    if mean >= speaker.MATCH_THRESHOLD:  # the voice as a whole: one entry spanning its speech
        whole = {**scored[0][1], "end": scored[-1][1]["end"], "stretches": len(scored)}
        found.found.append(whole | {"similarity": round(mean, 3)})
    for score, entry in scored:
        if score >= UNCHANGED:
            found.found.append(entry | {"similarity": round(float(score), 3)})


def _listen(stream: Stream, after: np.ndarray, prepared: Prepared, found: VoiceCheck) -> None:
    for span in stream.silenced:
        found.checked += 1
        piece = after[round(span[0] * VAD_RATE) : round(span[1] * VAD_RATE)]
        heard = vad.hear(piece)
        if heard.spans:
            start, end = prepared.clock(stream, span)
            entry = {"kind": "voice", "stream": stream.track.number, "start": start, "end": end}
            found.found.append(entry | {"speech_heard_seconds": round(heard.seconds, 2)})
