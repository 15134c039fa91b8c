"""What each --quality means (one Preset each), chosen from measurements on the dev set (see README).

Every preset runs a few CenterFace passes at a low raw threshold and keeps what a calibrated fusion of their
scores says is a face (detectors/fusion.py); the weights and keep rules (fusions.json) are written by
tools/calibrate_fusion.py, for a collateral of about 0.7% (fast), 1% (balanced) and 1.5% (thorough) of the
pixels away from faces on the dev set.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources

from unseen.config import Quality, VideoPlan
from unseen.detectors.centerface import INT8_MODEL_NAME, MODEL_NAME, CenterFace
from unseen.detectors.compose import AtLeast, Flipped, Merged, Turned
from unseen.detectors.fusion import Fused, Fusion
from unseen.detectors.orient import PROBE_LONG_SIDE, PROBE_MODEL, SURE, TURNS, Probe, Upright
from unseen.faces import Detector
from unseen.verify.residual import SCALES


@dataclass(frozen=True)
class Pass:
    """One run of a detector (CenterFace; `make` for a candidate's model, tools/candidates) on the image resized by
    `scale`, mirrored or not, turned by `turn` degrees counter-clockwise or not, with the model file `model`,
    keeping faces at least `min_height` pixels high (in the original image)."""

    scale: float
    flip: bool = False
    model: str = MODEL_NAME
    turn: int = 0
    min_height: float = 0.0

    def detector(self, threshold: float, make: Callable[..., Detector] = CenterFace) -> Detector:
        detect: Detector = make(threshold=threshold, scale=self.scale, model=self.model)
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
    """Everything a --quality decides: a photo's passes and their fusion (its entry in fusions.json), the orientation
    probe, a video's search plan, and the residual check's scales."""

    passes: tuple[Pass, ...]
    fusion: Fusion
    upright: bool = False  # probe which way up the image is first (detectors/orient.py)
    video: VideoPlan = field(default_factory=VideoPlan)
    check_scales: tuple[float, ...] = SCALES  # the residual check's (verify/residual.py)

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

# Why these passes, plans and scales, as measured: docs/measurements-detection.md.
# --quality fast searches a large video in every FAST_SEARCH_EVERY-th step only, at the reduced scale, and checks
# one larger than 1080p (2.7K, 4K) shrunk to FAST_CHECK_PIXELS, as it would a 1080p one.
FAST_SEARCH_EVERY = 6
FAST_CHECK_PIXELS = 1920 * 1088
FAST_CHECK_SCALES = (0.5,)  # the residual check's: half the cost of residual.SCALES' 0.75
_INT8 = INT8_MODEL_NAME
_SIDEWAYS = (Pass(0.5, turn=90, min_height=32), Pass(0.5, turn=270, min_height=32))
PRESETS: dict[Quality, Preset] = {
    Quality.FAST: Preset(
        passes=(Pass(0.75, model=_INT8), Pass(0.375, model=_INT8)),
        fusion=fitted(Quality.FAST),
        video=VideoPlan(full_resolution=False, search_every=FAST_SEARCH_EVERY, check_pixels=FAST_CHECK_PIXELS),
        check_scales=FAST_CHECK_SCALES,
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
    keep: dict[str, object] = (
        {"threshold": threshold} if threshold is not None else {"threshold": FLOOR, "fusion": "calibrated"}
    )
    return [{**p.describe(), **keep} for p in preset.passes]


def describe_orientation(quality: Quality) -> dict[str, object] | None:
    """The orientation probe as it will run, for the report (none in fast)."""
    if not PRESETS[quality].upright:
        return None
    return {"model": PROBE_MODEL, "long_side": PROBE_LONG_SIDE, "sure_score": SURE, "turns": [90 * k for k in TURNS]}
