"""The check seams: whole-attempt checks that return a verdict, and lesson checks that read files.

A `Check` looks at an attempt and returns a `Verdict` (the project's commands; all of a run's lesson
checks together). A `FileChecks` is the per-file half of lesson checks (ast-grep, regex): it is plain,
picklable data, so worker processes can run it on batches of `SourceFile`s.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from aifactory.checks.hits import Hit
from aifactory.domain.verdict import Verdict


@dataclass(frozen=True)
class CheckTarget:
    """An attempt as a check sees it: its worktree, the commit range it changed, where to log."""

    worktree: Path
    base: str
    head: str
    log_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)


class Check(Protocol):
    @property
    def source(self) -> str:
        """The name its verdicts and findings carry, e.g. `command:test`."""
        ...

    async def run(self, target: CheckTarget) -> Verdict: ...


@dataclass(frozen=True, slots=True)
class Lines:
    """A set of 1-based line numbers held as sorted, disjoint `(first, last)` ranges: a diff's added lines."""

    ranges: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, ranges: Iterable[tuple[int, int]]) -> Lines:
        return cls(tuple(sorted(ranges)))

    def __contains__(self, line: object) -> bool:
        if not isinstance(line, int):
            return False
        at = bisect.bisect_right(self.ranges, line, key=lambda span: span[0]) - 1
        return at >= 0 and self.ranges[at][0] <= line <= self.ranges[at][1]

    def __iter__(self) -> Iterator[int]:
        for first, last in self.ranges:
            yield from range(first, last + 1)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file to scan: where its content is, and which of its lines count (None: every line).

    Content comes from `disk` (read by whoever scans it, possibly another process) or is carried in
    `data` (a blob read from git).
    """

    path: str
    lines: Lines | None = None
    disk: Path | None = None
    data: bytes | None = None


class FileChecks(Protocol):
    """Checks that look at one file's text at a time; picklable, so worker processes can run them."""

    def wants(self, path: str) -> bool:
        """Whether a file of this path could match (decided before its content is read)."""
        ...

    def find(self, path: str, text: str, lines: Lines | None) -> Iterator[Hit]:
        """The hits in `text`; with `lines`, only those starting on one of them."""
        ...
