"""Output names that are safe on every system, since an output folder is copied between them.

- Windows reserves the device names CON, PRN, AUX, NUL, COM0-9 and LPT0-9 (also with superscript digits), with
  any extension and in any case: `con.jpg` opens the console, not a file. An output whose name (or a folder's) is
  one of them gets an underscore after it: `con.jpg` -> `con_.jpg`, `aux/` -> `aux_/`. On every system, so that
  the same input gives the same output name everywhere and a folder copied to Windows still opens.
- macOS and Windows ignore case in names, and macOS also Unicode normalisation (é as one character or two);
  Windows drops a name's trailing dots and spaces. Two outputs whose names differ only so would be one file
  there: `collision_key` is what paths.py compares, on every system.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path, PurePath

_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|(COM|LPT)[0-9¹²³])", re.IGNORECASE)


def reserved(name: str) -> bool:
    """Whether Windows takes `name` for a device: its part before the first dot, less trailing spaces."""
    return _RESERVED.fullmatch(name.split(".", 1)[0].rstrip(" ")) is not None


def safe_name(name: str) -> str:
    """`name`, with an underscore after a reserved device name's part: `con.jpg` -> `con_.jpg`."""
    if not reserved(name):
        return name
    stem, dot, rest = name.partition(".")
    return f"{stem.rstrip(' ')}_{dot}{rest}"


def safe_relative(relative: PurePath) -> PurePath:
    """Every part of a path below an output folder made safe (see safe_name)."""
    return type(relative)(*(safe_name(part) for part in relative.parts)) if relative.parts else relative


def safe_path(root: Path, relative: PurePath) -> Path:
    return root / safe_relative(relative)


def collision_key(path: Path) -> str:
    """The same text for two paths that a case-insensitive, normalisation-insensitive file system (macOS, Windows)
    would take for one file: composed Unicode, case folded, each part without trailing dots and spaces."""
    parts = (unicodedata.normalize("NFC", part).casefold().rstrip(". ") or part for part in path.parts)
    return "/".join(parts)
