"""Git outputs too big to hold, read as they stream: a diff's added lines, file lists, blobs.

Lesson checks scan whole trees and diffs of any size. Each reader here holds one record at a time
(a file's added-line ranges, a path, a blob), so memory stays flat however large the repository,
and the consumer's pace throttles git through the pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from aifactory.errors import GitError
from aifactory.workspace.git import Git
from aifactory.workspace.gitdata import AddedLines, AddedLinesParser

T = TypeVar("T")

_CHUNK = 65_536
_BLOBS_IN_FLIGHT = 64
"""Blob requests written ahead of the answers read: enough to keep git busy, few enough to hold."""
_REGULAR_FILES = ("100644", "100755")


@dataclass(frozen=True, slots=True)
class TreeFile:
    """A regular file of a commit's tree: its path from the top and its blob id."""

    path: str
    blob: str


async def added_lines(git: Git, base: str, head: str | None) -> AsyncGenerator[AddedLines, None]:
    """Each file `head` adds lines to since it forked from `base`, with renames followed.

    `head=None` means the working tree (tracked files only; see `untracked_files`), compared with the
    merge base of `base` and HEAD, as `git diff base...HEAD` would be if the work were committed.
    """
    since = f"{base}...{head}" if head is not None else await git.merge_base(base, "HEAD")
    args = (
        *("-c", "core.quotePath=false", "diff", "--unified=0", "--no-color", "--no-ext-diff"),
        *("--no-textconv", "-M", "--src-prefix=a/", "--dst-prefix=b/", since),
    )
    parser = AddedLinesParser()
    async with git.stream(*args) as stream:
        while chunk := await stream.stdout.read(_CHUNK):
            for found in parser.feed(chunk):
                yield found
        for found in parser.close():
            yield found


async def untracked_files(git: Git) -> AsyncGenerator[str, None]:
    """Files git does not track and does not ignore, relative to the working tree's directory."""
    async for path in _nul_records(git, "ls-files", "-z", "--others", "--exclude-standard"):
        yield path


async def listed_files(git: Git, paths: Sequence[str] = ()) -> AsyncGenerator[str, None]:
    """Tracked and untracked, not ignored files under `paths` (all when empty), relative to `git.path`."""
    args = ("ls-files", "-z", "--cached", "--others", "--exclude-standard", "--deduplicate", "--", *paths)
    async for path in _nul_records(git, *args):
        yield path


async def tree_files(git: Git, commit: str) -> AsyncGenerator[TreeFile, None]:
    """The regular files of `commit` (symbolic links and submodules left out)."""
    async for record in _nul_records(git, "ls-tree", "-r", "-z", "--full-tree", commit):
        meta, path = record.split("\t", 1)
        mode, kind, blob = meta.split(" ")
        if kind == "blob" and mode in _REGULAR_FILES:
            yield TreeFile(path, blob)


async def read_blobs(
    git: Git, items: AsyncIterator[T], name: Callable[[T], str]
) -> AsyncGenerator[tuple[T, bytes | None], None]:
    """Each item with the content of the object `name(item)` names (a blob id or `commit:path`).

    One `git cat-file --batch` process serves every item: requests are written a little ahead of the
    answers read. The content is None when the name is not a blob (missing, a tree, a submodule).
    Names holding a newline cannot be asked for and are left out.
    """
    async with git.stream("cat-file", "--batch", stdin=True) as stream:
        pending: asyncio.Queue[tuple[T] | None] = asyncio.Queue()
        room = asyncio.Semaphore(_BLOBS_IN_FLIGHT)
        feeder = asyncio.create_task(_ask(stream.stdin, items, name, pending, room))
        try:
            while (entry := await pending.get()) is not None:
                room.release()
                yield entry[0], await _answer(stream.stdout)
            await feeder
            await stream.stdout.read()
        finally:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder


async def _ask(
    stdin: asyncio.StreamWriter | None,
    items: AsyncIterator[T],
    name: Callable[[T], str],
    pending: asyncio.Queue[tuple[T] | None],
    room: asyncio.Semaphore,
) -> None:
    if stdin is None:
        raise ValueError("cat-file needs its standard input")
    try:
        async for item in items:
            wanted = name(item)
            if "\n" in wanted:
                continue
            await room.acquire()
            pending.put_nowait((item,))
            stdin.write(wanted.encode(errors="surrogateescape") + b"\n")
            await stdin.drain()
        stdin.close()
    finally:
        pending.put_nowait(None)


async def _answer(stdout: asyncio.StreamReader) -> bytes | None:
    """One `cat-file --batch` answer: `<id> <type> <size>` and the content, or `<name> missing`."""
    try:
        header = (await stdout.readuntil(b"\n")).split()
    except asyncio.IncompleteReadError as error:
        raise GitError("`git cat-file --batch` stopped answering before the last object") from error
    if len(header) != 3:
        return None
    content = await stdout.readexactly(int(header[2]) + 1)
    return content[:-1] if header[1] == b"blob" else None


async def _nul_records(git: Git, *args: str) -> AsyncGenerator[str, None]:
    rest = b""
    async with git.stream(*args) as stream:
        while chunk := await stream.stdout.read(_CHUNK):
            *records, rest = (rest + chunk).split(b"\0")
            for record in records:
                yield record.decode(errors="surrogateescape")
    if rest:
        yield rest.decode(errors="surrogateescape")
