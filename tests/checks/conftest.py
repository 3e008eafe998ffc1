"""Real repositories for lesson checks: files written, committed and changed with git itself."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import git

Write = Callable[[dict[str, str | bytes]], None]


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def commit(repo: Path, files: dict[str, str | bytes], message: str = "change") -> str:
    """Write `files`, commit everything, return the new HEAD."""
    write(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def shop(git_repo: Path) -> Path:
    """A repository whose base commit already holds old code: `shop/io.py` reads a file without `with`."""
    commit(
        git_repo,
        {
            "shop/io.py": "def load(f):\n    return f.read()\n",
            "shop/prices.py": "PRICES = {}\n\n\ndef price(name):\n    return PRICES[name]\n",
        },
        "base",
    )
    git(git_repo, "tag", "base")
    return git_repo
