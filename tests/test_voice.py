"""Voices in videos (--voice keep, disguise, mute; spans a person marked): sound treated, kept in sync, checked."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import SAMPLE, run_cli
from voice_clips import RATE, Sound, background, empty_audio_packets, speech, talking, write_clip

import unseen
from unseen import cli
from unseen.audio import check, vad, voice
from unseen.audio.streams import AudioWriteError, Track, decode_tracks, encoder_name, mono16k
from unseen.audio.voice import Voice
from unseen.detectors.centerface import CenterFace
from unseen.faces import Detector
from unseen.paths import Job
from unseen.photo import Options
from unseen.report import FileReport
from unseen.video import VideoOptions, process_video

SECONDS = 6.0


@pytest.fixture(scope="module")
def detector() -> Detector:
    return CenterFace()


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s: the background throughout, a voice from 1 s to 5 s."""
    path = tmp_path_factory.mktemp("talk") / "talk.mp4"
    write_clip(path, SECONDS, [Sound(talking(SECONDS))])
    return path


def protect(source: Path, out: Path, detector: Detector, setting: Voice, **kw: object) -> FileReport:
    job = Job(source, out / source.name, None)
    return process_video(job, detector, Options(**kw), VideoOptions(voice=setting), **{})  # type: ignore[arg-type]


def tracks(path: Path) -> list[Track]:
    return decode_tracks(path)[0]


def level_db(samples: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(samples, dtype=np.float64)) + 1e-20))


def lag(before: np.ndarray, after: np.ndarray, start: int, size: int = 24000, most: int = 2048) -> int:
    """Samples by which `after` is late against `before`, from their cross-correlation around `start`."""
    piece = before[start : start + size]
    return max(range(-most, most + 1), key=lambda k: float(np.dot(piece, after[start + k : start + k + size])))


def assert_same_timing(source: Path, output: Path) -> None:
    """Duration, rate, layout and start of every audio stream kept (within 1 ms), none lost."""
    with av.open(str(source)) as a, av.open(str(output)) as b:
        ins, outs = a.streams.audio, b.streams.audio
        assert len(ins) == len(outs)
        for x, y in zip(ins, outs, strict=True):
            assert (x.codec_context.sample_rate, x.codec_context.layout.name) == (
                y.codec_context.sample_rate,
                y.codec_context.layout.name,
            )
            if x.duration is not None:  # an MP4's edit list says where the sound ends; Matroska says nothing
                assert abs(float(x.duration * x.time_base) - float(y.duration * y.time_base)) < 0.001
    for x, y in zip(tracks(source), tracks(output), strict=True):
        assert abs(x.start - y.start) <= 0.001 + 1e-9  # Matroska counts in whole milliseconds
        assert x.samples.shape == y.samples.shape


# --- keep ---------------------------------------------------------------------------------------------------


def test_keep_copies_the_sound_and_says_once_that_speech_is_heard(tmp_path: Path, talk: Path):
    done = run_cli(talk, "-o", tmp_path / "out", "--report", tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count(voice.SPEECH_HEARD) == 1
    output = tmp_path / "out" / talk.name
    with av.open(str(talk)) as a, av.open(str(output)) as b:
        assert [bytes(p) for p in a.demux(audio=0) if p.size] == [bytes(p) for p in b.demux(audio=0) if p.size]
    entry = json.loads((tmp_path / "r.json").read_text())["files"][0]
    assert entry["voice"]["setting"] == "keep" and entry["voice"]["speech_heard"] is True
    assert 2.0 < entry["voice"]["speech_seconds"] <= 4.1
    assert entry["voice"]["streams"][0]["written"] == "copied"
    assert entry["notice"] == voice.SPEECH_HEARD and entry["verdict"] == "clean"


def test_no_speech_no_line(tmp_path: Path, detector: Detector):
    source = tmp_path / "hum.mp4"
    write_clip(source, 3.0, [Sound(background(3.0)[None, :])])
    report = protect(source, tmp_path / "out", detector, Voice.KEEP)
    assert report.status == "done", report.reason
    assert report.notice is None and report.voice is not None and report.voice["speech_heard"] is False


def test_a_video_without_audio_is_fine_and_said_only_in_the_report(tmp_path: Path):
    source = tmp_path / "silent.mp4"
    write_clip(source, 1.0, [])
    done = run_cli(source, "-o", tmp_path / "out", "--voice", "mute", "--report", tmp_path / "r.json")
    assert done.returncode == 0 and "audio" not in done.stderr, done.stderr
    entry = json.loads((tmp_path / "r.json").read_text())["files"][0]
    assert entry["voice"]["audio_streams"] == 0 and entry["voice"]["note"] == "no audio: nothing to do"


# --- mute ---------------------------------------------------------------------------------------------------


def test_mute_silences_speech_keeps_everything_else_and_the_timing(tmp_path: Path, talk: Path, detector: Detector):
    report = protect(talk, tmp_path / "out", detector, Voice.MUTE)
    assert report.status == "done" and not report.residuals, report.reason
    output = Path(report.output or "")
    assert_same_timing(talk, output)
    before, after = tracks(talk)[0], tracks(output)[0]
    assert not vad.hear(mono16k(after.samples, RATE)).spans  # no speech left that the detector hears
    silenced = report.voice["streams"][0]["silenced"]  # type: ignore[index]
    assert silenced and silenced[0][0] <= 1.6 and silenced[-1][1] >= 4.3
    # The background outside the silenced spans: within 1 dB, and in sync to the sample.
    for a, b in ((0.0, silenced[0][0] - 0.05), (silenced[-1][1] + 0.05, SECONDS)):
        i, j = round(a * RATE), round(b * RATE)
        assert abs(level_db(before.samples[:, i:j]) - level_db(after.samples[:, i:j])) < 1.0, (a, b)
    assert lag(before.samples[0], after.samples[0], 4000, 20000) == 0
    assert report.voice["streams"][0]["written"] == "re-encoded as aac"  # type: ignore[index]


def test_two_streams_both_treated_each_keeping_its_start(tmp_path: Path, detector: Detector):
    stereo = np.stack([talking(5.0, 1)[0], talking(5.0, 1)[0] * 0.5])
    later = talking(4.0, 2)
    source = tmp_path / "two.mkv"
    write_clip(source, 5.0, [Sound(stereo, layout="stereo", language="fra"), Sound(later, start=0.5, codec="libopus")])
    report = protect(source, tmp_path / "out", detector, Voice.MUTE)
    assert report.status == "done" and not report.residuals, report.reason
    output = Path(report.output or "")
    assert_same_timing(source, output)
    outs = tracks(output)
    assert [t.codec for t in outs] == ["aac", "opus"]  # each in its own codec
    with av.open(str(output)) as container:
        assert [dict(s.metadata).get("language") for s in container.streams.audio] == ["fra", None]
    for out in outs:
        assert not vad.hear(mono16k(out.samples, out.rate)).spans
    assert len(report.voice["streams"]) == 2  # type: ignore[arg-type,index]


# --- disguise and the voice check ---------------------------------------------------------------------------


def test_disguise_changes_every_voice_and_is_checked(tmp_path: Path, talk: Path, detector: Detector):
    speaker = pytest.importorskip("unseen.audio.speaker")
    report = protect(talk, tmp_path / "out", detector, Voice.DISGUISE)
    assert report.status == "done" and report.verified, report.reason
    # Whether this draw of the disguise leaves the stretch above the speaker model's threshold is the disguise's
    # and the threshold's business (docs/voices-in-videos.md): the check must say so consistently either way.
    for residual in report.residuals:
        assert residual["kind"] == "voice" and float(residual["similarity"]) >= speaker.MATCH_THRESHOLD  # type: ignore[arg-type]
    assert (report.verdict == "residuals") == bool(report.residuals)
    output = Path(report.output or "")
    assert_same_timing(talk, output)
    before, after = tracks(talk)[0], tracks(output)[0]
    assert not np.allclose(before.samples, after.samples, atol=0.05)
    assert report.voice["streams"][0]["written"] == "re-encoded as aac"  # type: ignore[index]


def test_a_voice_left_recognisable_is_a_residual_and_strict_refuses_it(
    tmp_path: Path, talk: Path, monkeypatch: pytest.MonkeyPatch
):
    pytest.importorskip("unseen.audio.speaker")
    unchanged = lambda samples, rate, mono, speech: samples.copy()  # noqa: E731  # a disguise that changes nothing
    monkeypatch.setattr(voice, "_disguise", unchanged)
    out = tmp_path / "out"
    report_path = tmp_path / "r.json"
    assert cli.main([str(talk), "-o", str(out), "--voice", "disguise", "--report", str(report_path)]) == 0
    entry = json.loads(report_path.read_text())["files"][0]
    assert entry["verdict"] == "residuals" and "recognisable" in entry["reason"]
    assert all(r["kind"] == "voice" and r["similarity"] >= 0.5 for r in entry["residuals"])
    assert cli.main([str(talk), "-o", str(tmp_path / "strict"), "--voice", "disguise", "--strict"]) == 3
    assert not (tmp_path / "strict" / talk.name).exists()


def test_speech_heard_in_a_silenced_span_is_a_residual(tmp_path: Path, talk: Path):
    prepared = voice.prepare(talk, Voice.MUTE)
    stream = prepared.streams[0]
    found = check.check_voices(talk, prepared)  # the input itself, as if nothing had been silenced
    assert found.found and found.checked == len(stream.silenced)
    assert "speech is still heard" in (found.problem() or "")


# --- spans a person marked ----------------------------------------------------------------------------------


def regions_file(tmp_path: Path, source: Path, silence: list[list[float]], version: int = 2) -> Path:
    run = run_cli(source, "--regions-out", tmp_path / "found.json")
    assert run.returncode == 0, run.stderr
    data = json.loads((tmp_path / "found.json").read_text())
    data["unseen_regions"] = version
    if version == 1:
        del data["files"][0]["silence"]
    else:
        data["files"][0]["silence"] = silence
    path = tmp_path / "regions.json"
    path.write_text(json.dumps(data))
    return path


def test_marked_spans_are_silenced_under_keep(tmp_path: Path, talk: Path):
    path = regions_file(tmp_path, talk, [[2.0, 3.0]])
    done = run_cli(talk, "-o", tmp_path / "out", "--regions", path, "--report", tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    before, after = tracks(talk)[0], tracks(tmp_path / "out" / talk.name)[0]
    assert level_db(after.samples[:, round(2.05 * RATE) : round(2.95 * RATE)]) < -80  # AAC smears 43-ms blocks
    assert abs(level_db(before.samples[:, 0 : RATE - 4800]) - level_db(after.samples[:, 0 : RATE - 4800])) < 1.0
    entry = json.loads((tmp_path / "r.json").read_text())["files"][0]
    assert entry["voice"]["streams"][0]["silenced"] == [[2.0, 3.0]] and entry["verdict"] == "clean"


def test_a_version_1_regions_file_is_still_read(tmp_path: Path, talk: Path):
    path = regions_file(tmp_path, talk, [], version=1)
    done = run_cli(talk, "-o", tmp_path / "out", "--regions", path)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("span", [[3.0, 2.0], [-1.0, 1.0], [99.0, 100.0], ["a", 1]])
def test_a_bad_span_is_refused_in_one_line(tmp_path: Path, talk: Path, span: list[object]):
    path = regions_file(tmp_path, talk, [span])  # type: ignore[list-item]
    done = run_cli(talk, "-o", tmp_path / "out", "--regions", path)
    assert done.returncode == 2 and "silence span" in done.stderr and len(done.stderr.splitlines()) == 1


# --- usage and bad input ------------------------------------------------------------------------------------


def test_voice_on_photos_only_is_a_usage_error(tmp_path: Path, talk: Path):
    done = run_cli(SAMPLE, "-o", tmp_path / "out", "--voice", "mute")
    assert done.returncode == 2 and "no video among the inputs" in done.stderr
    assert not (tmp_path / "out").exists()


def test_voice_in_a_run_of_photos_and_videos_applies_to_the_videos(tmp_path: Path, talk: Path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copyfile(SAMPLE, inputs / SAMPLE.name)
    shutil.copyfile(talk, inputs / talk.name)
    done = run_cli(inputs, "-o", tmp_path / "out", "--voice", "mute", "--report", tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    files = {Path(f["input"]).name: f for f in json.loads((tmp_path / "r.json").read_text())["files"]}
    assert files[SAMPLE.name]["voice"] is None and files[talk.name]["voice"]["setting"] == "mute"


def test_voice_with_no_audio_is_a_usage_error(tmp_path: Path, talk: Path):
    done = run_cli(talk, "-o", tmp_path / "out", "--voice", "disguise", "--no-audio")
    assert done.returncode == 2 and "--no-audio drops the sound" in done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_audio_that_cannot_be_decoded_fails_in_one_line_and_nothing_is_published(tmp_path: Path, detector: Detector):
    source = tmp_path / "garbled.mp4"
    write_garbled(source)
    report = protect(source, tmp_path / "out", detector, Voice.MUTE)
    assert report.status == "failed" and "audio stream 1 cannot be decoded" in (report.reason or "")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    kept = protect(source, tmp_path / "kept", detector, Voice.KEEP)  # copied as before, only not listened to
    assert kept.status == "done" and kept.voice is not None and kept.voice["speech_heard"] is None


def write_garbled(path: Path) -> None:
    """A clip whose AAC stream holds bytes that are not AAC."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = out.add_stream("aac", rate=RATE, layout="mono")
        sound.time_base = Fraction(1, RATE)
        rng = np.random.default_rng(5)
        silent = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        silent.sample_rate, silent.pts = RATE, 0
        sound.encode(silent)  # opens the encoder, so that the stream has its header
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 90, np.uint8), format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
            for k in range(5):
                packet = av.Packet(rng.integers(0, 256, 200, dtype=np.uint8).tobytes())
                packet.stream, packet.time_base = sound, Fraction(1, RATE)
                packet.pts = packet.dts = (i * 5 + k) * 1024
                packet.duration = 1024
                out.mux(packet)
        out.mux(video.encode(None))


def test_zero_length_packets_are_silence_in_their_place(tmp_path: Path, detector: Detector):
    source = tmp_path / "gaps.mp4"
    write_clip(source, 3.0, [Sound(background(3.0)[None, :])])
    empty_audio_packets(source)
    with av.open(str(source)) as container:
        assert sum(1 for p in container.demux(audio=0) if p.size == 0 and p.pts is not None) == 2
    report = protect(source, tmp_path / "out", detector, Voice.MUTE)
    assert report.status == "done", report.reason
    assert_same_timing(source, Path(report.output or ""))
    before, after = tracks(source)[0].samples[0], tracks(Path(report.output or ""))[0].samples[0]
    assert lag(before, after, RATE, 20000) == 0  # in sync after the holes


def test_a_codec_the_container_cannot_hold_falls_back_or_fails_in_one_line():
    import os

    with av.open(os.devnull, "w", format="webm") as webm:
        assert encoder_name("aac", webm, "webm") == "libopus"  # WebM holds no AAC: Opus, as for copied streams
    with av.open(os.devnull, "w", format="ogg") as ogg, pytest.raises(AudioWriteError, match="fits a ogg file"):
        encoder_name("aac", ogg, "ogg")


# --- the Python API -----------------------------------------------------------------------------------------


def test_anonymize_audio_mutes_and_disguises_in_shape():
    sound = talking(5.0)[0]
    muted = unseen.anonymize_audio(sound, RATE, voice="mute")
    assert muted.shape == sound.shape and muted.dtype == np.float32
    assert not vad.hear(mono16k(muted[None, :], RATE)).spans
    assert vad.hear(mono16k(sound[None, :], RATE)).spans  # the input is unchanged
    stereo = np.stack([sound, sound])
    pytest.importorskip("unseen.audio.disguise")
    disguised = unseen.anonymize_audio(stereo, RATE, voice="disguise")
    assert disguised.shape == stereo.shape and not np.allclose(disguised, stereo, atol=0.05)
    with pytest.raises(ValueError):
        unseen.anonymize_audio(np.zeros((2, 2, 2), np.float32), RATE)
    with pytest.raises(ValueError):
        unseen.anonymize_audio(sound, RATE, voice="keep")


def test_speech_from_the_voices_is_heard_and_noise_is_not():
    assert vad.hear(mono16k(speech(4.0)[None, :], RATE)).seconds > 2.0
    assert not vad.hear(mono16k(background(4.0)[None, :], RATE)).spans


def test_speech_heard_for_a_timeline(talk: Path):
    heard = voice.speech_heard(talk)
    spans = heard.spans
    assert heard.streams == 1 and spans and 1.0 <= spans[0][0] < spans[-1][1] <= 5.1


@pytest.mark.parametrize("seconds", [0.05, 0.1, 0.3, 0.4, 1.0])
def test_the_speaker_model_embeds_a_short_recording(seconds: float):
    # Fewer 30-ms windows than the pause gate's reach either side (13) once crashed the gate (np.convolve's "same"
    # gives the longer operand's length): every length gives one unit embedding.
    from unseen.audio import speaker

    x = np.random.default_rng(1).standard_normal(round(seconds * 16000)).astype(np.float32) * 0.1
    e = speaker.embed(x, 16000)
    assert e.shape == (256,) and abs(float(np.linalg.norm(e)) - 1.0) < 1e-5
    windows = len(x) // speaker._GATE_WINDOW
    kept = speaker._drop_pauses(x)  # steady noise: no window is a pause, every whole one is kept
    assert len(kept) == (len(x) if windows < 2 else windows * speaker._GATE_WINDOW)
