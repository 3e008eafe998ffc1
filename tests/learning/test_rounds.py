"""The loop of step 5: a rejected round teaches a lesson, the next round and the next task pass.

One shop, two tasks, run once for the module: the demo's story, checked from the ledger, the lesson
files, the plan files and the branches rather than from what the demo prints.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aifactory.domain.events import LessonActivity, LessonNoted
from aifactory.domain.lesson import AstGrepSpec, LessonStatus
from aifactory.domain.run import AttemptState
from aifactory.engine.run import RunOutcome
from aifactory.service.inspect import show
from aifactory.service.planning import PlanResult
from aifactory.service.stats import learning_curve
from aifactory.testing.demo import ASKS, LESSON_RULE, demo_scenario
from tests.learning.shop import held, shop, task
from tests.sim import SimProject
from tests.support import git


@dataclass
class Story:
    sim: SimProject
    first: tuple[PlanResult, RunOutcome]
    second: tuple[PlanResult, RunOutcome]


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    with shop(tmp_path_factory.mktemp("story"), demo_scenario()) as sim:
        first = task(sim, ASKS[0])
        second = task(sim, ASKS[1])
        yield Story(sim=sim, first=first, second=second)


def test_a_rejected_round_becomes_a_lesson_with_a_proven_check(story: Story) -> None:
    _, outcome = story.first
    assert [round_.passed for round_ in outcome.rounds] == [False, True]
    [lesson] = held(story.sim)
    assert lesson.rule == LESSON_RULE
    assert lesson.status is LessonStatus.ACTIVE
    assert isinstance(lesson.check, AstGrepSpec)
    assert lesson.origin is not None
    assert lesson.origin.run == outcome.run_id
    proven = [
        e
        for e in story.sim.events
        if isinstance(e, LessonNoted) and e.activity is LessonActivity.CHECK_PROVEN and e.lesson == lesson.id
    ]
    assert proven


def test_the_same_finding_in_the_second_attempt_strengthens_the_lesson_instead_of_copying_it(
    story: Story,
) -> None:
    [lesson] = held(story.sim)
    assert lesson.counters.flagged == 1
    assert [sighting.attempt for sighting in lesson.seen] == ["a2"]


def test_round_two_runs_a_rewritten_plan_from_the_changed_blueprint_and_keeps_round_one(story: Story) -> None:
    planned, outcome = story.first
    detail = show(asyncio.run(story.sim.project()), outcome.run_id)
    first, second = detail.rounds
    assert first.blueprint != second.blueprint
    assert first.lessons == ()
    [lesson] = held(story.sim)
    assert second.lessons == (lesson.id,)
    rewritten = planned.path.with_name(f"{planned.path.stem}-round2.md")
    assert second.plan_path.endswith(rewritten.name)
    assert f"- `{lesson.id}`: {LESSON_RULE}" in rewritten.read_text(encoding="utf-8")
    rounds = {attempt.name: (attempt.round, attempt.state) for attempt in detail.attempts}
    assert rounds == {
        "a1": (1, AttemptState.REJECTED),
        "a2": (1, AttemptState.REJECTED),
        "a3": (2, AttemptState.PASSED),
        "a4": (2, AttemptState.PASSED),
    }
    # Learning and planning round 2 are charged to the run.
    with sqlite3.connect(story.sim.repo / ".factory" / "ledger.db") as db:
        query = "select distinct role from model_calls where run_id = ?"
        roles = {role for (role,) in db.execute(query, (outcome.run_id,))}
    assert {"planner", "plan-reviewer", "distiller", "executor"} <= roles
    # The rejected outputs stay on their branches, untouched: nothing patched them.
    log = git(story.sim.repo, "log", "--format=%s", f"factory/{outcome.run_id}/a1")
    assert log.splitlines()[:2] == [
        "step 2/2: Test top_customers",
        "step 1/2: Add top_customers to shop/report.py",
    ]
    assert ".read()" in git(story.sim.repo, "show", f"factory/{outcome.run_id}/a1:shop/report.py")


def test_the_next_task_carries_the_lesson_and_passes_in_its_first_round(story: Story) -> None:
    planned, outcome = story.second
    [lesson] = held(story.sim)
    assert [carried.id for carried in planned.plan.lessons] == [lesson.id]
    assert [round_.passed for round_ in outcome.rounds] == [True]
    assert lesson.counters.injected == 2  # task 1's second plan, and task 2's plan


def test_stats_show_the_first_round_pass_rate_rising_with_the_blueprint(story: Story) -> None:
    curve = learning_curve(asyncio.run(story.sim.project()))
    assert [(v.runs, v.first_round_passed) for v in curve.versions] == [(1, 0), (1, 1)]
    assert curve.versions[0].rounds_to_pass == 2.0
    [lesson] = curve.lessons
    assert (lesson.injected, lesson.findings_before, lesson.findings_after) == (2, 2, 0)
    printed = story.sim.cli("stats", "--json")
    assert printed.returncode == 0, printed.stderr
    data = json.loads(printed.stdout)
    assert [row["first_round_pass_rate"] for row in data["versions"]] == [0.0, 1.0]


def test_replay_runs_earlier_asks_against_the_current_blueprint(story: Story) -> None:
    replayed = story.sim.cli("replay", "--limit", "1", "--json", timeout=300)
    assert replayed.returncode == 0, replayed.stderr
    data = json.loads(replayed.stdout)
    [result] = data["results"]
    assert result["ask"] == ASKS[1]
    assert result["first_passed"] is True
    assert result["passed"] is True


def test_replay_without_the_lesson_shows_what_it_is_worth(story: Story, tmp_path: Path) -> None:
    [lesson] = held(story.sim)
    tasks = tmp_path / "tasks.toml"
    tasks.write_text(f"[[tasks]]\nask = {json.dumps(ASKS[1])}\n", encoding="utf-8")
    replayed = story.sim.cli("replay", "--tasks", str(tasks), "--without", lesson.id, "--json", timeout=300)
    data = json.loads(replayed.stdout)
    [result] = data["results"]
    assert result["passed"] is False
    assert result["blueprint"].endswith(f"-{lesson.id}")
