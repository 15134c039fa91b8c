"""A hostile corpus, made at run time, against the command's contract (issue 5).

The contract: exit 0 when every input was done, 1 when some failed, with exactly one line `unseen: PATH: reason`
on stderr for each failed file; never a traceback; no output and no temporary file for a failed file; the
original never changed; the other files of a batch go on. Each input is run alone (in this process, which keeps
the detector's sessions warm), then the whole corpus in one folder, in one run of a child process.

Two conditions cannot be made for real everywhere, and are simulated (`simulated`): a file that cannot be read
(chmod 000 does not bind root; where it binds, the file is also locked for real) and a full disk (the encoder
writes part of the file, then fails with ENOSPC).

The reading paths are fuzzed with damaged bytes (bounded in time: Hypothesis, derandomized): photos of each
format in test_image_io, and here the corpus's harder photos (frames, palettes, 16 bits, CMYK, EXIF) and MP4s.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from conftest import SAMPLE, SAMPLE_FACE, changed_share, load_rgb, sha256
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from test_image_io import (
    CONTROL,
    _animated_webp,
    _cmyk,
    _gradient16,
    _multipage_tiff,
    _palette,
    _png_header,
    _truncated,
    _turned_sample,
    pattern,
)
from test_video import write_clip

from unseen import cli, device, photo, publish
from unseen.detectors import centerface
from unseen.media.colour import working_pixels
from unseen.media.image import DEFAULT_MAX_PIXELS, read_image
from unseen.media.pixels import ImageReadError
from unseen.media.videofile import VideoReader, VideoReadError, VideoWriter, upright_rgb
from unseen.names import display

TMP_SUFFIX = publish.TMP_SUFFIX
FULL_DISK = (40, 24)  # a photo of this size meets a full disk when it is written; a video named full_disk too


@contextmanager
def simulated() -> Iterator[None]:
    """Inputs named unreadable* cannot be read, and outputs of FULL_DISK photos and full_disk* videos fill the disk."""
    read_image, save, mux = photo.read_image, Image.Image.save, VideoWriter._mux

    def unreadable(path: Path, *args: Any) -> Any:
        if path.name.startswith("unreadable"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return read_image(path, *args)

    def full_disk(self: Image.Image, fp: Any, *args: Any, **kwargs: Any) -> None:
        if self.size == FULL_DISK:
            fp.write(b"half an image")
            raise OSError(errno.ENOSPC, "No space left on device")
        save(self, fp, *args, **kwargs)

    def full_disk_video(self: VideoWriter, packets: list[av.Packet]) -> None:
        if self.target.name.startswith("full_disk"):
            raise av.error.OSError(errno.ENOSPC, "No space left on device")
        mux(self, packets)

    photo.read_image, Image.Image.save, VideoWriter._mux = unreadable, full_disk, full_disk_video
    try:
        yield
    finally:
        photo.read_image, Image.Image.save, VideoWriter._mux = read_image, save, mux


# `unseen ARGS` in a child process, as a user runs it, with the same simulations.
LAUNCHER = f"""
import sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_hostile import simulated
from unseen import cli
with simulated():
    code = cli.main(sys.argv[1:])
sys.exit(code)
"""


# --- the corpus ----------------------------------------------------------------------------------------------


def small(path: Path, size: tuple[int, int] = (64, 48)) -> None:
    """A small PNG without a face, whatever the name says: where a face is not the point, the detector has little
    to do."""
    Image.fromarray(pattern()).resize(size).save(path, format="PNG")


def frames(count: int, width: int = 128, height: int = 96) -> list[np.ndarray]:
    base = np.random.default_rng(3).integers(0, 256, (height // 16, width // 16, 3), dtype=np.uint8)
    return [np.kron(np.roll(base, i, axis=1), np.ones((16, 16, 1), np.uint8)) for i in range(count)]


def mp4(path: Path, moov_first: bool = False) -> None:
    """30 frames of 128×96 H.264, with sound, the index at the end; or, without sound, first (`moov_first`):
    then a cut file opens, and fails later."""
    if not moov_first:
        write_clip(path, frames(30), audio=True)
        return
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        video = out.add_stream("libx264", rate=30)
        video.width, video.height, video.pix_fmt = 128, 96, "yuv420p"
        for i, image in enumerate(frames(30)):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))


def cut_in_half(make: Callable[[Path], None]) -> Callable[[Path], None]:
    def made(path: Path) -> None:
        make(path)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    return made


def cut_between_frames(make: Callable[[Path], None]) -> Callable[[Path], None]:
    """The file ends exactly where its middle frame's data starts: it reads cleanly, only its index knows."""

    def made(path: Path) -> None:
        make(path)
        with av.open(str(path)) as container:
            starts = [p.pos for p in container.demux(container.streams.video[0]) if p.size]
        path.write_bytes(path.read_bytes()[: starts[len(starts) // 2]])

    return made


def unknown_sound(path: Path) -> None:
    """An MP4 whose audio codec no decoder knows: its sample entry and decoder configuration renamed."""
    mp4(path)
    path.write_bytes(path.read_bytes().replace(b"mp4a", b"abcd", 1).replace(b"esds", b"abcd", 1))


def animated_gif(path: Path) -> None:
    images = [Image.fromarray(image) for image in frames(4, 64, 48)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=100, loop=0)


def in_loops(make: Callable[[Path], object]) -> Callable[[Path], None]:
    """`make` a file of the folder `loops`, which three items share: a photo and two links that loop."""

    def made(path: Path) -> None:
        path.parent.mkdir(exist_ok=True)
        make(path)

    return made


@dataclass(frozen=True)
class Hostile:
    name: str  # in the corpus folder
    make: Callable[[Path], None]
    fails: str | None  # None: done; else what its one line on stderr says
    output: str | None = None  # what a done input is written as, when not under its own name
    face: bool = False  # it shows the sample upright: the face must be covered at SAMPLE_FACE
    locked: bool = False  # chmod 000 while the command runs

    @property
    def written(self) -> str:
        return self.output or self.name


CORPUS = [
    Hostile("cut.jpg", _truncated("JPEG"), "corrupt or truncated image"),
    Hostile("cut.png", _truncated("PNG"), "corrupt or truncated image"),
    Hostile("cut.mp4", cut_in_half(mp4), "not a video unseen can read"),  # its index was at the end
    Hostile("cut_moov_first.mp4", cut_in_half(lambda p: mp4(p, moov_first=True)), "truncated"),
    Hostile("cut_between_frames.mp4", cut_between_frames(lambda p: mp4(p, moov_first=True)), "lists 30 frames"),
    Hostile("empty.jpg", lambda p: p.write_bytes(b""), "empty file (0 bytes)"),
    Hostile("png_named.jpg", small, None),  # read as what it is
    Hostile("mp4_named.jpg", lambda p: write_clip(p, frames(30), fmt="mp4"), "a video (MP4), not a photo as its name"),
    Hostile("png_named.mp4", small, "a photo (PNG), not a video as its name says: rename it to end in .png"),
    Hostile("text.jpg", lambda p: p.write_text("not a photo\n" * 20), "not an image"),
    Hostile("one_pixel.png", lambda p: small(p, (1, 1)), None),
    Hostile("one_row.png", lambda p: small(p, (100_000, 1)), None),
    Hostile("bomb.png", lambda p: p.write_bytes(_png_header(100_000, 100_000)), "250,000,000-pixel limit"),
    Hostile("deep16.png", lambda p: Image.fromarray(_gradient16()).save(p), None),
    Hostile("cmyk.jpg", _cmyk, None),
    Hostile("palette.png", _palette, None),  # with a transparent colour
    Hostile("anim.webp", _animated_webp, None),  # frame by frame, written as an animated WebP
    Hostile("pages.tif", _multipage_tiff, None),  # page by page, written as a multi-page TIFF
    Hostile("anim.gif", animated_gif, None),  # through the video path, written as a GIF
    Hostile("unknown_sound.mp4", unknown_sound, None),  # written without the sound it cannot read
    *(Hostile(f"orient{n}.jpg", lambda p, n=n: _turned_sample(p, n), None, face=True) for n in range(1, 9)),
    Hostile("gray.png", lambda p: Image.fromarray(pattern()).convert("L").save(p), None),
    Hostile("loops/a.png", in_loops(small), None),
    Hostile("loops/loop", in_loops(lambda p: os.symlink(p.parent, p)), "symbolic link loop"),  # holds itself
    Hostile("loops/up", in_loops(lambda p: os.symlink("..", p)), "symbolic link loop"),  # and what holds it
    Hostile("self_link.png", lambda p: os.symlink(p.name, p), "symbolic link loop"),
    Hostile("unreadable.png", small, "permission denied", locked=True),
    Hostile(os.fsdecode(b"caf\xe9.png"), small, None),
    Hostile("full_disk.png", lambda p: small(p, FULL_DISK), "No space left on device"),
    Hostile("full_disk.mp4", mp4, "No space left on device"),
]


# --- checking the contract -------------------------------------------------------------------------------------


def files_under(root: Path) -> list[Path]:
    """Every file under `root`, not through links."""
    found = []
    for here, _dirs, names in os.walk(root):
        found.extend(Path(here) / name for name in names if not (Path(here) / name).is_symlink())
    return found


def guarded(corpus: Path, items: list[Hostile], run: Callable[[], tuple[int, str]]) -> tuple[int, str]:
    """`run` the command with the locked items locked; the originals must come out unchanged."""
    before = {path: sha256(path) for path in files_under(corpus)}
    locked = [corpus / item.name for item in items if item.locked]
    for path in locked:
        path.chmod(0)
    try:
        code, stderr = run()
    finally:
        for path in locked:
            path.chmod(0o644)
    assert {path: sha256(path) for path in files_under(corpus)} == before, "an original was changed"
    return code, stderr


def check_contract(code: int, stderr: str, corpus: Path, out: Path, items: list[Hostile]) -> None:
    assert "Traceback" not in stderr, stderr
    failed = [item for item in items if item.fails is not None]
    assert code == (1 if failed else 0), stderr
    lines = stderr.splitlines()
    for item in failed:
        mine = [line for line in lines if line.startswith(f"unseen: {display(corpus / item.name)}: ")]
        assert len(mine) == 1 and item.fails in mine[0], (item.name, stderr)
    assert len(lines) == len(failed), stderr  # and nothing else: with -q, problems only
    written = sorted(path.relative_to(out) for path in files_under(out)) if out.exists() else []
    assert written == sorted(Path(item.written) for item in items if item.fails is None)
    assert not [path for path in files_under(corpus.parent) if path.name.endswith(TMP_SUFFIX)]


def check_output(item: Hostile, out: Path) -> None:
    """A done input's output opens; where the sample's face shows, it is covered."""
    path = out / item.written
    if path.suffix in (".gif", ".mp4"):
        with av.open(str(path)) as container:
            assert [stream.type for stream in container.streams] == ["video"]
            assert sum(1 for _ in container.decode(video=0)) == (4 if path.suffix == ".gif" else 30)
        return
    with Image.open(path) as image:
        image.load()
    if item.face:
        sample, after = load_rgb(SAMPLE), load_rgb(path)
        assert after.shape == sample.shape
        assert changed_share(sample, after, SAMPLE_FACE) >= 0.9
        assert changed_share(sample, after, CONTROL) < 0.1  # the rest lies where the upright sample has it


@pytest.mark.parametrize("item", CORPUS, ids=[display(item.name) for item in CORPUS])
def test_each_hostile_input_alone(tmp_path: Path, capfd: pytest.CaptureFixture[str], item: Hostile) -> None:
    corpus, out = tmp_path / "in", tmp_path / "out"
    corpus.mkdir()
    item.make(corpus / item.name)
    capfd.readouterr()

    def run() -> tuple[int, str]:
        with simulated():
            code = cli.main([str(corpus), "-o", str(out), "-q"])
        return code, capfd.readouterr().err

    check_contract(*guarded(corpus, [item], run), corpus, out, [item])
    if item.fails is None:
        check_output(item, out)


@pytest.mark.slow  # several seconds: make test runs it, make quick does not
def test_whole_corpus_in_one_run(tmp_path: Path) -> None:
    corpus, out, report = tmp_path / "corpus", tmp_path / "out", tmp_path / "report.json"
    corpus.mkdir()
    for item in CORPUS:
        item.make(corpus / item.name)

    def run() -> tuple[int, str]:
        args = [corpus, "-o", out, "--report", report, "-q"]
        command = [sys.executable, "-c", LAUNCHER, *map(str, args)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        return done.returncode, done.stderr

    check_contract(*guarded(corpus, CORPUS, run), corpus, out, CORPUS)
    for item in CORPUS:
        if item.fails is None:
            check_output(item, out)
    found = json.loads(report.read_text(encoding="utf-8"))
    files = {entry["input"]: entry for entry in found["files"]}
    # The report's paths start at the folders given (corpus/, out/), never at the file system's root.
    assert sorted(files) == sorted(display(Path("corpus", item.written)) for item in CORPUS)
    for item in CORPUS:
        entry = files[display(Path("corpus", item.written))]
        if item.fails is None:
            assert (entry["status"], entry["output"]) == ("done", display(Path("out", item.written))), entry
        else:
            assert (entry["status"], entry["output"]) == ("failed", None) and item.fails in entry["reason"], entry
    failed = sum(1 for item in CORPUS if item.fails)
    assert (found["summary"]["done"], found["summary"]["failed"]) == (len(CORPUS) - failed, failed)


def test_a_long_thin_image_is_searched_in_runs_no_larger_than_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model input's side is never under 32 pixels, so the overview of a 100000×1 image must shrink its long
    side further than its area says: it once grew to 635008×32 (20 megapixels, 25 s, gigabytes)."""
    runs: list[int] = []

    class Recording:  # the model's outputs for an input of this size, with no face in them
        def __init__(self, name: str) -> None:
            pass

        def run(self, names: object, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
            _, _, height, width = feed["input.1"].shape
            runs.append(height * width)
            return [np.zeros((1, n, height // 4, width // 4), np.float32) for n in (1, 2, 2, 10)]

    monkeypatch.setattr(device, "session", Recording)
    assert not len(centerface.CenterFace(scale=1.5)(np.zeros((1, 100_000, 3), np.uint8)))
    assert len(runs) > 1 and max(runs) <= centerface.MAX_RUN_PIXELS


# --- fuzz: the corpus damaged further --------------------------------------------------------------------------


def jpeg_pages(path: Path) -> None:
    pages = [Image.fromarray(pattern()), Image.fromarray(255 - pattern())]
    pages[0].save(path, format="TIFF", compression="jpeg", save_all=True, append_images=pages[1:])


FUZZED_PHOTOS = {"pages.tif": jpeg_pages} | {
    item.name: item.make
    for item in CORPUS
    if item.name in ("anim.gif", "anim.webp", "palette.png", "cmyk.jpg", "deep16.png", "gray.png", "orient6.jpg")
}
FUZZED_VIDEOS = {"index_last.mp4": mp4, "index_first.mp4": lambda p: mp4(p, moov_first=True)}


@cache
def made(name: str) -> bytes:
    """The bytes of a fuzzed file, made once (not a fixture: Hypothesis would print them with a failing case)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        {**FUZZED_PHOTOS, **FUZZED_VIDEOS}[name](path)
        return path.read_bytes()


def damaged(data: bytes, cut: float, flips: list[tuple[float, int]]) -> bytes:
    """`data` cut to a share of its length, with some bytes set to other values."""
    kept = bytearray(data[: max(1, int(len(data) * cut))])
    for where, value in flips:
        kept[int(where * (len(kept) - 1))] = value
    return bytes(kept)


def one_line(error: Exception) -> bool:
    return bool(str(error)) and "\n" not in str(error)


FUZZ = settings(
    max_examples=150,
    deadline=2000,  # milliseconds for one case; each test takes a few seconds at most
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
CUTS = st.one_of(st.just(1.0), st.floats(0.05, 1.0))
FLIPS = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=8)


@FUZZ
@given(name=st.sampled_from(sorted(FUZZED_PHOTOS)), cut=CUTS, flips=FLIPS)
def test_damaged_photos_fail_as_unreadable_never_otherwise(
    tmp_path: Path, name: str, cut: float, flips: list[tuple[float, int]]
) -> None:
    """read_image gives H×W×3 or ×4 uint8 pixels, or ImageReadError in one line: nothing else escapes."""
    path = tmp_path / name
    path.write_bytes(damaged(made(name), cut, flips))
    try:
        pixels = read_image(path).pixels
    except ImageReadError as error:
        assert one_line(error), error
    else:
        assert pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] in (3, 4)


# --- fuzz: damaged videos ------------------------------------------------------------------------------------


@FUZZ
@given(name=st.sampled_from(sorted(FUZZED_VIDEOS)), cut=CUTS, flips=FLIPS)
@pytest.mark.slow
def test_damaged_videos_fail_as_unreadable_never_otherwise(
    tmp_path: Path, name: str, cut: float, flips: list[tuple[float, int]]
) -> None:
    """Opening and reading a damaged MP4 gives frames, or VideoReadError in one line: nothing else escapes."""
    path = tmp_path / name
    path.write_bytes(damaged(made(name), cut, flips))
    try:
        reader = VideoReader(path, keep_audio=True, max_pixels=DEFAULT_MAX_PIXELS)
    except VideoReadError as error:
        assert one_line(error), error
        return
    try:
        for decoded in reader:
            if decoded.frame is not None:  # what the pipeline does with each frame
                assert working_pixels(decoded.frame, "yuv420p").dtype == np.uint8
                assert upright_rgb(decoded.frame, 1.0).shape[2] == 3
    except VideoReadError as error:
        assert one_line(error), error
    finally:
        reader.close()


def test_damaged_tiffs_get_one_line_each_without_the_decoders_own_messages(tmp_path: Path) -> None:
    """libtiff and Pillow's logger print their own complaints about a damaged TIFF ("Using code not yet in
    table.", "TIFFFillStrip: Read error ..."); only unseen's one line per file may reach stderr."""
    rng = np.random.default_rng(1)
    source = tmp_path / "in"
    source.mkdir()
    clean = tmp_path / "clean.tif"
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(clean, compression="tiff_lzw")
    data = clean.read_bytes()
    for i in range(40):  # damage the strip data and the directory at the end, where libtiff complains most
        damaged = bytearray(data)
        for offset in rng.integers(len(data) - 200, len(data), 3):
            damaged[offset] = int(rng.integers(0, 256))
        (source / f"bad{i:02d}.tif").write_bytes(bytes(damaged))
    result = subprocess.run(
        [sys.executable, "-m", "unseen", str(source), "-o", str(tmp_path / "out"), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = result.stderr.splitlines()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert lines, "no damaged TIFF failed: the test shows nothing about the decoders' messages"
    assert all(line.startswith(f"unseen: {source}/bad") for line in lines), result.stderr
    assert len(lines) == len({line.split(":")[1] for line in lines})  # at most one line per file
