"""Errors a user can cause: each carries a one-line message meant for them, never a traceback."""


class UnseenError(Exception):
    """A problem with one input or output, told in one line."""


class InputError(UnseenError):
    """The input cannot be read as a supported, safe image."""


class OutputError(UnseenError):
    """The output cannot be written where it was asked for."""
