"""Whether a file found in an output folder is this user's: a leftover temporary file is removed only if so.

POSIX: its owner is the process's effective user. Windows has no user id in a file's status (st_uid is 0) and
no os.geteuid: there, who may remove the file is the folder's access control list's business, and a file that
Windows lets this user open and lock is taken as removable (it is still only one of unseen's own temporary
names, unlocked by any living writer: see unseen.publish).
"""

from __future__ import annotations

import os


def mine(info: os.stat_result) -> bool:
    """Whether the file `info` describes belongs to this process's user (see above for a system without uids)."""
    return owned_by(info, effective_user())


def owned_by(info: os.stat_result, user: int | None) -> bool:
    """`user` None: a system without user ids, where the folder's access control list decides."""
    return user is None or info.st_uid == user


def effective_user() -> int | None:
    geteuid = getattr(os, "geteuid", None)
    return None if geteuid is None else geteuid()
