"""How a path or a message is shown on stderr and in the report: one line, printable, inert on a terminal."""

from __future__ import annotations

import os
import re
from pathlib import Path

# What must never reach stderr or a report as it is, from a file name or a message: C0 controls, DEL and C1
# controls (a newline forges a line, ESC starts a terminal escape sequence), and the line and paragraph
# separators, at which str.splitlines (and so anything reading the lines back) breaks a line too.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED_CONTROLS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def display(path: Path | str) -> str:
    """A path as text that prints anywhere, also when its name is not valid UTF-8, and that can neither start
    a new line nor send the terminal an escape sequence (see `printable`)."""
    return printable(os.fspath(path))


def printable(text: str) -> str:
    """Text, such as a message that names a file, with its control characters escaped (`\\n`, `\\x1b`) and the
    undecodable bytes of a file name (Python's surrogate escapes) shown as `\\xNN`: one line, inert on a terminal.
    Backslashes are left as they are, so that a name holding one reads as typed: it may look like an escape,
    but can never be one."""
    try:
        text = os.fsencode(text).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that no file name brought: shown as its code point
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return _CONTROL.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    char = found.group()
    if char in _NAMED_CONTROLS:
        return _NAMED_CONTROLS[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
