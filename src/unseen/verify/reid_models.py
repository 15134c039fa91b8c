"""dlib's two CC0 models for the re-identification check, shipped compressed and unpacked on first use.

Nothing is downloaded: the .bz2 files ship inside the package (see models/MODELS.md). Unpacked, they are
cached in $XDG_CACHE_HOME/unseen (or ~/.cache/unseen); where that cannot be written, they are unpacked into
a temporary folder that is removed once dlib has loaded them.
"""

from __future__ import annotations

import bz2
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import BinaryIO

from unseen import publish
from unseen.digest import file_sha256
from unseen.errors import UnseenError

SHAPE_MODEL = "shape_predictor_5_face_landmarks.dat"
EMBEDDING_MODEL = "dlib_face_recognition_resnet_model_v1.dat"
# sha256 of each unpacked model: a cached copy that differs (truncated, tampered with) is unpacked again.
SHA256 = {
    SHAPE_MODEL: "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
    EMBEDDING_MODEL: "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
}


class ModelError(UnseenError):
    """A shipped model is missing or does not unpack to the expected file; the message says which."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "unseen" / "reid"


@contextmanager
def unpacked(name: str) -> Iterator[Path]:
    """The unpacked model file, valid inside the `with` block (load it there)."""
    try:
        cached = _cached(name)
    except OSError:
        cached = None  # no writable cache: a private temporary copy instead
    if cached is not None:
        yield cached
        return
    with tempfile.TemporaryDirectory(prefix="unseen-reid-") as folder:
        yield _unpack(name, Path(folder))


def _cached(name: str) -> Path:
    path = cache_dir() / name
    if path.is_file() and file_sha256(path) == SHA256[name]:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    return _unpack(name, path.parent)


def _unpack(name: str, folder: Path) -> Path:
    """Decompress the shipped .bz2 into `folder` atomically and check the result's sha256."""
    source = resources.files("unseen.models").joinpath(f"reid/{name}.bz2")
    if not source.is_file():
        raise ModelError(f"the shipped model {name}.bz2 is missing; reinstall unseen")

    def write(out: BinaryIO) -> None:
        with source.open("rb") as packed, bz2.open(packed) as stream:
            shutil.copyfileobj(stream, out, 1 << 20)

    def check(unpacked: Path) -> None:
        if file_sha256(unpacked) != SHA256[name]:
            raise ModelError(f"the shipped model {name}.bz2 does not unpack to the expected file; reinstall unseen")

    return publish.save(folder / name, True, check, write, interruptible=False)
