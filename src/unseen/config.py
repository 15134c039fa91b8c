"""What a run was asked to do, once the command line is read: typed, frozen, and the same everywhere.

The parser (arguments.py) builds a RunConfig once; everything below it (cli.py, the review command, the
per-file work, the Ray workers it is pickled to) reads this and never the command line. A new option is
added in three places: its flag in arguments.py, its meaning as a field here (in PhotoOptions or
VideoOptions when only one kind of media reads it, in RunConfig when the run as a whole does), and its use
in the media pipeline that reads it (photo.py, video.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path

from unseen.media.image import DEFAULT_MAX_PIXELS
from unseen.obscure import DEFAULT_GROW, Method
from unseen.track import TrackerSettings

DEFAULT_CRF = 18  # x264's "visually lossless" end: the picture is not worse than the input to the eye
DEFAULT_FULL_EVERY = 3  # video.py: every 3rd frame searched at full resolution, the others reduced
DEFAULT_SEARCH_EVERY = 1


class Quality(str, Enum):
    """--quality: how hard faces are looked for (detectors/presets.py says what each one runs)."""

    FAST = "fast"
    BALANCED = "balanced"
    THOROUGH = "thorough"


class Voice(str, Enum):
    """--voice: what the voices in a video's audio streams get (audio/voice.py does it); declared from the least
    protection to the most (at_least relies on it)."""

    KEEP = "keep"  # the sound as recorded (the default: the sound of an event is often the evidence)
    DISGUISE = "disguise"  # every stream changed by audio/disguise.py: the words stay, the voice is not theirs
    MUTE = "mute"  # silence wherever a voice is heard, every other sound kept

    def at_least(self, other: Voice | None) -> Voice:
        """The more protective of this setting and `other` (mute > disguise > keep): a regions file's choice for
        a video applies under `unseen --regions`, never with less protection than the command line asked."""
        order = list(Voice)
        return self if other is None or order.index(self) >= order.index(other) else other


@dataclass(frozen=True)
class PhotoOptions:
    """How a file's faces are obscured, and its output written and checked (photos; videos read these too)."""

    method: Method = Method.SOLID
    strength: float = 1.0
    grow: float = DEFAULT_GROW
    overwrite: bool = False
    max_pixels: int = DEFAULT_MAX_PIXELS
    verify: bool = True  # the residual check on every photo and video written
    reid: bool = False  # the re-identification check too, on photos (needs the verify extra)
    strict: bool = False  # an output the checks flag is not published: the file fails
    sensor_noise: bool = True  # take the camera's sensor fingerprint out of photos (media/sensor_noise.py)


@dataclass(frozen=True)
class VideoPlan:
    """How a video larger than video.REDUCED_PIXELS is searched and checked: the quality's (detectors/presets.py)."""

    full_resolution: bool = True  # every VideoOptions.full_every-th step searched at full resolution
    search_every: int | None = None  # every N-th of the other steps searched, reduced; None: VideoOptions'
    check_pixels: int | None = None  # the check shrinks a larger frame to about this many pixels; None: never


@dataclass(frozen=True)
class VideoOptions:
    """What only videos read: the encoder, the audio, and the search plan (video.py)."""

    crf: int = DEFAULT_CRF
    codec: str | None = None  # None: H.264, or GIF for a GIF
    audio: bool = True
    voice: Voice = Voice.KEEP  # --voice: what the audio streams' voices get (audio/voice.py)
    full_every: int = DEFAULT_FULL_EVERY  # 1: every frame searched at full resolution
    search_every: int = DEFAULT_SEARCH_EVERY  # 1: every frame searched
    plan: VideoPlan = field(default_factory=VideoPlan)  # the quality's search plan (presets.Preset.video)
    tracker: TrackerSettings = field(default_factory=TrackerSettings)
    progress: bool = False  # a progress bar on stderr (when it is a terminal)

    def __post_init__(self) -> None:
        if not 0 <= self.crf <= 51:
            raise ValueError(f"crf must be between 0 and 51, not {self.crf}")
        if self.full_every < 1:
            raise ValueError(f"full_every must be at least 1, not {self.full_every}")
        if self.search_every < 1:
            raise ValueError(f"search_every must be at least 1, not {self.search_every}")


@dataclass(frozen=True)
class RunConfig:
    """One run of `unseen` (or the shared part of `unseen review`), as asked for."""

    paths: tuple[Path, ...]  # the files and folders given
    output: Path | None = None  # -o; None: NAME_unseen beside each input
    photo: PhotoOptions = field(default_factory=PhotoOptions)
    video: VideoOptions = field(default_factory=VideoOptions)
    quality: Quality = Quality.BALANCED
    threshold: float | None = None  # None: each preset's own
    fmt: str | None = None  # the format written (formats.WRITABLE's name); None: the input's
    report: Path | None = None
    report_full_paths: bool = False
    quiet: bool = False
    rename: bool = False  # `unseen review` never renames
    rename_map: Path | None = None
    regions_out: Path | None = None  # detect only, into this regions file
    regions: Path | None = None  # write from the decisions in this regions file
    ray: str | None = None  # a Ray address, or scale.ray_run.LOCAL
    ray_workers: int | None = None
    device: str | None = None  # device.DEVICES; None: auto

    @property
    def inputs(self) -> list[Path]:
        return list(self.paths)

    @property
    def detect_only(self) -> bool:
        return self.regions_out is not None

    def overwriting(self) -> RunConfig:
        """The same run, replacing outputs that exist (a Ray task redoing what an earlier try published)."""
        return replace(self, photo=replace(self.photo, overwrite=True))


@dataclass(frozen=True)
class ReviewConfig:
    """`unseen review`: the run's options, where the decisions are kept, and whether a browser is opened."""

    run: RunConfig
    regions: Path | None  # None: OUT.regions.json beside the output folder
    browser: bool = True
