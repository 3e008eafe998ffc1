"""The per-file half of a scan: reading files and running `FileChecks` on them, in any process.

A pool's workers receive the checks once (`install`, the pool's initializer) and then only batches of
`SourceFile`s (`scan_batch`), so a scan pickles its rules once per worker, not once per batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aifactory.checks.base import FileChecks, SourceFile
from aifactory.checks.hits import Hit

_BINARY_PROBE = 8_000
"""Bytes looked at for a NUL, as git does, to tell a binary file."""

_installed: dict[str, tuple[FileChecks, ...]] = {}


def install(checks: tuple[FileChecks, ...]) -> None:
    """Keep `checks` for every later batch in this process (a pool initializer)."""
    _installed["checks"] = checks


def scan_batch(files: Sequence[SourceFile]) -> tuple[list[Hit], int]:
    """`scan_files` with the installed checks."""
    return scan_files(_installed["checks"], files)


def scan_files(checks: Sequence[FileChecks], files: Iterable[SourceFile]) -> tuple[list[Hit], int]:
    """The hits in `files` and how many were read; unreadable, vanished and binary files are skipped."""
    hits: list[Hit] = []
    scanned = 0
    for file in files:
        wanting = [check for check in checks if check.wants(file.path)]
        if not wanting:
            continue
        text = _text(file)
        if text is None:
            continue
        scanned += 1
        for check in wanting:
            hits.extend(check.find(file.path, text, file.lines))
    return hits, scanned


def _text(file: SourceFile) -> str | None:
    data = file.data
    if data is None and file.disk is not None and not file.disk.is_symlink():
        try:
            data = file.disk.read_bytes()
        except OSError:
            # Gone or unreadable since it was listed (a directory for a submodule, a racing delete).
            return None
    if data is None or b"\0" in data[:_BINARY_PROBE]:
        return None
    return data.decode(errors="replace")
