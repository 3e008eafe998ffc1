"""Where attempts' worktrees live: outside the repository, one folder per run.

Worktrees inside the repository's own tree would show up there as untracked files and be picked
up by its tools (test collectors, linters, file watchers), so they go under the user's cache.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from aifactory.errors import ConfigError


def default_worktree_root(repo_top: Path) -> Path:
    """`$XDG_CACHE_HOME/aifactory/worktrees/<repo name>-<8 hex>`, the hex telling same-named repos apart."""
    cache = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative value is invalid and must be ignored.
    base = Path(cache) if cache and Path(cache).is_absolute() else Path.home() / ".cache"
    top = repo_top.resolve()
    digest = hashlib.sha256(str(top).encode()).hexdigest()[:8]
    return base / "aifactory" / "worktrees" / f"{top.name}-{digest}"


def worktree_root(repo_top: Path, configured: Path | None = None) -> Path:
    """The configured root (relative to the repository) or the default; never inside the repository."""
    top = repo_top.resolve()
    root = (top / configured.expanduser() if configured else default_worktree_root(top)).resolve()
    if root.is_relative_to(top):
        remedy = (
            "configure a worktree root outside it"
            if configured
            else "set XDG_CACHE_HOME or configure a worktree root outside it"
        )
        raise ConfigError(
            f"worktree root {root} is inside the repository {top}, where the attempts' checkouts "
            f"would show up as untracked files: {remedy}"
        )
    return root


def worktree_path(root: Path, run_id: str, attempt: str) -> Path:
    """The checkout of one attempt (named as in the domain: a1, a2, …) of one run."""
    for part in (run_id, attempt):
        if part in {"", ".", ".."} or Path(part).name != part:
            raise ValueError(f"run ids and attempt names must be single path components, got {part!r}")
    return root / run_id / attempt
