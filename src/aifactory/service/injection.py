"""Which lessons a plan carries, and the bookkeeping of that: the plan template's only inputs from learning.

Selection happens twice. Before drafting, the task is known only by its ask and the repository, so
the planner gets the lessons matching the files the ask names and the repository's languages.
After review, the task list names the files, so the final set (the one written into the plan and
seen by executors and verifiers) is matched against those files, their languages and the task
kind the planner judged. That second match is what keeps a Python lesson out of a Go task.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aifactory.blueprint.version import blueprint_version
from aifactory.domain.events import LessonActivity, LessonNoted, PlanWritten
from aifactory.domain.lesson import (
    LANGUAGES,
    Lesson,
    LessonStatus,
    TaskProfile,
    language_of,
    retirement_reason,
    select,
)
from aifactory.domain.plan import CarriedLesson, Plan
from aifactory.ledger.learning import lesson_stats, plans_since_carried
from aifactory.ledger.store import Ledger
from aifactory.roles.kit import ContextDoc
from aifactory.service.project import Session

_PATH_LIKE = re.compile(r"[\w./-]+(?:" + "|".join(re.escape(ext) for ext in LANGUAGES) + r")\b")


async def repository_languages(session: Session) -> frozenset[str]:
    paths = await session.project.git.tracked_paths()
    return frozenset(language for path in paths if (language := language_of(path)))


async def before_drafting(session: Session, plan: Plan, docs: Sequence[ContextDoc]) -> TaskProfile:
    """The task as known before the plan exists: files the ask names, and the repository's languages."""
    named = _PATH_LIKE.findall(" ".join([plan.ask, *(doc.text for doc in docs)]))
    return TaskProfile.of([*named, *plan.context], plan.kind, await repository_languages(session))


async def after_review(session: Session, plan: Plan) -> TaskProfile:
    """The task as its task list states it; without named files, the repository's languages stand in."""
    files = [name for step in plan.steps for name in step.files]
    if not any(language_of(name) for name in files):
        return TaskProfile.of(files, plan.kind, await repository_languages(session))
    return TaskProfile.of(files, plan.kind)


def lessons_in_view(session: Session) -> tuple[Lesson, ...]:
    """The held lessons as this command sees them: from their files, with the session's trial applied.
    A malformed lesson file is skipped with a warning naming the file and field, never fatal."""
    shelf = session.kit.blueprint.lessons.load()
    for problem in shelf.problems:
        session.warn_once(f"{problem}; the lesson is skipped until the file is fixed")
    return session.trial.apply(shelf.lessons)


def version_in_view(session: Session) -> str:
    return session.trial.version(blueprint_version(session.kit.blueprint.root))


def carried(session: Session, task: TaskProfile) -> tuple[CarriedLesson, ...]:
    chosen = select(lessons_in_view(session), task, session.project.config.lessons.max_injected)
    return tuple(CarriedLesson(id=lesson.id, rule=" ".join(lesson.rule.split())) for lesson in chosen)


async def record_plan(session: Session, plan: Plan, shown_path: str) -> None:
    """Count the plan in its lessons' counters, propose lessons for retirement, tell the ledger.

    Only lessons that changed are written, so a plan touches the files of the lessons it carries and
    nothing else.
    """
    blueprint = session.kit.blueprint
    book = blueprint.lessons
    ids = {lesson.id for lesson in plan.lessons}
    session.events(
        PlanWritten(
            path=shown_path,
            title=plan.title,
            ask=plan.ask,
            blueprint=version_in_view(session),
            task_kind=plan.kind,
            lessons=tuple(sorted(ids)),
        )
    )
    async with book.editing():
        with Ledger.open(session.project.ledger_path) as ledger:
            after = {row.lesson: row.findings_after for row in lesson_stats(ledger)}
            for lesson in book.load().lessons:
                if lesson.status is LessonStatus.ACTIVE:
                    updated = _bookkept(session, lesson, ledger, carried=lesson.id in ids, after=after)
                    if updated != lesson:
                        book.save(updated)
                    if lesson.id in ids:
                        session.events(
                            LessonNoted(lesson=lesson.id, activity=LessonActivity.INJECTED, detail=shown_path)
                        )


def _bookkept(
    session: Session, lesson: Lesson, ledger: Ledger, *, carried: bool, after: dict[str, int]
) -> Lesson:
    """The lesson with this plan counted, and a retirement proposal if one is due now."""
    config = session.project.config.lessons
    if carried:
        counters = lesson.counters.model_copy(update={"injected": lesson.counters.injected + 1})
        lesson = lesson.model_copy(update={"counters": counters})
    reason = retirement_reason(
        lesson,
        plans_idle=0
        if carried
        else plans_since_carried(ledger, lesson.id, lesson.activated or lesson.created),
        idle_limit=config.retire_after_runs,
        findings_since_active=after.get(lesson.id, 0),
        checked_limit=config.checked_retire_after,
    )
    if reason is None:
        return lesson
    session.events(LessonNoted(lesson=lesson.id, activity=LessonActivity.RETIREMENT_PROPOSED, detail=reason))
    return lesson.model_copy(update={"retirement": reason})
