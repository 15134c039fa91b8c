"""The detector behind each --quality preset, chosen from measurements on the dev set (see README).

Every preset runs a few CenterFace passes at a low raw threshold and keeps what a calibrated fusion of their
scores says is a face (detectors/fusion.py); the weights and keep rules (fusions.json) are written by
tools/calibrate_fusion.py, for a collateral of about 0.7% (fast), 1% (balanced) and 1.5% (thorough) of the
pixels away from faces on the dev set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from unseen.config import Quality
from unseen.detectors.centerface import INT8_MODEL_NAME, MODEL_NAME, CenterFace
from unseen.detectors.compose import AtLeast, Flipped, Merged, Turned
from unseen.detectors.fusion import Fused, Fusion
from unseen.detectors.orient import PROBE_LONG_SIDE, PROBE_MODEL, SURE, TURNS, Probe, Upright
from unseen.detectors.retinaface import RetinaFace
from unseen.detectors.ultralight import UltraLight
from unseen.detectors.yunet import YuNet
from unseen.faces import Detector


def family(model: str) -> type[CenterFace] | type[YuNet] | type[RetinaFace] | type[UltraLight]:
    """The detector class that runs a model file, by the file's name (CenterFace's unless another's)."""
    for prefix, kind in (("yunet", YuNet), ("retinaface", RetinaFace), ("ultralight", UltraLight)):
        if model.startswith(prefix):
            return kind
    return CenterFace


@dataclass(frozen=True)
class Pass:
    """One run of a detector (the family of `model`, see family()): on the image resized by `scale`, mirrored
    or not, turned by `turn` degrees counter-clockwise or not, with the model file `model`, keeping faces at
    least `min_height` pixels high (in the original image)."""

    scale: float
    flip: bool = False
    model: str = MODEL_NAME
    turn: int = 0
    min_height: float = 0.0

    def detector(self, threshold: float) -> Detector:
        detect: Detector = family(self.model)(threshold=threshold, scale=self.scale, model=self.model)
        if self.turn % 360:
            detect = Turned(detect, self.turn // 90)
        if self.flip:
            detect = Flipped(detect)
        return AtLeast(detect, self.min_height) if self.min_height else detect

    def describe(self) -> dict[str, object]:
        turned = {"turn": self.turn} if self.turn else {}
        floor = {"min_height": self.min_height} if self.min_height else {}
        return {"scale": self.scale, "flip": self.flip, "model": self.model, **turned, **floor}

    def key(self) -> str:
        """A name for this pass's cached results (tools/calibrate_fusion.py)."""
        parts = [self.model, str(self.scale), "flip" if self.flip else "", f"turn{self.turn}" if self.turn else ""]
        return "_".join(p for p in [*parts, f"min{self.min_height:g}" if self.min_height else ""] if p)


@dataclass(frozen=True)
class Preset:
    passes: tuple[Pass, ...]
    fusion: Fusion
    upright: bool = False  # probe which way up the image is first (detectors/orient.py)

    def models(self) -> set[str]:
        """The model files this preset runs."""
        return {p.model for p in self.passes} | ({PROBE_MODEL} if self.upright else set())


FUSIONS = "fusions.json"  # in this package: each preset's fitted fusion, written by tools/calibrate_fusion.py


def fitted(quality: Quality) -> Fusion:
    """The preset's fusion as the calibration tool wrote it."""
    entry = json.loads(resources.files(__package__).joinpath(FUSIONS).read_text(encoding="utf-8"))[quality.value]
    return Fusion(tuple(float(w) for w in entry["weights"]), float(entry["size_penalty"]), float(entry["threshold"]))


# Passes find candidates down to this raw score; the fusion decides which are faces.
FLOOR = 0.05

# Why these passes (dev set, 2 cores): the scale-1 pass finds most faces; 0.5 finds large, close faces that
# scale 1 scores low; 1.5 finds faces under 16 px. Flips help only at the higher collateral that thorough
# allows. Fast runs the int8 model (about 1.6× faster than fp32, as good at these scales) at 0.75, with a
# 0.375 pass that costs little and finds the large faces that 0.75 scores low.
# Balanced runs its 1.5 pass (two thirds of its pixels) with the int8 model: detection took 426 ms per dev
# image instead of 677, and the fusion refitted on it lost 0.2 points of recall in the two-fold
# cross-validation (95.7 -> 95.5%), all of it under 16 px; faces of 16 px and more were found as before.
# Faces lying sideways: CenterFace finds upright faces. Balanced and thorough first probe which way up the
# image is (detectors/orient.py) and search a photo that lies on its side turned upright too. Thorough also
# runs two passes at scale 0.5 on the image turned 90° and 270°, keeping boxes of 32 px or more, for single
# people lying down (on the ground, on a stretcher, a head hanging over a rail) in upright photos: on the dev
# set they found 1 more face of 64 px and more, 2 more of 32–64 px and 1 more of 16–32 px at less collateral
# (bench, 1.44 -> 1.42%), and lost 4 under 16 px. In balanced the same passes cost more small faces than they
# found large ones at 1% collateral (all faces 96.5 -> 96.1%), so balanced runs without them. Small boxes from
# turned passes were mostly false alarms, hence the 32-px floor; upside down (180°) found nothing more of 32 px
# and more.
# Each fusion is read from fusions.json beside this file, which tools/calibrate_fusion.py --write writes with the
# arguments and commit it was fitted with and its fit and two-fold cross-validated recall estimates. The
# tool's --collateral is its single-mask estimate, which counts overlapping masks twice: bench/protect.py
# measures about 0.97% (fast), 0.96% (balanced) and, for thorough at the tool's own threshold, 1.59%, so
# thorough is fitted with --threshold -3.965 (the tool chose -3.983), where the benchmark measures 1.42%.
# Videos do not run these passes (too slow for every frame): video.py searches each frame with one int8
# CenterFace pass, full resolution every 3rd frame and a 0.75 scale on the others (at 1080p; at 45 fps and
# more, frames are taken in steps of about 1/30 s and only the first of each is searched), and the tracker
# covers what it misses for a while; --quality fast there searches every 6th frame at 0.75 only (86% of the
# bench clip's face-frames at 2.7% collateral, against 96% at 5%; README "Videos").
_INT8 = INT8_MODEL_NAME
_SIDEWAYS = (Pass(0.5, turn=90, min_height=32), Pass(0.5, turn=270, min_height=32))
PRESETS: dict[Quality, Preset] = {
    Quality.FAST: Preset(
        passes=(Pass(0.75, model=_INT8), Pass(0.375, model=_INT8)),
        fusion=fitted(Quality.FAST),
    ),
    Quality.BALANCED: Preset(
        passes=(Pass(0.5), Pass(1.0), Pass(1.5, model=_INT8)),
        fusion=fitted(Quality.BALANCED),
        upright=True,
    ),
    Quality.THOROUGH: Preset(
        passes=(Pass(0.5), Pass(1.0), Pass(1.0, flip=True), Pass(1.5), Pass(1.5, flip=True), *_SIDEWAYS),
        fusion=fitted(Quality.THOROUGH),
        upright=True,
    ),
}


def build_detector(quality: Quality = Quality.BALANCED, threshold: float | None = None) -> Detector:
    """The preset's detector. A `threshold` given by the user replaces the calibrated fusion: every pass
    keeps what scores at least that, and overlapping boxes are merged by non-maximum suppression. The
    orientation probe runs either way where the preset has it."""
    preset = PRESETS[quality]
    detector: Detector
    if threshold is not None:
        passes = [p.detector(threshold) for p in preset.passes]
        detector = passes[0] if len(passes) == 1 else Merged(passes)
    else:
        detector = Fused([p.detector(FLOOR) for p in preset.passes], preset.fusion)
    return Upright(detector, Probe()) if preset.upright else detector


def describe(quality: Quality, threshold: float | None) -> list[dict[str, object]]:
    """The passes as they will run, for the report."""
    preset = PRESETS[quality]
    keep = {"threshold": threshold} if threshold is not None else {"threshold": FLOOR, "fusion": "calibrated"}
    return [{**p.describe(), **keep} for p in preset.passes]


def describe_orientation(quality: Quality) -> dict[str, object] | None:
    """The orientation probe as it will run, for the report (none in fast)."""
    if not PRESETS[quality].upright:
        return None
    return {"model": PROBE_MODEL, "long_side": PROBE_LONG_SIDE, "sure_score": SURE, "turns": [90 * k for k in TURNS]}
