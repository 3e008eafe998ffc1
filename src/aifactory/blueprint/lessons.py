"""The lessons folder: one file per lesson, loaded forgivingly and changed one writer at a time.

A lesson folder is shared by every run of a repository and by the user's editor, so a broken file
is skipped and reported rather than fatal, every write replaces its file atomically, and a
read-modify-write (strengthening a lesson, accepting it, allocating an id) happens inside
`editing()`, which holds the folder's lock across the tasks of a process and across processes.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import tempfile
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from pathlib import Path

from aifactory.blueprint.lessonfile import read, render
from aifactory.domain.lesson import LESSON_ID, Lesson, content_words
from aifactory.errors import LessonFileError, NotFoundError
from aifactory.workspace.lock import FileLock

LESSONS_DIR = "lessons"
README = "README.md"
LOCK_NAME = ".lock"
_SLUG_WORDS = 5
_SLUG_CHARS = 40


def is_lesson_file(path: Path) -> bool:
    """Lessons are the folder's `*.md` files; its README and hidden files (lock, temporaries) are not."""
    return path.suffix == ".md" and path.name != README and not path.name.startswith(".")


@dataclass(frozen=True)
class Shelf:
    """A folder's lessons that parsed (by id), and the files that did not: skipped, to be reported."""

    lessons: tuple[Lesson, ...]
    problems: tuple[LessonFileError, ...]


class LessonBook:
    """The lesson files in one folder, `.factory/blueprint/lessons/` in a repository."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_of(self, lesson_id: str) -> Path:
        return self.directory / f"{lesson_id}.md"

    def files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(path for path in self.directory.iterdir() if is_lesson_file(path) and path.is_file())

    def ids(self) -> list[str]:
        """The ids the folder's files claim by their names, malformed files included: ids taken."""
        return [path.stem for path in self.files()]

    def load(self) -> Shelf:
        """Every lesson in the folder; a malformed file is a problem in the result, never an exception."""
        lessons: list[Lesson] = []
        problems: list[LessonFileError] = []
        for path in self.files():
            try:
                lessons.append(read(path))
            except LessonFileError as error:
                problems.append(error)
        return Shelf(lessons=tuple(lessons), problems=tuple(problems))

    def get(self, lesson_id: str) -> Lesson:
        """The lesson `lesson_id`; a malformed file raises LessonFileError, a missing one names near ids."""
        return read(self.existing(lesson_id))

    def existing(self, lesson_id: str) -> Path:
        """The file of lesson `lesson_id`, well-formed or not; NotFoundError, naming near ids, if none."""
        path = self.path_of(lesson_id)
        if LESSON_ID.fullmatch(lesson_id) and path.is_file():
            return path
        raise NotFoundError(self._not_found(lesson_id))

    def save(self, lesson: Lesson) -> Path:
        """Write the lesson's file canonically; readers see the old file or the new one, never half."""
        path = self.path_of(lesson.id)
        self.directory.mkdir(parents=True, exist_ok=True)
        replace_file(path, render(lesson).encode("utf-8"))
        return path

    @contextlib.asynccontextmanager
    async def editing(self) -> AsyncIterator[LessonBook]:
        """Hold the folder's lock for one read-modify-write, so concurrent writers never lose changes.

        Serializes tasks of this process (an asyncio lock) and other processes (flock on `lessons/.lock`).
        Not re-entrant: do every read and write of one change inside one `async with`.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        async with FileLock(self.directory / LOCK_NAME).hold():
            yield self

    def _not_found(self, lesson_id: str) -> str:
        ids = self.ids()
        message = f"no lesson {lesson_id!r} in {self.directory}"
        if not ids:
            return f"{message}: it holds no lessons yet"
        near = [i for i in ids if i.startswith(lesson_id)][:3] or difflib.get_close_matches(
            lesson_id, ids, n=3
        )
        if near:
            return f"{message}; did you mean {', '.join(near)}?"
        return f"{message}; `factory lessons` lists the {len(ids)} it holds"


def new_id(rule: str, taken: Collection[str]) -> str:
    """A short slug of the rule's first content words that is not in `taken`, e.g. `close-files-context`."""
    slug = ""
    for word in content_words(rule)[:_SLUG_WORDS]:
        longer = f"{slug}-{word}" if slug else word[:_SLUG_CHARS]
        if len(longer) > _SLUG_CHARS:
            break
        slug = longer
    if len(slug) < 2:
        slug = f"lesson-{slug}" if slug else "lesson"
    # `readme.md` would be the folder's README on a case-insensitive file system.
    used = {name.lower() for name in taken} | {README.removesuffix(".md").lower()}
    candidate, number = slug, 1
    while candidate in used:
        number += 1
        candidate = f"{slug}-{number}"
    return candidate


def replace_file(path: Path, data: bytes) -> None:
    """Write `data` to a hidden temporary file beside `path`, then rename it over `path` in one step."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).chmod(mode)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
