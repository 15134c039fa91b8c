"""The README and the docs/ guide stay true: every block marked runnable runs, every relative link leads to a file.

A block is runnable when the line `<!-- runnable -->` comes right before its ```sh fence. Each of its lines is a
command (a `#` starts a comment), run in a temporary folder holding a copy of the sample (astronaut.png), with
`unseen` run as `python -m unseen` of this test's Python; each must exit 0.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import REPO, SAMPLE

MARKER = "<!-- runnable -->"
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(\w*)\s*$")
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def runnable_blocks(page: Path) -> list[tuple[int, list[str]]]:
    """(line number, commands) of every block marked runnable in `page`."""
    lines = page.read_text().splitlines()
    blocks: list[tuple[int, list[str]]] = []
    for number, line in enumerate(lines):
        if line.strip() != MARKER:
            continue
        fence = _FENCE.match(lines[number + 1]) if number + 1 < len(lines) else None
        assert fence is not None and fence.group(1) == "sh", f"{page.name}:{number + 1}: {MARKER} not before ```sh"
        end = next(i for i in range(number + 2, len(lines)) if lines[i].startswith("```"))
        commands = [shlex.split(text, comments=True) for text in lines[number + 2 : end]]
        blocks.append((number + 1, [shlex.join(words) for words in commands if words]))
    return blocks


ALL_BLOCKS = [(page, line, commands) for page in PAGES for line, commands in runnable_blocks(page)]


def test_there_are_runnable_blocks() -> None:
    assert {page.name for page, _, _ in ALL_BLOCKS} >= {"README.md", "review-and-regions.md"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("page", "line", "commands"), ALL_BLOCKS, ids=[f"{page.name}:{line}" for page, line, _ in ALL_BLOCKS]
)
def test_a_runnable_block_runs(tmp_path: Path, page: Path, line: int, commands: list[str]) -> None:
    shutil.copyfile(SAMPLE, tmp_path / SAMPLE.name)
    for command in commands:
        words = shlex.split(command)
        if words[0] == "unseen":
            words = [sys.executable, "-m", "unseen", *words[1:]]
        done = subprocess.run(words, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{page.name}:{line}: {command}\n{done.stderr}"


def relative_links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)  # code is not a link
    return [target for target in _LINK.findall(text) if not re.match(r"[a-z]+:", target)]


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_every_relative_link_leads_to_a_file(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        path = unquote(target.split("#", 1)[0])
        if path and not (page.parent / path).exists():
            broken.append(target)
    assert broken == [], f"{page.name}: {broken}"


def test_the_readme_is_a_front_page() -> None:
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) < 250
    for needed in ("## Install", "**Windows**", "**macOS**", "**Linux**", "make demo", "make test", "review-page.png"):
        assert needed in text
