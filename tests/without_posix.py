"""Run Python as if on a system without fcntl, resource and os.geteuid (as Windows is), then run a module or code.

    python tests/without_posix.py -m unseen ARGS...    python tests/without_posix.py -c CODE

The portable branches of unseen.system are then the ones taken, on this machine: tests/test_portable.py.
"""

from __future__ import annotations

import importlib.abc
import os
import runpy
import sys

ABSENT = ("fcntl", "resource")


class _Absent(importlib.abc.MetaPathFinder):
    """Every import of an absent module fails, as it does where the module does not exist."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name in ABSENT:
            raise ImportError(f"No module named {name!r} (made unavailable by {__file__})")
        return None


def main() -> None:
    sys.meta_path.insert(0, _Absent())
    for name in ABSENT:
        sys.modules.pop(name, None)
    del os.geteuid
    mode, target, *rest = sys.argv[1:]
    sys.argv = [target, *rest]
    if mode == "-m":
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        exec(compile(target, "<-c>", "exec"), {"__name__": "__main__"})


if __name__ == "__main__":
    main()
