"""Every failure a user can cause: one hierarchy, one line each, one exit status for the run.

After pip's `status_codes.py` and `base_command.py`: exceptions carry words meant for the user, `reason` turns
anything raised while one file is done into that file's one line (a bug included: it costs that file only),
and `exit_status` says what the run as a whole ends with.
"""

from __future__ import annotations

EXIT_OK = 0  # every input was done
EXIT_FAILED = 1  # some input could not be done (its line says why), or no input was found
EXIT_USAGE = 2  # the command asked for something unseen will not do: nothing was processed
EXIT_REFUSED = 3  # --strict refused an output the checks flagged; wins over EXIT_FAILED
EXIT_INTERRUPTED = 130  # Ctrl-C, SIGTERM or SIGHUP: what was finished is kept, nothing else


class UnseenError(Exception):
    """A problem told in one line, meant for the person running unseen."""


class UsageError(UnseenError):
    """The command line asks for something unseen will not do, or a check it asks for cannot run: exit 2,
    before any file is touched."""


class FileError(UnseenError):
    """One file cannot be done: it has no output, its line says why, and the batch goes on."""


class InputError(FileError):
    """The input cannot be read as a supported, safe image or video."""


class OutputError(FileError):
    """The output cannot be written, or what was written cannot be read back to be checked."""


class NameTaken(OutputError):
    """The output's name is taken and --overwrite was not given."""

    def __init__(self, shown: str) -> None:
        super().__init__(f"{shown} exists (use --overwrite to replace it)")


class Refused(FileError):
    """--strict: the checks flagged the output, which was not published."""


class Interrupted(FileError):
    """The run was stopped before this file was published: it was not."""


def reason(error: BaseException) -> str:
    """The one line a file's failure is told in, whatever was raised."""
    if isinstance(error, UnseenError):
        return str(error).strip() or type(error).__name__  # ours: one line already (the command escapes it)
    if isinstance(error, MemoryError):
        return "not enough memory to do this file (try a lower --max-pixels)"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror  # "No space left on device", not "[Errno 28] ... '/path'"
    return f"unexpected error ({type(error).__name__}: {first_line(error)}); please report it"


def first_line(error: BaseException, own_words: bool = False) -> str:
    """The first line of what `error` says, or its type's name if it says nothing. With `own_words`, an OS error's
    strerror where it has one ("Invalid data found when processing input", not "[Errno …] …: 'path'")."""
    text = (getattr(error, "strerror", None) if own_words else None) or str(error)
    lines = text.strip().splitlines()
    return lines[0] if lines else type(error).__name__
