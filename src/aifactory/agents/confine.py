"""Keeping a model's file access inside its worktree.

A path that escapes (`..`, an absolute path, a symlink pointing out, the `.git` directory) is
refused with a message the model can act on; it is never executed.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath


class Refused(Exception):
    """A tool call the factory will not carry out; the message goes back to the model."""


def confine(root: Path, path: str) -> Path:
    """Resolve `path` relative to `root`, refusing anything that would land outside it."""
    text = path.strip() or "."
    if text.startswith(("/", "~")) or PurePosixPath(text).is_absolute() or (len(text) > 1 and text[1] == ":"):
        raise Refused(f"refused: {path!r} is absolute; use a path relative to the repository root")
    if ".git" in PurePosixPath(text).parts:
        raise Refused(f"refused: {path!r} is inside .git, which the factory manages")
    base = root.resolve()
    resolved = (base / text).resolve()
    if not resolved.is_relative_to(base):
        raise Refused(f"refused: {path!r} leads outside the repository (to {resolved}); stay inside it")
    return resolved


def relative(root: Path, path: Path) -> str:
    """How a confined path is shown back to the model."""
    return path.relative_to(root.resolve()).as_posix() or "."
