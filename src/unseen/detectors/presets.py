"""The detector behind each --quality preset, chosen from measurements on the dev set (see README).

Every preset runs a few CenterFace passes at a low raw threshold and keeps what a calibrated fusion of their
scores says is a face (detectors/fusion.py); the weights and keep rules below are written by
tools/calibrate_fusion.py, for a collateral of about 0.7% (fast), 1% (balanced) and 1.5% (thorough) of the
pixels away from faces on the dev set.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from unseen.detectors.centerface import INT8_MODEL_NAME, MODEL_NAME, CenterFace
from unseen.detectors.compose import Flipped, Passes
from unseen.detectors.fusion import Fused, Fusion
from unseen.faces import Detector


class Quality(str, Enum):
    FAST = "fast"
    BALANCED = "balanced"
    THOROUGH = "thorough"


@dataclass(frozen=True)
class Pass:
    """One run of CenterFace: on the image resized by `scale`, mirrored or not, with the fp32 or int8 model."""

    scale: float
    flip: bool = False
    model: str = MODEL_NAME

    def detector(self, threshold: float) -> Detector:
        detect = CenterFace(threshold=threshold, scale=self.scale, model=self.model)
        return Flipped(detect) if self.flip else detect

    def describe(self) -> dict[str, object]:
        return {"scale": self.scale, "flip": self.flip, "model": self.model}


@dataclass(frozen=True)
class Preset:
    passes: tuple[Pass, ...]
    fusion: Fusion


# Passes find candidates down to this raw score; the fusion decides which are faces.
FLOOR = 0.05

# Why these passes (dev set, 2 cores): the scale-1 pass finds most faces; 0.5 finds large, close faces that
# scale 1 scores low; 1.5 finds faces under 16 px. Flips help only at the higher collateral that thorough
# allows. Fast runs the int8 model (about 1.6× faster than fp32, as good at these scales) at 0.75, with a
# 0.375 pass that costs little and finds the large faces that 0.75 scores low.
# Balanced runs its 1.5 pass (two thirds of its pixels) with the int8 model: detection took 426 ms per dev
# image instead of 677, and the fusion refitted on it lost 0.2 points of recall in the two-fold
# cross-validation (95.7 -> 95.5%), all of it under 16 px; faces of 16 px and more were found as before.
# Each fusion: tools/calibrate_fusion.py QUALITY --size-penalty P --collateral C, with (P, C) = fast (0.15, 1.3),
# balanced (0.33, 1.25), thorough (0.33, 2.25); C is the tool's single-mask estimate, which counts overlapping
# masks twice: the benchmark measures about 0.97%, 0.91% and 1.44%.
_INT8 = INT8_MODEL_NAME
PRESETS: dict[Quality, Preset] = {
    Quality.FAST: Preset(
        passes=(Pass(0.75, model=_INT8), Pass(0.375, model=_INT8)),
        fusion=Fusion(
            weights=(3.3519, -0.3365, -0.2787, 0.428, -0.8028, 0.0185, 1.1613, 0.1493, 0.6415),
            size_penalty=0.15,
            threshold=-2.481,
        ),
    ),
    Quality.BALANCED: Preset(
        passes=(Pass(0.5), Pass(1.0), Pass(1.5, model=_INT8)),
        fusion=Fusion(
            weights=(3.3284, 1.9417, 5.1978, 0.4805, 0.0593, -0.4585, -0.2248, 0.0211, 0.0135, 0.0813, -2.1229),
            size_penalty=0.33,
            threshold=-3.833,
        ),
    ),
    Quality.THOROUGH: Preset(
        passes=(Pass(0.5), Pass(1.0), Pass(1.0, flip=True), Pass(1.5), Pass(1.5, flip=True)),
        fusion=Fusion(
            weights=(
                *(2.7557, -0.309, 0.6973, 3.0737, 2.9871),  # score of each pass
                *(0.5326, 0.1295, 0.0916, -0.3007, -0.3494),  # found by each pass
                *(-0.2001, 0.0172, 0.0968, 0.1036, -2.3053),  # log2 height, its square, best × log2 h, count, bias
            ),
            size_penalty=0.33,
            threshold=-4.056,
        ),
    ),
}


def build_detector(quality: Quality = Quality.BALANCED, threshold: float | None = None) -> Detector:
    """The preset's detector. A `threshold` given by the user replaces the calibrated fusion: every pass
    keeps what scores at least that, and overlapping boxes are merged by non-maximum suppression."""
    preset = PRESETS[quality]
    if threshold is not None:
        passes = [p.detector(threshold) for p in preset.passes]
        return passes[0] if len(passes) == 1 else Passes(passes)
    return Fused([p.detector(FLOOR) for p in preset.passes], preset.fusion)


def describe(quality: Quality, threshold: float | None) -> list[dict[str, object]]:
    """The passes as they will run, for the report."""
    preset = PRESETS[quality]
    keep = {"threshold": threshold} if threshold is not None else {"threshold": FLOOR, "fusion": "calibrated"}
    return [{**p.describe(), **keep} for p in preset.passes]
