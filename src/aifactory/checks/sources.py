"""What a scan reads: a diff's added lines, a directory's files, or a commit's tree, file by file.

Each source streams `SourceFile`s, asking first whether a path is wanted so unwanted files are never
read. None holds more than a file's content (and the paths of a listing) at a time:

- `DiffSource`: the files `head` (a ref, or the working tree with untracked files) adds lines to
  since it forked from `base`; only added lines count. Deleted and binary files are left out.
- `TreeSource`: the files under some paths of a directory (git's tracked and untracked, not ignored
  files in a repository; a walk skipping hidden names elsewhere); every line counts.
- `CommitTreeSource`: the files of a commit, read from git's object store; every line counts.

Command checks need a directory: `checkout()` yields the one under check, or a temporary detached
worktree of the commit, removed afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from aifactory.checks.base import Lines, SourceFile
from aifactory.errors import NotARepositoryError
from aifactory.workspace.git import Git
from aifactory.workspace.gitdata import AddedLines
from aifactory.workspace.gitstream import TreeFile, added_lines, listed_files, read_blobs, tree_files
from aifactory.workspace.gitstream import untracked_files as untracked

Wanted = Callable[[str], bool]
"""Whether the scan wants a file of this path, decided before reading it."""

T = TypeVar("T")

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class Source(Protocol):
    """Something to scan: a stream of files, and a directory for command checks."""

    @property
    def description(self) -> str:
        """How a person would name it, e.g. `base commit 3f2a9c1d0b7e`."""
        ...

    def files(self, wanted: Wanted) -> AsyncGenerator[SourceFile, None]: ...

    def checkout(self) -> AbstractAsyncContextManager[Path]: ...


@dataclass(frozen=True)
class DiffSource:
    """The change `head` made since it forked from `base` (`head=None`: the working tree, untracked too)."""

    repo: Path
    base: str
    head: str | None = None
    label: str = ""

    @property
    def description(self) -> str:
        head = "(working tree)" if self.head is None else _short(self.head)
        return self.label or f"the change {_short(self.base)}...{head}"

    async def files(self, wanted: Wanted) -> AsyncGenerator[SourceFile, None]:
        git = await Git.discover(self.repo)
        if self.head is None:
            async with contextlib.aclosing(added_lines(git, self.base, None)) as changed:
                async for added in changed:
                    if wanted(added.path):
                        yield SourceFile(added.path, Lines.of(added.ranges), disk=git.path / added.path)
            async with contextlib.aclosing(untracked(git)) as paths:
                async for path in paths:
                    if wanted(path):
                        yield SourceFile(path, disk=git.path / path)
            return
        head = self.head
        async with contextlib.aclosing(added_lines(git, self.base, head)) as changed:
            wanted_changes = _only(changed, wanted, lambda added: added.path)
            async with contextlib.aclosing(read_blobs(git, wanted_changes, _blob_name(head))) as blobs:
                async for added, data in blobs:
                    if data is not None:
                        yield SourceFile(added.path, Lines.of(added.ranges), data=data)

    def checkout(self) -> AbstractAsyncContextManager[Path]:
        if self.head is None:
            return _existing(self.repo)
        return temporary_checkout(self.repo, self.head)


@dataclass(frozen=True)
class TreeSource:
    """The files under `paths` (all when empty) of the directory `root`; paths are relative to it."""

    root: Path
    paths: tuple[str, ...] = ()
    label: str = ""

    @property
    def description(self) -> str:
        return self.label or f"the files of {self.root}"

    async def files(self, wanted: Wanted) -> AsyncGenerator[SourceFile, None]:
        # Absolute: worker processes read these paths, and their working directory may differ.
        root = self.root.absolute()
        try:
            await Git.discover(root)
        except NotARepositoryError:
            listing = await asyncio.to_thread(_walk, root, self.paths)
            for path in listing:
                if wanted(path):
                    yield SourceFile(path, disk=root / path)
            return
        async with contextlib.aclosing(listed_files(Git(root), self.paths)) as paths:
            async for path in paths:
                if wanted(path):
                    yield SourceFile(path, disk=root / path)

    def checkout(self) -> AbstractAsyncContextManager[Path]:
        return _existing(self.root)


@dataclass(frozen=True)
class CommitTreeSource:
    """Every file of `commit` in the repository at `repo`, as committed."""

    repo: Path
    commit: str
    label: str = "commit"

    @property
    def description(self) -> str:
        return f"{self.label} {_short(self.commit)}"

    async def files(self, wanted: Wanted) -> AsyncGenerator[SourceFile, None]:
        git = Git(self.repo)
        async with contextlib.aclosing(tree_files(git, self.commit)) as listing:
            entries = _only(listing, wanted, lambda entry: entry.path)
            async with contextlib.aclosing(read_blobs(git, entries, _tree_blob)) as blobs:
                async for entry, data in blobs:
                    if data is not None:
                        yield SourceFile(entry.path, data=data)

    def checkout(self) -> AbstractAsyncContextManager[Path]:
        return temporary_checkout(self.repo, self.commit)


@contextlib.asynccontextmanager
async def temporary_checkout(repo: Path, commit: str) -> AsyncIterator[Path]:
    """`commit` checked out in a detached worktree that is removed (with its directory) on leaving."""
    git = Git(repo)
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="factory-check-"))
    tree = folder / "tree"
    try:
        await git.add_detached_worktree(tree, commit)
        yield tree
    finally:
        try:
            await git.remove_worktree(tree, force=True)
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)


def _short(revision: str) -> str:
    return revision[:12] if _SHA.fullmatch(revision) else revision


@contextlib.asynccontextmanager
async def _existing(directory: Path) -> AsyncIterator[Path]:
    yield directory


async def _only(items: AsyncIterator[T], wanted: Wanted, path: Callable[[T], str]) -> AsyncIterator[T]:
    async for item in items:
        if wanted(path(item)):
            yield item


def _blob_name(head: str) -> Callable[[AddedLines], str]:
    return lambda added: f"{head}:{added.path}"


def _tree_blob(entry: TreeFile) -> str:
    return entry.blob


def _walk(root: Path, paths: Sequence[str]) -> list[str]:
    """Files under `paths` of a directory that is no repository, in a stable order, hidden names skipped."""
    found: list[str] = []
    for start in paths or (".",):
        top = root / start
        if top.is_file():
            found.append(Path(os.path.normpath(start)).as_posix())
            continue
        for directory, folders, names in os.walk(top):
            folders[:] = sorted(name for name in folders if not name.startswith("."))
            relative = Path(directory).relative_to(root)
            found.extend((relative / name).as_posix() for name in sorted(names) if not name.startswith("."))
    return found


@dataclass(frozen=True)
class Limited:
    """Another source limited to `paths` (files, or folders and everything under them; all when empty)
    and without `excluded` ones: a pre-commit hook passes the staged files, and `factory check` leaves
    out the factory's own files, whose prose would trip the checks it describes."""

    source: Source
    paths: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        limited = f", limited to {', '.join(self.paths)}" if self.paths else ""
        return f"{self.source.description}{limited}"

    def files(self, wanted: Wanted) -> AsyncGenerator[SourceFile, None]:
        return self.source.files(
            lambda path: (
                wanted(path)
                and (not self.paths or _under(path, self.paths))
                and not _under(path, self.excluded)
            )
        )

    def checkout(self) -> AbstractAsyncContextManager[Path]:
        return self.source.checkout()


def _under(path: str, paths: Sequence[str]) -> bool:
    return any(path == top or path.startswith(top.rstrip("/") + "/") or top in (".", "") for top in paths)
