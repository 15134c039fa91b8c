"""Decoders' own messages silenced: unseen says what is wrong with a file in one line of its own.

libtiff (inside Pillow) prints warnings and errors about damaged TIFF files straight to stderr ("Using code
not yet in table.", "JPEGLib: Bogus marker length."), beside the one line unseen writes for the file. Pillow
reports the same failure as an exception, which unseen turns into that line, so libtiff's global handlers are
set to none. Best effort: where the library cannot be found (another Pillow build), nothing changes.
Pillow itself logs some of those failures ("More samples per pixel than can be decoded") before raising; with
no logging set up, Python would print them to stderr, so its logger gets a handler that drops them (an
application that sets up logging still receives them through the root logger).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import cache
from pathlib import Path

from PIL import Image


@cache
def silence() -> bool:
    """Sets libtiff's warning and error handlers to none and quiets Pillow's logger, once per process; whether
    libtiff could be silenced."""
    logging.getLogger("PIL").addHandler(logging.NullHandler())
    library = _libtiff()
    if library is None:
        return False
    for name in ("TIFFSetWarningHandler", "TIFFSetErrorHandler"):
        setter = getattr(library, name, None)
        if setter is None:
            return False
        setter.restype, setter.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
        setter(None)
    return True


def _libtiff() -> ctypes.CDLL | None:
    """The libtiff Pillow's decoder uses: the copy its wheel bundles, else the system's."""
    imaging = Path(Image.core.__file__).resolve()
    bundled = [p for folder in ("pillow.libs", "PIL/.dylibs") for p in imaging.parents[1].glob(f"{folder}/libtiff*")]
    for path in [*sorted(bundled), ctypes.util.find_library("tiff")]:
        if path is None:
            continue
        try:
            return ctypes.CDLL(str(path))
        except OSError:
            continue
    return None
