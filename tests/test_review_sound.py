"""A video's sound in the review and the regions file: the voice setting chosen per video (kept in the file,
applied by `unseen --regions` with the command line's --voice as a floor), the spans a person marks to
silence, and where speech is heard (listened to beside the search, for the timeline)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import SAMPLE, run_cli
from review_helpers import wait_for
from voice_clips import Sound, background, talking, write_clip

from unseen.config import Voice
from unseen.errors import UsageError
from unseen.paths import plan
from unseen.photo import Options
from unseen.regions import VideoEntry, dumps, load
from unseen.review.session import READY, Review, Stale
from unseen.review.state import Item

SECONDS = 6.0


def test_the_more_protective_setting_wins() -> None:
    keep, disguise, mute = Voice.KEEP, Voice.DISGUISE, Voice.MUTE
    assert [keep.at_least(v) for v in (None, keep, disguise, mute)] == [keep, keep, disguise, mute]
    assert [disguise.at_least(v) for v in (None, keep, disguise, mute)] == [disguise, disguise, disguise, mute]
    assert [mute.at_least(v) for v in (None, keep, disguise, mute)] == [mute, mute, mute, mute]


def _video(**extra: object) -> dict[str, object]:
    return {"path": "clip.mp4", "sha256": "y", "kind": "video", "width": 64, "height": 48, "frames": 60,
            "fps": 10.0, "tracks": [], **extra}  # fmt: skip


def test_a_videos_voice_is_kept_in_the_regions_file_and_absent_is_none_chosen(tmp_path: Path) -> None:
    path = tmp_path / "regions.json"
    path.write_text(json.dumps({"unseen_regions": 2, "files": [_video(voice="disguise", silence=[[1.0, 2.0]])]}))
    entry = load(path)["clip.mp4"]
    assert isinstance(entry, VideoEntry) and entry.voice is Voice.DISGUISE and entry.silence == [(1.0, 2.0)]
    path.write_text(dumps([entry]))
    again = load(path)["clip.mp4"]
    assert isinstance(again, VideoEntry) and again.voice is Voice.DISGUISE and again.decides_as(entry)
    path.write_text(json.dumps({"unseen_regions": 2, "files": [_video()]}))
    plain = load(path)["clip.mp4"]
    assert isinstance(plain, VideoEntry) and plain.voice is None and "voice" not in plain.to_dict()
    assert not plain.decides_as(entry) and plain.covers_as(entry)  # the sound differs, the frames do not
    for bad in ("loud", 1, True, ""):
        path.write_text(json.dumps({"unseen_regions": 2, "files": [_video(voice=bad)]}))
        with pytest.raises(UsageError, match="voice"):
            load(path)


def _hum(path: Path) -> Path:
    write_clip(path, 3.0, [Sound(background(3.0)[None, :])])
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("in_file", "command_line", "used"),
    [("mute", "keep", "mute"), ("keep", "mute", "mute"), ("disguise", "keep", "disguise"), (None, "mute", "mute")],
)
def test_regions_applies_the_files_voice_never_below_the_command_line(
    tmp_path: Path, in_file: str | None, command_line: str, used: str
) -> None:
    source = _hum(tmp_path / "hum.mp4")
    assert run_cli(source, "--regions-out", tmp_path / "found.json").returncode == 0
    data = json.loads((tmp_path / "found.json").read_text())
    assert "voice" not in data["files"][0]  # --regions-out chooses nothing
    if in_file is not None:
        data["files"][0]["voice"] = in_file
    (tmp_path / "regions.json").write_text(json.dumps(data))
    report = tmp_path / "report.json"
    args = ("-o", tmp_path / "out", "--regions", tmp_path / "regions.json", "--voice", command_line)
    done = run_cli(source, *args, "--report", report)
    assert done.returncode == 0, done.stderr
    voice = json.loads(report.read_text())["files"][0]["voice"]
    assert voice["setting"] == used
    asked = {"regions_file": in_file, "at_least": command_line}
    assert voice.get("asked") == (asked if in_file is not None else None)


def test_review_takes_voice_and_refuses_it_without_a_video(tmp_path: Path) -> None:
    done = run_cli("review", SAMPLE, "-o", tmp_path / "out", "--voice", "mute", "--no-browser")
    assert done.returncode == 2 and "no video among the inputs" in done.stderr
    assert len(done.stderr.splitlines()) == 1


# -- the review's state ----------------------------------------------------------------------------------------


@pytest.fixture
def talk_folder(tmp_path: Path) -> Path:
    """6 s with a voice from 1 s to 5 s (skips where ../shared/data/voices is absent)."""
    folder = tmp_path / "in"
    folder.mkdir()
    write_clip(folder / "talk.mp4", SECONDS, [Sound(talking(SECONDS))])
    return folder


def _review(folder: Path, regions: Path, voice: Voice = Voice.KEEP) -> Review:
    from unseen.video import video_detector

    jobs = plan([folder], folder.parent / "out", None, writing=True)
    return Review(jobs, [folder], regions, Options(verify=False), video_detector(), None, voice)


@contextmanager
def _heard(folder: Path, regions: Path, done: Callable[[Item], bool], voice: Voice = Voice.KEEP) -> Iterator[Review]:
    """The review of `folder`'s one video started and waited on until the video is READY and `done` says its sound
    was listened to (speech found, or said unheard); closed on the way out."""
    review = _review(folder, regions, voice)
    review.start()
    try:
        wait_for(lambda: review.items[0].state == READY and done(review.items[0]))
        yield review
    finally:
        review.close()


@pytest.mark.slow
def test_speech_is_listened_to_and_the_sound_decisions_are_saved_and_resumed(talk_folder: Path) -> None:
    regions = talk_folder.parent / "regions.json"
    with _heard(talk_folder, regions, lambda item: item.speech is not None, Voice.DISGUISE) as review:
        view = review.decisions(0)
        speech = view["speech"]
        assert isinstance(speech, dict) and speech["streams"] == 1
        assert speech["spans"] and speech["spans"][0][0] >= 1.0 and speech["spans"][-1][1] <= 5.1
        assert view["voice"] == "disguise" and view["silence"] == [] and view["seconds"] == SECONDS
        assert review.summary()["files"][0]["speech"] is True  # type: ignore[index]
        assert json.loads(regions.read_text())["files"][0]["voice"] == "disguise"  # recorded as the page shows it
        assert review.at(0, 10)["seconds"] == [1.0, 1.1]  # frame 10 of a 10-fps clip, on the player's clock

        item = review.items[0]
        wait_for(lambda: item.checked == item.revision)
        review.edit(0, {"revision": item.revision, "approved": True})
        edited = item.edited
        change = {"revision": item.revision, "silence": [[2.0004, 2.9996], [0.5, 0.75]], "voice": "mute"}
        changed = review.edit(0, change)
        # Never less silenced than asked (start rounded down, end up), sorted; a change of sound un-approves,
        # and leaves what the face check found as it was (the frames are covered as before).
        assert changed["silence"] == [[0.5, 0.75], [2.0, 3.0]] and changed["voice"] == "mute"
        assert changed["approved"] is False and item.checked == item.revision and item.edited == edited
        saved = json.loads(regions.read_text())["files"][0]
        assert saved["silence"] == [[0.5, 0.75], [2.0, 3.0]] and saved["voice"] == "mute"
        # Spans sent back as they are (the page sends the whole list with every change) do not move: 1.001 is
        # 1000.9999999999999 ms in floating point.
        again = review.edit(0, {"revision": item.revision, "silence": [[1.001, 1.003], *changed["silence"]]})
        assert again["silence"][1] == [1.001, 1.003]
        same = review.edit(0, {"revision": item.revision, "silence": again["silence"], "approved": True})
        assert same["silence"] == again["silence"] and same["approved"] is True
        review.edit(0, {"revision": item.revision, "silence": changed["silence"]})
        saved = json.loads(regions.read_text())["files"][0]

        revision = item.revision
        for bad in (
            {"silence": [[3.0, 2.0]]},
            {"silence": [[7.0, 8.0]]},  # past the 6-s video
            {"silence": [["a", 1]]},
            {"silence": "0-1"},
            {"voice": "loud"},
        ):
            with pytest.raises(ValueError):
                review.edit(0, {"revision": revision, **bad})
        assert item.revision == revision and json.loads(regions.read_text())["files"][0] == saved
        with pytest.raises(Stale):
            review.edit(0, {"revision": revision - 1, "voice": "keep"})
        review.edit(0, {"revision": revision, "voice": "keep"})  # on the page: less than this review's --voice
        assert review.decisions(0)["voice"] == "keep"

    # Resumed: the choice stands where the command's --voice asks for less, and is raised where it asks for more
    # (a regions file's setting never protects less than the command line asks, as under `unseen --regions`).
    for asked, shown in ((Voice.KEEP, "keep"), (Voice.DISGUISE, "disguise")):
        resumed = _review(talk_folder, regions, asked)
        try:
            view = resumed.decisions(0)
            assert view["voice"] == shown and view["silence"] == [[0.5, 0.75], [2.0, 3.0]]
        finally:
            resumed.close()


@pytest.mark.slow
def test_a_video_without_sound_has_no_speech_lane(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write_clip(folder / "silent.mp4", 1.0, [])
    with _heard(folder, tmp_path / "regions.json", lambda item: item.speech is not None) as review:
        assert review.decisions(0)["speech"] == {"streams": 0, "spans": []}
        assert review.summary()["files"][0]["sound"] == 0  # type: ignore[index]


@pytest.mark.slow
def test_sound_that_cannot_be_decoded_is_said_in_the_speech_lane(tmp_path: Path) -> None:
    from test_voice import write_garbled

    folder = tmp_path / "in"
    folder.mkdir()
    write_garbled(folder / "garbled.mp4")
    with _heard(folder, tmp_path / "regions.json", lambda item: item.unheard is not None) as review:
        view = review.decisions(0)
        assert view["speech"] is None
        assert "cannot be listened to (audio stream 1 cannot be decoded" in str(view["unheard"])
