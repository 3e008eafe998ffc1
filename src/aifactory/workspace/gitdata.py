"""What git calls return, and the pure parsers that turn git's output (`-z` lists, patches) into it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class Diff:
    """A patch, possibly cut short at the caller's cap (then it ends at a whole line)."""

    text: str
    truncated: bool


@dataclass(frozen=True, slots=True)
class FileStat:
    """Lines added and removed in one file; both are None for a binary file."""

    path: str
    added: int | None
    removed: int | None


@dataclass(frozen=True, slots=True)
class MergeCheck:
    """Whether a merge would go through, and if not, which files conflict and git's account."""

    clean: bool
    conflicts: list[str]
    message: str


@dataclass(frozen=True, slots=True)
class Commit:
    """One commit of a branch's history: its id, when it was committed, and its whole message."""

    sha: str
    committed_at: datetime
    message: str


def split_z(text: str) -> list[str]:
    """The items of a NUL-terminated list, as git prints with `-z`."""
    return [item for item in text.split("\0") if item]


def parse_numstat(text: str) -> list[FileStat]:
    """Parse `git diff --numstat -z --no-renames`: `added TAB removed TAB path`, `-` for binary."""
    stats = []
    for entry in split_z(text):
        added, removed, path = entry.split("\t", 2)
        stats.append(
            FileStat(
                path=path,
                added=None if added == "-" else int(added),
                removed=None if removed == "-" else int(removed),
            )
        )
    return stats


def parse_log(text: str) -> list[Commit]:
    """`git log -z --format='%H %ct%n%B'`: one record per commit, id and time on its first line."""
    commits = []
    for record in split_z(text):
        first, _, message = record.partition("\n")
        sha, _, seconds = first.partition(" ")
        commits.append(
            Commit(sha=sha, committed_at=datetime.fromtimestamp(int(seconds), UTC), message=message)
        )
    return commits


def parse_merge_tree(text: str, *, clean: bool) -> MergeCheck:
    """Parse `git merge-tree --write-tree --name-only -z`.

    The output is the tree id, the conflicted file names, an empty item, then one group per
    message: a path count, that many paths, a conflict type and the human-readable text.
    """
    items = text.split("\0")[1:]
    end = items.index("") if "" in items else len(items)
    conflicts = items[:end]
    messages = []
    rest = iter(items[end + 1 :])
    for count in rest:
        if not count:
            break
        for _ in range(int(count)):
            next(rest)
        next(rest)
        messages.append(next(rest).strip())
    return MergeCheck(clean=clean, conflicts=conflicts, message="\n".join(messages))


def cut_diff(data: bytes, cap: int) -> str:
    """The first `cap` bytes of a patch, ending at the last whole line within them."""
    head = data[:cap]
    end = head.rfind(b"\n")
    return (head[: end + 1] if end >= 0 else head).decode(errors="replace")


@dataclass(frozen=True, slots=True)
class AddedLines:
    """A file a diff adds lines to: its path on the new side and the added lines as `(first, last)` ranges."""

    path: str
    ranges: tuple[tuple[int, int], ...]


_HUNK = re.compile(rb"@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_MODE_LINES = (b"new file mode ", b"new mode ", b"index ")
_SKIPPED_MODES = (b"120000", b"160000")
"""Symbolic links and submodules: their "content" is a path or a commit id, not code."""
_ESCAPES = {ord(k): v for k, v in zip('abtnvfr"\\', b'\a\b\t\n\v\f\r"\\', strict=True)}


class AddedLinesParser:
    """Reads `git diff --unified=0` output in chunks of any size and returns each file's added lines.

    Only headers are buffered: a content line is skipped as it streams (its first byte says whether it
    adds or removes), so a one-line file of a gigabyte costs nothing. Deleted, binary, symbolic-link and
    submodule entries and files with no added line are left out.
    """

    def __init__(self) -> None:
        self._partial = bytearray()
        self._skipping = False
        self._old = self._new = 0
        self._path: str | None = None
        self._skip_file = False
        self._ranges: list[tuple[int, int]] = []

    def feed(self, chunk: bytes) -> list[AddedLines]:
        done: list[AddedLines] = []
        at, size = 0, len(chunk)
        while at < size:
            if self._skipping:
                end = chunk.find(b"\n", at)
                if end < 0:
                    break
                at, self._skipping = end + 1, False
            elif (self._old or self._new) and not self._partial:
                first = chunk[at]
                if first == ord("-"):
                    self._old -= 1
                elif first == ord("+"):
                    self._new -= 1
                self._skipping = True
            else:
                end = chunk.find(b"\n", at)
                if end < 0:
                    self._partial += chunk[at:]
                    break
                line = bytes(self._partial) + chunk[at:end]
                self._partial.clear()
                at = end + 1
                done.extend(self._header(line))
        return done

    def close(self) -> list[AddedLines]:
        """The last file, once the whole output was fed."""
        done = self._header(bytes(self._partial)) if self._partial else []
        self._partial.clear()
        return done + self._finish()

    def _header(self, line: bytes) -> list[AddedLines]:
        if line.startswith(b"diff --git "):
            return self._finish()
        if line.startswith(b"@@ "):
            found = _HUNK.match(line)
            if found is None:
                raise ValueError(f"unexpected hunk header in git's diff: {line[:200]!r}")
            old, start, new = found.groups()
            self._old = 1 if old is None else int(old)
            self._new = 1 if new is None else int(new)
            if self._new:
                self._ranges.append((int(start), int(start) + self._new - 1))
        elif line.startswith(b"+++ "):
            name = line[4:]
            self._path = None if name == b"/dev/null" else _unquote(name).removeprefix("b/")
        elif line.startswith(b"Binary files ") or (
            line.startswith(_MODE_LINES) and line.endswith(_SKIPPED_MODES)
        ):
            self._skip_file = True
        return []

    def _finish(self) -> list[AddedLines]:
        done = []
        if self._path is not None and self._ranges and not self._skip_file:
            done.append(AddedLines(self._path, tuple(self._ranges)))
        self._path, self._skip_file, self._ranges = None, False, []
        self._old = self._new = 0
        return done


def _unquote(name: bytes) -> str:
    """A path as a patch prints it: C-quoted if it has special bytes, followed by a tab if it has a space."""
    if name.endswith(b"\t"):
        name = name[:-1]
    if not name.startswith(b'"'):
        return name.decode(errors="surrogateescape")
    raw, out, at = name[1:-1], bytearray(), 0
    while at < len(raw):
        byte = raw[at]
        if byte != ord("\\"):
            out.append(byte)
            at += 1
        elif raw[at + 1 : at + 2].isdigit():
            out.append(int(raw[at + 1 : at + 4], 8))
            at += 4
        else:
            out.append(_ESCAPES.get(raw[at + 1], raw[at + 1]))
            at += 2
    return out.decode(errors="surrogateescape")
