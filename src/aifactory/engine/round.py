"""A round: N attempts of one rendering of the plan, from one base commit and one blueprint version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aifactory.domain.events import AttemptPlanned
from aifactory.domain.lesson import CheckSpec
from aifactory.domain.plan import Plan
from aifactory.domain.run import AttemptState, attempt_name, branch_name
from aifactory.domain.verdict import Candidate, rank
from aifactory.engine.attempt import AttemptJob, AttemptOutcome, run_attempt
from aifactory.engine.context import Factory
from aifactory.engine.runners.base import Runner
from aifactory.workspace.worktree import worktree_path


@dataclass(frozen=True)
class RoundPlan:
    """The plan a round executes, as rendered from one blueprint version."""

    plan: Plan
    plan_text: str
    plan_path: str
    blueprint: str
    checks: tuple[tuple[str, CheckSpec], ...] = ()
    """The lesson checks every attempt of the round is held to, by lesson id."""


@dataclass(frozen=True)
class RoundRequest:
    run_id: str
    number: int
    first_attempt: int
    """Attempts are numbered through the whole run (round 2 of a 2-attempt run holds a3 and a4)."""
    attempts: int
    base_commit: str
    worktree_root: Path
    plan: RoundPlan


@dataclass(frozen=True)
class RoundOutcome:
    number: int
    plan: RoundPlan
    attempts: list[AttemptOutcome]
    ranking: list[str]
    """Passing attempts, best first."""

    @property
    def passed(self) -> bool:
        return bool(self.ranking)


async def run_round(factory: Factory, request: RoundRequest, runner: Runner) -> RoundOutcome:
    """Start every attempt of the round at once (within the runner's limit) and wait for all of them."""
    jobs = [
        _job(request, index)
        for index in range(request.first_attempt, request.first_attempt + request.attempts)
    ]
    for job in jobs:
        factory.sink(
            AttemptPlanned(
                run_id=job.run_id,
                attempt=job.attempt,
                branch=job.branch,
                worktree=str(job.worktree),
                round=request.number,
                blueprint=request.plan.blueprint,
            )
        )
    outcomes = await runner.run_all(jobs, lambda job: run_attempt(factory, job))
    return RoundOutcome(
        number=request.number, plan=request.plan, attempts=outcomes, ranking=_ranking(outcomes)
    )


def _job(request: RoundRequest, index: int) -> AttemptJob:
    name = attempt_name(index)
    return AttemptJob(
        run_id=request.run_id,
        attempt=name,
        branch=branch_name(request.run_id, name),
        worktree=worktree_path(request.worktree_root, request.run_id, name),
        base_commit=request.base_commit,
        plan=request.plan.plan,
        plan_text=request.plan.plan_text,
        checks=request.plan.checks,
    )


def _ranking(outcomes: list[AttemptOutcome]) -> list[str]:
    candidates = [
        Candidate(
            attempt=outcome.attempt,
            warnings=sum(
                1
                for verdict in outcome.verdict.verdicts
                for finding in verdict.findings
                if not finding.blocking
            ),
            changed_lines=outcome.changed_lines,
        )
        for outcome in outcomes
        if outcome.state is AttemptState.PASSED and outcome.verdict is not None
    ]
    return [candidate.attempt for candidate in rank(candidates)]
