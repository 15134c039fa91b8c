"""The command line: the flags of `unseen` and `unseen review`, read once into a config.RunConfig.

This is the only module that sees an argparse.Namespace. A new option gets its flag here (in
add_shared_options when `unseen review` takes it too), and `_run_config` puts its value in the field of
config.py that says what it means.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from unseen import __version__, device, formats
from unseen.config import (
    DEFAULT_CRF,
    DEFAULT_FULL_EVERY,
    PhotoOptions,
    Quality,
    ReviewConfig,
    RunConfig,
    VideoOptions,
    Voice,
)
from unseen.detectors.presets import PRESETS
from unseen.errors import EXIT_USAGE
from unseen.media.image import DEFAULT_MAX_PIXELS
from unseen.names import printable
from unseen.obscure import DEFAULT_GROW, Method
from unseen.verify.reid import MIN_HEIGHT
from unseen.verify.video_check import CHECK_EVERY
from unseen.video import VIDEO_CODECS

# --format takes a writable format's name or its output suffix: jpeg or jpg, png, webp, tiff or tif.
FORMAT_NAMES = {key: name for name in formats.WRITABLE for key in (name.lower(), formats.write_suffix(name)[1:])}


def run_config(argv: Sequence[str]) -> RunConfig:
    """`unseen PATH… [options]` read; argparse's own exit (SystemExit) for --help, --version and a bad flag."""
    args = _parser().parse_args(argv)
    shared = _shared(args)
    video = VideoOptions(
        crf=args.crf,
        codec=args.codec,
        audio=not args.no_audio,
        voice=Voice(args.voice),
        full_every=args.full_every,
        plan=PRESETS[shared.quality].video,
        progress=not args.quiet,
    )
    return replace(
        shared,
        video=video,
        rename=args.rename,
        rename_map=args.rename_map,
        regions_out=args.regions_out,
        regions=args.regions,
        ray=args.ray,
        ray_workers=args.ray_workers,
        device=args.device,
    )


def review_config(argv: Sequence[str]) -> ReviewConfig:
    """`unseen review PATH… -o OUT [options]` read (its --regions is where the decisions are kept)."""
    args = _review_parser().parse_args(argv)
    run = replace(_shared(args), video=VideoOptions(voice=Voice(args.voice)))
    return ReviewConfig(run=run, regions=args.regions, browser=not args.no_browser)


def _shared(args: argparse.Namespace) -> RunConfig:
    """What the options both commands take (add_shared_options) mean."""
    photo = PhotoOptions(
        method=Method(args.method),
        strength=args.strength,
        grow=args.grow,
        overwrite=args.overwrite,
        max_pixels=args.max_pixels,
        verify=args.verify,
        reid=args.reid,
        strict=args.strict,
        sensor_noise=not args.keep_sensor_noise,
    )
    return RunConfig(
        paths=tuple(args.paths),
        output=args.output,
        photo=photo,
        quality=Quality(args.quality),
        threshold=args.threshold,
        fmt=FORMAT_NAMES[args.format] if args.format else None,
        report=args.report,
        report_full_paths=args.report_full_paths,
        quiet=args.quiet,
    )


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: the user asked for something that cannot be done.
        self.exit(EXIT_USAGE, f"unseen: {printable(message)} (see {self.prog} --help)\n")  # it may quote an argument


def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="unseen",
        description="Make photos and videos safe to share: obscure every face, strip metadata. "
        "To look at and correct what it does before anything is written: unseen review PATH -o OUT",
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="image and video files, and folders (recursive)")
    p.add_argument("-o", "--output", type=Path, help="output folder (default: NAME_unseen beside each input)")
    p.add_argument(
        "--rename",
        action="store_true",
        help="name the outputs 0001.jpg, 0002.mp4, ... in the order found, straight in -o, instead of after the "
        "originals and their folders (phone names hold the time taken); the report then names no original",
    )
    p.add_argument(
        "--rename-map",
        type=Path,
        metavar="FILE.csv",
        help="with --rename: write which original became which output to FILE, the only place their names are kept",
    )
    add_shared_options(p)
    v = p.add_argument_group("videos")
    v.add_argument(
        "--crf", type=_crf, default=DEFAULT_CRF, help=f"video quality, 0 (lossless) to 51 (default {DEFAULT_CRF})"
    )
    v.add_argument("--codec", choices=VIDEO_CODECS, help="video codec (default: h264; gif for an animated GIF)")
    v.add_argument("--no-audio", action="store_true", help="drop the audio streams (default: copied unchanged)")
    add_voice_option(
        v,
        "the voices in a video's sound: keep (default: as recorded; a line says when speech is heard), disguise "
        "(changed so that a speaker verifier cannot link them; the words stay), or mute (silence where speech is "
        "heard, every other sound kept); with --regions, a video's own setting in the file applies where it "
        "protects more; see docs/voices-in-videos.md",
    )
    v.add_argument(
        "--full-every",
        type=_positive_int,
        default=DEFAULT_FULL_EVERY,
        metavar="N",
        help=f"search every N-th frame at full resolution, the others reduced (default {DEFAULT_FULL_EVERY}; 1: all; "
        "at 45 fps and more, frames are taken in steps of about 1/30 s and N counts steps)",
    )
    r = p.add_argument_group("regions file (decisions a person can check and correct; see also: unseen review)")
    r.add_argument(
        "--regions-out",
        type=Path,
        metavar="FILE.json",
        help="detect only: write what would be obscured in each photo and video to FILE, and no output",
    )
    r.add_argument(
        "--regions",
        type=Path,
        metavar="FILE.json",
        help="write the outputs from FILE: each file it lists gets exactly its regions obscured, without detection",
    )
    add_scale_options(p)
    p.add_argument("--version", action="version", version=f"unseen {__version__}")
    return p


def _review_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="unseen review",
        description="Look at what unseen found in each photo, correct it (add, move, delete regions), approve, "
        "and publish the approved photos. The page runs on this computer only (127.0.0.1).",
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="photos and folders (recursive)")
    p.add_argument("-o", "--output", type=Path, required=True, help="where the approved photos are written")
    p.add_argument(
        "--regions",
        type=Path,
        metavar="FILE.json",
        help="where the decisions are kept, and resumed from (default: OUT.regions.json beside the output folder)",
    )
    p.add_argument("--no-browser", action="store_true", help="print the page's address, do not open a browser")
    add_voice_option(
        p,
        "what the voices in each video's sound get until you choose otherwise for that video on the page: keep "
        "(default), disguise or mute; see docs/review.md",
    )
    add_shared_options(p)
    return p


def add_voice_option(p: argparse.ArgumentParser | argparse._ArgumentGroup, said: str) -> None:
    """--voice, which `unseen` and `unseen review` take with their own help."""
    p.add_argument("--voice", choices=[v.value for v in Voice], default=Voice.KEEP.value, help=said)


def add_scale_options(p: argparse.ArgumentParser) -> None:
    """Where the work runs: a Ray cluster (unseen.scale.ray_run) and the device detection runs on."""
    s = p.add_argument_group("scale (pip install 'unseen[ray]' for --ray, 'unseen[gpu]' for --device cuda)")
    s.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="run on Ray: a local Ray started for the run, or the cluster at ADDRESS (every node must see the "
        "inputs and -o at the same paths); a re-run skips outputs already done",
    )
    s.add_argument("--ray-workers", type=_positive_int, metavar="N", help="photo workers on Ray (default: one a CPU)")
    s.add_argument("--device", choices=device.DEVICES, help="where detection runs (default: auto, CUDA if usable)")


def add_shared_options(p: argparse.ArgumentParser) -> None:
    """The options `unseen` and `unseen review` share: how faces are found, obscured, checked and written."""
    p.add_argument("--format", choices=sorted(FORMAT_NAMES), help="write this format instead of the input's")
    p.add_argument(
        "--method",
        choices=[m.value for m in Method],
        default=Method.SOLID.value,
        help="how faces are obscured (default: solid; pixelate and blur can be undone by recognisers)",
    )
    p.add_argument("--strength", type=_fraction, default=1.0, help="pixelate/blur coarseness in (0, 1] (default 1)")
    p.add_argument("--grow", type=_grow, default=DEFAULT_GROW, help=f"region size / face box (default {DEFAULT_GROW})")
    p.add_argument(
        "--quality",
        choices=[q.value for q in Quality],
        default=Quality.BALANCED.value,
        help="detection effort (default: balanced)",
    )
    p.add_argument("--threshold", type=_fraction, help="detection score threshold (default: the preset's)")
    p.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        help="do not re-read each written photo or video to look for faces left visible (the residual check, "
        f"on by default; in a video, on every {CHECK_EVERY}th frame, or step at 45 fps and more, and the last)",
    )
    p.add_argument(
        "--reid",
        action="store_true",
        help=f"also check that a face recogniser cannot match any obscured face of {MIN_HEIGHT} px or more "
        "to the original (photos only; needs: pip install 'unseen[verify]')",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="an output the checks flag is not written: that file fails and the run exits 3 "
        "(exit codes: 0 all done, 1 some failed, 2 usage error, 3 some refused by --strict, which wins over 1)",
    )
    p.add_argument(
        "--keep-sensor-noise",
        action="store_true",
        help="leave the camera's sensor noise in photos (by default its fine grain is replaced: that noise links a "
        "photo to the camera that took it; see docs/camera-noise.md)",
    )
    p.add_argument("--report", type=Path, metavar="FILE.json", help="write a JSON report of what was done")
    p.add_argument(
        "--report-full-paths",
        action="store_true",
        help="give full paths in the report (default: paths from the folders and files given, which keeps the "
        "folders above them, often a user name or an event, out of a report that is shared)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing output files (never an input)")
    p.add_argument(
        "--max-pixels",
        type=_positive_int,
        default=DEFAULT_MAX_PIXELS,
        help=f"refuse images with more pixels than this (default {DEFAULT_MAX_PIXELS:,})",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary; problems only")


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def _fraction(text: str) -> float:
    value = _float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not in (0, 1]")
    return value


def _grow(text: str) -> float:
    value = _float(text)
    if not 1.0 <= value <= 4.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 1 and 4")
    return value


def _crf(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 51:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 51")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value
