"""A round: N attempts of one rendering of the plan, from one base commit and one blueprint version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
class Resumption:
    """How a stopped round is taken up again (`factory resume`)."""

    round: int
    kept: tuple[AttemptOutcome, ...] = ()
    """Attempts that had their verdict: kept as they were, and counted in the round's outcome."""
    recorded: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """The step commits the ledger recorded for each attempt taken up; its branch may hold more."""
    agents_ran: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """The small agents the ledger recorded as run on each attempt taken up."""


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
    resumption: Resumption | None = None


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
    """Start every attempt of the round at once (within the runner's limit) and wait for all of them.

    On a resume, attempts that had their verdict are kept and the others taken up where they stopped.
    """
    kept = {outcome.attempt: outcome for outcome in request.resumption.kept} if request.resumption else {}
    names = [
        attempt_name(index)
        for index in range(request.first_attempt, request.first_attempt + request.attempts)
    ]
    jobs = [_job(request, name) for name in names if name not in kept]
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
    ran = await runner.run_all(jobs, lambda job: run_attempt(factory, job))
    by_name = {**kept, **{outcome.attempt: outcome for outcome in ran}}
    outcomes = [by_name[name] for name in names]
    return RoundOutcome(
        number=request.number, plan=request.plan, attempts=outcomes, ranking=_ranking(outcomes)
    )


def _job(request: RoundRequest, name: str) -> AttemptJob:
    resumption = request.resumption
    return AttemptJob(
        run_id=request.run_id,
        attempt=name,
        branch=branch_name(request.run_id, name),
        worktree=worktree_path(request.worktree_root, request.run_id, name),
        base_commit=request.base_commit,
        plan=request.plan.plan,
        plan_text=request.plan.plan_text,
        checks=request.plan.checks,
        resume=resumption is not None,
        recorded=resumption.recorded.get(name, frozenset()) if resumption else frozenset(),
        agents_ran=resumption.agents_ran.get(name, frozenset()) if resumption else frozenset(),
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
