"""`factory lessons`: the user's decisions about what the factory learned.

Every change is a read-modify-write under the lessons folder's lock (a run may be strengthening
the same lesson), leaves a change to one file under `.factory/blueprint/lessons/` for git to show,
and emits a `LessonNoted` event, with the blueprint version it produced, so the ledger keeps each
lesson's history.
"""

from __future__ import annotations

import asyncio
import os
import shlex
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aifactory.blueprint.lessonfile import read
from aifactory.blueprint.lessons import LessonBook, Shelf, new_id, replace_file
from aifactory.blueprint.store import Blueprint
from aifactory.blueprint.version import blueprint_version
from aifactory.domain.events import LessonActivity, LessonNoted
from aifactory.domain.lesson import Lesson, LessonStatus, Scope
from aifactory.errors import LessonFileError, UserError
from aifactory.service.project import Project, Session

REJECTED = "rejected by the user"
RETIRED = "retired by the user"
_FIELDS = tuple(name for name in Lesson.model_fields if name != "id")


@dataclass(frozen=True)
class Held:
    """A lesson and the file it lives in."""

    lesson: Lesson
    path: Path


@dataclass(frozen=True)
class Change:
    """One lesson before and after a decision or an edit; the same when it already was so.

    `before` is None when the edit repaired a malformed file.
    """

    before: Lesson | None
    lesson: Lesson
    path: Path

    @property
    def changed(self) -> bool:
        return self.lesson != self.before


Decision = Callable[[Session, Sequence[str]], Awaitable[list[Change]]]
"""`accept`, `reject` or `retire`: one decision applied to the named lessons."""


def book(project: Project) -> LessonBook:
    return Blueprint(project.blueprint_dir).lessons


def list_lessons(project: Project, status: LessonStatus | None = None) -> Shelf:
    """The lessons held, by id, optionally of one status; malformed files come back as problems."""
    shelf = book(project).load()
    if status is None:
        return shelf
    return Shelf(
        lessons=tuple(held for held in shelf.lessons if held.status is status), problems=shelf.problems
    )


def show(project: Project, lesson_id: str) -> Held:
    lessons = book(project)
    return Held(lesson=lessons.get(lesson_id), path=lessons.path_of(lesson_id))


async def propose(session: Session, rule: str, scope: Scope) -> Held:
    """A new lesson from outside a run (an MCP client's suggestion): it waits as `proposed` for the
    user's `factory lessons accept`, so nothing it says reaches a prompt before a person agrees."""
    rule = rule.strip()
    if not rule:
        raise UserError("the rule is empty: state it in one or two imperative sentences for a planner")
    lessons = book(session.project)
    async with lessons.editing():
        lesson = Lesson(
            id=new_id(rule, lessons.ids()),
            rule=rule,
            scope=scope,
            created=datetime.now(UTC).replace(microsecond=0),
        )
        path = lessons.save(lesson)
        _note(session, [(lesson, "proposed from outside a run")], LessonActivity.PROPOSED)
    return Held(lesson=lesson, path=path)


def _accepted(lesson: Lesson, now: datetime) -> Lesson:
    """Active from now on; accepting an active lesson declines the factory's proposal to retire it."""
    if lesson.status is LessonStatus.ACTIVE:
        return lesson.model_copy(update={"retirement": None})
    return lesson.model_copy(update={"status": LessonStatus.ACTIVE, "activated": now, "retirement": None})


def _rejected(lesson: Lesson, now: datetime) -> Lesson:
    """Wrong, not just done: neither its rule nor its check applies any more."""
    return lesson.model_copy(update={"status": LessonStatus.RETIRED, "check": None, "retirement": REJECTED})


def _retired(lesson: Lesson, now: datetime) -> Lesson:
    """Learned: its rule leaves the prompts, but its check keeps the code from sliding back."""
    if lesson.status is LessonStatus.RETIRED:
        return lesson
    reason = f"{RETIRED}: {lesson.retirement}" if lesson.retirement else RETIRED
    return lesson.model_copy(update={"status": LessonStatus.RETIRED, "retirement": reason})


async def accept(session: Session, ids: Sequence[str]) -> list[Change]:
    """Proposed (or retired) lessons become active: injected into plans, their checks run."""
    return await _decide(session, ids, _accepted, LessonActivity.ACTIVATED)


async def reject(session: Session, ids: Sequence[str]) -> list[Change]:
    return await _decide(session, ids, _rejected, LessonActivity.REJECTED)


async def retire(session: Session, ids: Sequence[str]) -> list[Change]:
    return await _decide(session, ids, _retired, LessonActivity.RETIRED)


async def _decide(
    session: Session,
    ids: Sequence[str],
    decide: Callable[[Lesson, datetime], Lesson],
    activity: LessonActivity,
) -> list[Change]:
    """Apply one decision to every named lesson, or to none if any of them is missing or malformed."""
    lessons = book(session.project)
    now = datetime.now(UTC).replace(microsecond=0)
    async with lessons.editing():
        found = [lessons.get(lesson_id) for lesson_id in dict.fromkeys(ids)]
        changes: list[Change] = []
        for lesson in found:
            decided = decide(lesson, now)
            path = lessons.save(decided) if decided != lesson else lessons.path_of(lesson.id)
            changes.append(Change(before=lesson, lesson=decided, path=path))
        _note(session, [(c.lesson, _detail(c, activity)) for c in changes if c.changed], activity)
    return changes


def declined_retirement(change: Change) -> bool:
    """Whether an accept kept an active lesson the factory had proposed to retire (and so changed it)."""
    return change.before is not None and change.before.status is LessonStatus.ACTIVE and change.changed


def _detail(change: Change, activity: LessonActivity) -> str:
    if activity is not LessonActivity.ACTIVATED:
        return change.lesson.retirement or ""
    before = change.before
    if before is not None and before.status is LessonStatus.ACTIVE:
        return f"kept by the user; declined retiring it ({before.retirement})"
    return "accepted by the user"


async def set_rule(session: Session, lesson_id: str, rule: str) -> Change:
    """Replace a lesson's rule without an editor (`factory lessons edit ID --rule TEXT`)."""
    rule = rule.strip()
    if not rule:
        raise UserError("--rule is empty: state the rule in one or two imperative sentences for a planner")
    lessons = book(session.project)
    async with lessons.editing():
        lesson = lessons.get(lesson_id)
        if lesson.rule == rule:
            return Change(before=lesson, lesson=lesson, path=lessons.path_of(lesson_id))
        edited = lesson.model_copy(update={"rule": rule})
        path = lessons.save(edited)
        _note(session, [(edited, "changed: rule")], LessonActivity.EDITED)
    return Change(before=lesson, lesson=edited, path=path)


def editor_command(env: Mapping[str, str]) -> list[str]:
    """The user's editor, as git finds it: $VISUAL, then $EDITOR."""
    for name in ("VISUAL", "EDITOR"):
        command = shlex.split(env.get(name, ""))
        if command:
            return command
    raise UserError(
        "no editor to open the lesson in: set EDITOR (or VISUAL) to your editor's command, "
        "e.g. `export EDITOR=nano`, or pass the new rule with --rule TEXT"
    )


async def edit(session: Session, lesson_id: str, env: Mapping[str, str] | None = None) -> Change:
    """Open the lesson's file in the user's editor; keep the result only if it is a valid lesson.

    The folder stays locked while the editor is open, so a run's changes to lessons wait for it
    instead of being overwritten by it. A malformed file can be edited too: that is how it is repaired.
    """
    env = os.environ if env is None else env
    command = editor_command(env)
    lessons = book(session.project)
    async with lessons.editing():
        path = lessons.existing(lesson_id)
        original = path.read_bytes()
        try:
            before: Lesson | None = read(path)
        except LessonFileError:
            before = None
        try:
            await _run_editor(command, path, env)
            edited = read(path)
        except LessonFileError as error:
            replace_file(path, original)
            raise LessonFileError(
                f"{error.problem}; the edit was not kept, so the file is as it was",
                path=path,
                field=error.field,
                line=error.line,
            ) from None
        except BaseException:
            replace_file(path, original)
            raise
        change = Change(before=before, lesson=edited, path=path)
        if change.changed:
            _note(session, [(edited, _edited_fields(before, edited))], LessonActivity.EDITED)
    return change


async def _run_editor(command: list[str], path: Path, env: Mapping[str, str]) -> None:
    """The editor gets the terminal (inherited standard streams) and the user's own environment."""
    try:
        process = await asyncio.create_subprocess_exec(*command, str(path), env=dict(env))
    except OSError as error:
        raise UserError(
            f"cannot start the editor {shlex.join(command)!r}: {error.strerror}; set EDITOR (or VISUAL) "
            "to an editor's command, or pass the new rule with --rule TEXT"
        ) from None
    code = await process.wait()
    if code != 0:
        raise UserError(f"the editor {shlex.join(command)!r} exited with code {code}; {path} is as it was")


def _edited_fields(before: Lesson | None, after: Lesson) -> str:
    if before is None:
        return "repaired a malformed file"
    return "changed: " + ", ".join(name for name in _FIELDS if getattr(before, name) != getattr(after, name))


def _note(session: Session, noted: Sequence[tuple[Lesson, str]], activity: LessonActivity) -> None:
    """One event per changed lesson, each carrying the blueprint version the changes produced."""
    if not noted:
        return
    version = blueprint_version(session.project.blueprint_dir)
    for lesson, detail in noted:
        session.events(LessonNoted(lesson=lesson.id, activity=activity, blueprint=version, detail=detail))
