"""Both checks on one written output, read back from the file as any reader would decode it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unseen.faces import Detector, Faces
from unseen.media import sensor_noise
from unseen.media.image import DEFAULT_MAX_PIXELS, read_image
from unseen.media.pixels import Decoded
from unseen.obscure import DEFAULT_GROW
from unseen.verify.reid import ReidResult, reidentify
from unseen.verify.residual import residual_detector, residuals


@dataclass(frozen=True)
class Verification:
    """What the checks found in one output: faces left visible, and each large face's re-identification."""

    residuals: Faces
    reid: list[ReidResult] | None  # None: the re-identification check was not asked for
    sensor_noise: dict[str, object] | None = None  # the sensor-noise check (media/sensor_noise.py); None: not run

    @property
    def reidentifiable(self) -> list[ReidResult]:
        return [r for r in self.reid or [] if not r.passed]

    @property
    def clean(self) -> bool:
        return not len(self.residuals) and not self.reidentifiable and not (self.sensor_noise or {}).get("left")

    def problem(self) -> str:
        """Why the output is not clean, in one line (empty when it is)."""
        parts = []
        if len(self.residuals):
            best = int(np.argmax(self.residuals.scores))
            box = ",".join(str(round(float(v))) for v in self.residuals.boxes[best])
            count = len(self.residuals)
            parts.append(
                f"{count} face{'s' if count > 1 else ''} may be left visible "
                f"(e.g. at {box}, score {self.residuals.scores[best]:.2f})"
            )
        if self.reidentifiable:
            worst = min(self.reidentifiable, key=lambda r: r.distance)
            box = ",".join(str(round(v)) for v in worst.box)
            count = len(self.reidentifiable)
            parts.append(
                f"{count} obscured face{'s are' if count > 1 else ' is'} still re-identifiable "
                f"(e.g. at {box}, distance {worst.distance:.2f} < 0.6 and below a featureless crop's "
                f"{worst.featureless:.2f})"
            )
        if self.sensor_noise and self.sensor_noise["left"]:
            parts.append(
                f"the camera's sensor noise may be left (correlation {self.sensor_noise['correlation']:.2f} with "
                f"the input's, {sensor_noise.LEFT} or more)"
            )
        return "; ".join(parts)


class Verifier:
    """Runs the residual check (and the re-identification check, if asked) on written outputs."""

    def __init__(self, reid: bool = False, detector: Detector | None = None) -> None:
        self.reid = reid
        self.detector = detector or residual_detector()

    def __call__(
        self,
        original: np.ndarray | None,
        written: Path,
        obscured: Faces,
        grow: float = DEFAULT_GROW,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        before: np.ndarray | None = None,
    ) -> Verification:
        """`original` is needed only for the re-identification check (None without it: it need not be kept);
        `before`, a sensor_noise.sample of the pixels before the treatment, only for the sensor-noise check."""
        output = read_image(written, max_pixels).pixels
        found = residuals(output, obscured, self.detector, grow)
        noise = _sensor_noise(before, output)
        if not self.reid:
            return Verification(found, None, noise)
        if original is None:
            raise ValueError("the re-identification check needs the original pixels")
        return Verification(found, reidentify(original, output, obscured), noise)

    def frames(
        self,
        original: Decoded,
        written: Path,
        obscured: list[Faces],
        grow: float = DEFAULT_GROW,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        before: dict[int, np.ndarray] | None = None,
    ) -> list[Verification]:
        """Both checks on every frame of a written animation or multi-page file, one Verification per frame;
        `before`, sensor_noise.samples of the frames before the treatment, checks each sampled frame's noise."""
        output = read_image(written, max_pixels)
        frames = output.frames or (output.pixels,)
        found = []
        for index, (faces, start) in enumerate(_aligned(obscured, original.durations, output.durations)):
            left = residuals(frames[index], faces, self.detector, grow)
            reid = reidentify(original.frames[start], frames[index], faces) if self.reid else None
            noise = _sensor_noise((before or {}).get(start), frames[index])
            found.append(Verification(left, reid, noise))
        return found


def _sensor_noise(before: np.ndarray | None, output: np.ndarray) -> dict[str, object] | None:
    correlation = None if before is None else sensor_noise.left(before, output)
    if correlation is None:
        return None
    return {"correlation": round(correlation, 3), "left": correlation >= sensor_noise.LEFT}


def _aligned(obscured: list[Faces], durations: tuple[int, ...], written: tuple[int, ...]) -> list[tuple[Faces, int]]:
    """For each written frame, the faces obscured in it and the first original frame it shows.

    The WebP encoder merges a frame identical to the one before into it (a longer frame): such a written
    frame stands for all the original frames that start within it.
    """
    if len(written) == len(obscured) or not written:
        return [(faces, index) for index, faces in enumerate(obscured)]
    starts = np.cumsum([0, *durations[:-1]])
    aligned, first = [], 0
    for end in np.cumsum(written):
        last = max(int(np.searchsorted(starts, end, side="left")), first + 1)
        aligned.append((Faces.concat(obscured[first:last]), first))
        first = min(last, len(obscured) - 1)
    return aligned
