"""bench/voice.py with the disguise as it was at a git commit beside today's, for A/B runs in one process.

    PYTHONPATH=src python bench/voice_old.py --commit 1aa8234 --speed --methods select-4-old,select-4
    PYTHONPATH=src python bench/voice_old.py --commit 1aa8234 --stoi-only --speakers 24 --dev 24 --aac \
        --methods select-4-old,select-4

The commit's src/unseen/audio/{stft,excitation,disguise,select}.py are read with `git show` into a temporary
package (nothing is copied into the tree) and two methods are added to bench/voice.py's METHODS: `disguise-old`
(one draw) and `select-4-old` (the farthest of four, as unseen ships it); every other argument is voice.py's.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
import voice  # noqa: E402

from unseen.audio.streams import mono16k  # noqa: E402

MODULES = ("stft", "excitation", "disguise", "select")
PACKAGE = "old_audio"


def load_old(commit: str) -> tuple[object, object]:
    """The commit's disguise and select modules, imported as a package of their own."""
    folder = Path(tempfile.mkdtemp(prefix="unseen-old-")) / PACKAGE
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for name in MODULES:
        text = subprocess.run(
            ["git", "-C", str(REPO), "show", f"{commit}:src/unseen/audio/{name}.py"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        # select.py imports the disguise absolutely: the old one must use the old disguise
        text = text.replace("from unseen.audio import disguise as dg", "from . import disguise as dg")
        (folder / f"{name}.py").write_text(text)
    sys.path.insert(0, str(folder.parent))
    return importlib.import_module(f"{PACKAGE}.disguise"), importlib.import_module(f"{PACKAGE}.select")


def register(commit: str) -> None:
    dg, sel = load_old(commit)

    def one(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        return dg.disguise(x, rate, rng)  # type: ignore[attr-defined]

    def chosen(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        seconds = sel.EXCERPT_SECONDS  # type: ignore[attr-defined]
        return sel.disguise(x, rate, mono16k(x, rate), [(0.0, seconds)], sel.CANDIDATES, rng, seconds)  # type: ignore[attr-defined]

    voice.METHODS["disguise-old"] = one
    voice.METHODS["select-4-old"] = chosen


if __name__ == "__main__":
    if "--commit" not in sys.argv:
        raise SystemExit("usage: voice_old.py --commit COMMIT [voice.py's arguments]")
    at = sys.argv.index("--commit")
    register(sys.argv[at + 1])
    del sys.argv[at : at + 2]
    raise SystemExit(voice.main())
