"""The demo's shop repository and simulated team, driven in-process for tests of learning."""

from __future__ import annotations

import asyncio
import shlex
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from aifactory.blueprint.lessons import LessonBook
from aifactory.domain.lesson import Lesson
from aifactory.engine.run import RunOutcome
from aifactory.service.planning import PlanResult, plan_ask
from aifactory.service.running import RunStart, run
from aifactory.testing import Scenario
from aifactory.testing.demo import demo_answer
from aifactory.testing.democode import SAMPLE_FILES
from tests.sim import SimProject, sim_project

TEST_COMMAND = f"{shlex.quote(sys.executable)} -m unittest -q"


@contextmanager
def shop(
    root: Path,
    scenario: Scenario,
    *,
    lessons: Mapping[str, int | float | bool] | None = None,
    files: Mapping[str, str] = SAMPLE_FILES,
) -> Iterator[SimProject]:
    with sim_project(
        root, scenario, files=files, test=TEST_COMMAND, run={"attempts": 2, "rounds": 3}, lessons=lessons
    ) as sim:
        yield sim


def answers(questions: Sequence[str]) -> list[str | None]:
    return [demo_answer(question) for question in questions]


async def plan_and_run(
    sim: SimProject, ask: str, *, rounds: int | None = None
) -> tuple[PlanResult, RunOutcome]:
    project = await sim.project()
    notices: list[str] = []
    with sim.session(project) as current:
        planned = await plan_ask(current, ask, [], answers)
        outcome = await run(
            current,
            RunStart(plan_path=planned.path),
            attempts=2,
            rounds=rounds,
            answer=answers,
            notice=notices.append,
        )
    return planned, outcome


def task(sim: SimProject, ask: str, *, rounds: int | None = None) -> tuple[PlanResult, RunOutcome]:
    return asyncio.run(plan_and_run(sim, ask, rounds=rounds))


def book(sim: SimProject) -> LessonBook:
    return LessonBook(sim.repo / ".factory" / "blueprint" / "lessons")


def held(sim: SimProject) -> list[Lesson]:
    return list(book(sim).load().lessons)
