"""The blueprint's version: a short hash of everything that shapes what a role is told or held to.

The ledger keys rounds and plans by it, so the first-round pass rate can be compared across
versions: whether a change to the inputs made the factory better. It must therefore change with
every prompt, template or rule a role sees, and with nothing else: a proposed lesson, a counter, a
sighting, an origin or a date does not change any prompt or check, so it does not change the version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from aifactory.blueprint.lessons import LESSONS_DIR, LessonBook, is_lesson_file
from aifactory.domain.lesson import Lesson, LessonStatus

VERSION_LENGTH = 12
_DEFINING = frozenset({"id", "status", "rule", "scope", "check"})


def blueprint_version(root: Path) -> str:
    """12 hex digits over every file under `root` but lessons and hidden files, and the defining content of
    active and retired lessons (a retired lesson's check still runs). Malformed lessons are skipped, as
    everywhere."""
    total = hashlib.sha256()
    lessons = root / LESSONS_DIR
    for relative, path in _files(root):
        if path.parent == lessons and is_lesson_file(path):
            continue
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        total.update(f"file\0{relative}\0{digest}\n".encode())
    for lesson in sorted(LessonBook(lessons).load().lessons, key=lambda held: held.id):
        if lesson.status is not LessonStatus.PROPOSED:
            total.update(f"lesson\0{lesson.id}\0{defining_digest(lesson)}\n".encode())
    return total.hexdigest()[:VERSION_LENGTH]


def defining_digest(lesson: Lesson) -> str:
    """A hash of what a role sees of a lesson: its id, status, rule, scope and check, however the file is
    laid out."""
    content = lesson.model_dump(mode="json", include=set(_DEFINING))
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _files(root: Path) -> Iterator[tuple[str, Path]]:
    """Files under `root` by relative path, in a stable order; hidden ones (locks, temporaries, editor swap
    files) are not part of the blueprint."""
    if not root.is_dir():
        return
    found = (
        (path.relative_to(root).as_posix(), path)
        for path in root.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts)
    )
    yield from sorted(found)
