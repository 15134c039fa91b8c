"""unseen: make photos and videos safe to share — obscure every face, strip identifying metadata."""

from __future__ import annotations

__version__ = "0.1.0"

from unseen.privacy import quiet_libraries

quiet_libraries()  # before anything imports ONNX Runtime: its telemetry is on by default

import numpy as np  # noqa: E402

from unseen.faces import Detector, Faces  # noqa: E402
from unseen.obscure import DEFAULT_GROW, Method  # noqa: E402


def detect(image: np.ndarray, quality: str = "balanced", threshold: float | None = None) -> Faces:
    """The faces in an RGB (H×W×3), RGBA or grayscale (H×W) uint8 image."""
    from unseen.detectors.presets import Quality, build_detector

    return build_detector(Quality(quality), threshold)(_rgb(image))


def anonymize_image(
    image: np.ndarray,
    method: str = "solid",
    strength: float = 1.0,
    quality: str = "balanced",
    detector: Detector | None = None,
    grow: float = DEFAULT_GROW,
) -> tuple[np.ndarray, Faces]:
    """A copy of `image` with every face found obscured, and the faces. The input array is not changed."""
    from unseen.detectors.presets import Quality, build_detector
    from unseen.obscure import obscure

    image = np.asarray(image)
    chosen = Method(method)
    faces = (detector or build_detector(Quality(quality)))(_rgb(image))
    wide = image[..., None] if image.ndim == 2 else image
    return obscure(wide, faces, chosen, strength, grow).reshape(image.shape), faces


def anonymize_audio(samples: np.ndarray, rate: int, voice: str = "disguise") -> np.ndarray:
    """A copy of float sound in [-1, 1], mono (N) or channels × N, with its voices disguised (voice="disguise":
    changed so that a speaker verifier cannot link them, the words kept; new random parameters every call) or
    muted (voice="mute": silence where speech is heard, with margins, every other sound kept). Same shape and
    length, float32. The input array is not changed."""
    from unseen.audio.voice import treat_samples

    sound = np.asarray(samples)
    if sound.ndim not in (1, 2) or sound.size == 0 or not np.issubdtype(sound.dtype, np.floating):
        raise ValueError(f"expected non-empty float samples, N or channels × N, got {sound.dtype} {sound.shape}")
    if int(rate) != rate or rate < 8000:
        raise ValueError(f"expected a sample rate of at least 8000 Hz, got {rate}")
    planes = np.asarray(sound, np.float32).reshape(-1, sound.shape[-1])
    return treat_samples(planes, int(rate), voice).reshape(sound.shape)


def _rgb(image: np.ndarray) -> np.ndarray:
    """The RGB view the detector takes, after checking that `image` is an image unseen can work on."""
    image = np.asarray(image)
    channels = image.shape[2] if image.ndim == 3 else 1
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or channels not in (1, 3, 4) or image.size == 0:
        raise ValueError(f"expected a non-empty H×W, H×W×3 or H×W×4 uint8 image, got {image.dtype} {image.shape}")
    if channels == 1:
        return np.repeat(image.reshape(image.shape[:2])[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3])


__all__ = ["Detector", "Faces", "__version__", "anonymize_audio", "anonymize_image", "detect"]
