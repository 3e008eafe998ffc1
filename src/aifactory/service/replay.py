"""`factory replay`: earlier asks run again against the blueprint as it is now, to measure it.

A replay plans each ask afresh (the planner gets the lessons held now, the original answers to its
questions where they can be found), runs one round with learning off, and sets the result beside
how the ask's first run fared. With a trial (`--with` a proposed lesson, `--without` an active
one) it judges a lesson before the user accepts or retires it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aifactory.domain.events import LessonActivity, LessonNoted
from aifactory.domain.lesson import LessonStatus
from aifactory.errors import ConfigError, FactoryError
from aifactory.ledger.learning import first_runs
from aifactory.ledger.store import Ledger
from aifactory.service.planning import plan_ask, read_plan
from aifactory.service.project import Session
from aifactory.service.running import RunStart, run

DEFAULT_ANSWER = "Decide as you see fit and state the assumption in the plan."


class ReplayTask(BaseModel):
    """One ask to replay; from a tasks file, or from the ledger with its first run's result."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ask: str = Field(min_length=1)
    context: tuple[str, ...] = ()
    answers: dict[str, str] = Field(
        default_factory=dict, description="answers to the planner's questions, by question text"
    )
    first_run: str | None = None
    first_blueprint: str | None = None
    first_passed: bool | None = None


class _TasksFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tasks: list[ReplayTask] = Field(min_length=1)


@dataclass(frozen=True)
class Replayed:
    task: ReplayTask
    run_id: str | None
    blueprint: str | None
    passed: bool
    reason: str


@dataclass(frozen=True)
class ReplayReport:
    results: list[Replayed] = field(default_factory=list)

    @property
    def passed_now(self) -> int:
        return sum(1 for result in self.results if result.passed)

    @property
    def passed_then(self) -> int:
        return sum(1 for result in self.results if result.task.first_passed)


def tasks_from_ledger(session: Session, *, limit: int) -> list[ReplayTask]:
    """The distinct asks run so far, with the answers their first plan recorded, if it still exists."""
    with Ledger.open(session.project.ledger_path) as ledger:
        earlier = first_runs(ledger, limit=limit)
    tasks = []
    for first in earlier:
        context: tuple[str, ...] = ()
        answers: dict[str, str] = {}
        try:
            plan = read_plan(session.project.root / first.plan_path)
        except FactoryError:
            plan = None
        if plan is not None:
            context = plan.context
            answers = {q.text: q.answer for q in plan.questions if q.answer is not None}
        tasks.append(
            ReplayTask(
                ask=first.ask,
                context=context,
                answers=answers,
                first_run=first.run_id,
                first_blueprint=first.blueprint,
                first_passed=first.first_round_passed,
            )
        )
    return tasks


def tasks_from_file(path: Path) -> list[ReplayTask]:
    """A TOML file of `[[tasks]]` with `ask`, optional `context` (paths) and `answers` (question = answer)."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"--tasks {path}: no such file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    try:
        return _TasksFile.model_validate(data).tasks
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f'{path}: {where}: {first["msg"]}; write each task as [[tasks]] with ask = "...", '
            'optionally context = ["path"] and [tasks.answers] "question" = "answer"'
        ) from None


Notice = Callable[[str], None]


async def replay(
    session: Session, tasks: Sequence[ReplayTask], *, attempts: int, notice: Notice
) -> ReplayReport:
    """Plan and run each task once (one round, learning off) against the blueprint in view."""
    report = ReplayReport()
    for task in tasks:

        def answer(questions: Sequence[str], task: ReplayTask = task) -> list[str | None]:
            return [task.answers.get(question, DEFAULT_ANSWER) for question in questions]

        root = session.project.root
        try:
            planned = await plan_ask(session, task.ask, [root / name for name in task.context], answer)
            outcome = await run(
                session,
                RunStart(plan_path=planned.path),
                attempts=attempts,
                learning=False,
                answer=answer,
                notice=notice,
            )
        except FactoryError as error:
            report.results.append(
                Replayed(task=task, run_id=None, blueprint=None, passed=False, reason=str(error))
            )
            continue
        blueprint = outcome.rounds[0].plan.blueprint if outcome.rounds else None
        report.results.append(
            Replayed(
                task=task,
                run_id=outcome.run_id,
                blueprint=blueprint,
                passed=bool(outcome.ranking),
                reason=outcome.reason,
            )
        )
    if session.trial.dropped and report.results and report.passed_now == len(report.results):
        await _propose_retiring(session, report)
    return report


async def _propose_retiring(session: Session, report: ReplayReport) -> None:
    """Every ask passed its first round without these lessons: they made no difference here."""
    reason = f"a replay of {len(report.results)} earlier ask(s) without it passed every first round"
    book = session.kit.blueprint.lessons
    async with book.editing():
        for lesson in book.load().lessons:
            if lesson.id in session.trial.dropped and lesson.status is LessonStatus.ACTIVE:
                book.save(lesson.model_copy(update={"retirement": reason}))
                session.events(
                    LessonNoted(lesson=lesson.id, activity=LessonActivity.RETIREMENT_PROPOSED, detail=reason)
                )
