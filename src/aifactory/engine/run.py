"""A run: N attempts of one plan from one base commit, and the one place that decides how it ends."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from aifactory.domain.events import AttemptPlanned, RunFinished, RunStarted
from aifactory.domain.plan import Plan
from aifactory.domain.run import AttemptState, RunState, attempt_name, branch_name
from aifactory.domain.verdict import Candidate, rank
from aifactory.engine.attempt import AttemptJob, AttemptOutcome, run_attempt
from aifactory.engine.context import Factory
from aifactory.engine.runners.base import Runner
from aifactory.workspace.worktree import worktree_path


@dataclass(frozen=True)
class RunRequest:
    run_id: str
    plan: Plan
    plan_text: str
    plan_path: str
    base_commit: str
    attempts: int
    worktree_root: Path


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    state: RunState
    attempts: list[AttemptOutcome]
    ranking: list[str]
    """Passing attempts, best first."""


async def run_plan(factory: Factory, request: RunRequest, runner: Runner) -> RunOutcome:
    """Start every attempt at once (within the runner's limit) and wait for all of them."""
    factory.sink(
        RunStarted(
            run_id=request.run_id,
            title=request.plan.title,
            ask=request.plan.ask,
            plan_path=request.plan_path,
            repo=str(factory.git.path),
            base_commit=request.base_commit,
            attempts=request.attempts,
            steps=len(request.plan.steps),
        )
    )
    jobs = [_job(request, index) for index in range(1, request.attempts + 1)]
    for job in jobs:
        factory.sink(
            AttemptPlanned(
                run_id=job.run_id, attempt=job.attempt, branch=job.branch, worktree=str(job.worktree)
            )
        )
    try:
        outcomes = await runner.run_all(jobs, lambda job: run_attempt(factory, job))
    except asyncio.CancelledError:
        factory.sink(RunFinished(run_id=request.run_id, state=RunState.INTERRUPTED, reason="interrupted"))
        raise
    ranking = _ranking(outcomes)
    state = RunState.PASSED if ranking else RunState.FAILED
    reason = f"{len(ranking)} of {len(outcomes)} attempts passed"
    factory.sink(RunFinished(run_id=request.run_id, state=state, reason=reason))
    return RunOutcome(run_id=request.run_id, state=state, attempts=outcomes, ranking=ranking)


def _job(request: RunRequest, index: int) -> AttemptJob:
    name = attempt_name(index)
    return AttemptJob(
        run_id=request.run_id,
        attempt=name,
        branch=branch_name(request.run_id, name),
        worktree=worktree_path(request.worktree_root, request.run_id, name),
        base_commit=request.base_commit,
        plan=request.plan,
        plan_text=request.plan_text,
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
