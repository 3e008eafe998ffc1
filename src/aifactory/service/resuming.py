"""`factory resume RUN`: a run that stopped before its end, taken up where it stopped.

What the run did comes from the ledger; what its attempts committed, from their branches (the
engine's `restore`, since a killed factory may have committed a step it never recorded). The run
then goes on through the same engine loop as `factory run`: the stopped round's unfinished attempts
from their first step without a commit, verification, learning, later rounds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from aifactory.checks.hits import fired
from aifactory.domain.run import AttemptState, Role, RunState, StepState
from aifactory.domain.verdict import decide
from aifactory.engine.attempt import AttemptOutcome
from aifactory.engine.round import Resumption, RoundOutcome
from aifactory.engine.run import Learn, Learned, RunOutcome, RunRequest, run_plan
from aifactory.engine.runners.local import LocalRunner
from aifactory.engine.small_agents import check_enabled
from aifactory.errors import UserError
from aifactory.ledger import queries
from aifactory.ledger.queries import AttemptDetail, RunDetail
from aifactory.ledger.store import Ledger
from aifactory.service import injection
from aifactory.service.planning import read_plan
from aifactory.service.project import Project, Session, budget_of
from aifactory.service.running import Notice, round_plan, wired

_VERDICT = (AttemptState.PASSED, AttemptState.REJECTED)


@dataclass(frozen=True)
class Stopped:
    """A run that may be resumed, and the project to resume it in with the run's budget set."""

    project: Project
    run: RunDetail

    @property
    def round(self) -> int:
        return self.run.rounds[-1].number if self.run.rounds else 1

    @property
    def plan_path(self) -> str:
        """The stopped round's plan, as the ledger shows it (relative to the repository)."""
        return self.run.rounds[-1].plan_path if self.run.rounds else self.run.plan_path


def stopped(
    project: Project, ref: str, *, max_cost: float | None = None, max_tokens: int | None = None
) -> Stopped:
    """The run named by `ref`, if it can be resumed; else a `UserError` saying why and what to do.

    The budget is the run's own (recorded when it started or was last resumed) unless `max_cost` or
    `max_tokens` replace it; either way it counts what the run spent before.
    """
    with Ledger.open(project.ledger_path) as ledger:
        run = queries.run_detail(ledger, queries.resolve_run(ledger, ref))
        here = ledger.host
    cost = Decimal(str(max_cost)) if max_cost is not None else run.max_cost
    tokens = max_tokens if max_tokens is not None else run.max_tokens
    limits = {"max_cost": float(cost or 0), "max_tokens": tokens or 0}
    config = project.config.model_copy(update={"run": project.config.run.model_copy(update=limits)})
    found = Stopped(project=dataclasses.replace(project, config=config), run=run)
    _refuse_if_not_stopped(found, here)
    return found


def _refuse_if_not_stopped(found: Stopped, here: str) -> None:
    run = found.run
    if run.state is RunState.PASSED:
        raise UserError(
            f"run {run.id} passed: there is nothing to resume; look at it with `factory show {run.id}`"
        )
    if run.state is RunState.RUNNING and not run.stale:
        where = "" if run.host == here else f" on {run.host}"
        raise UserError(
            f"run {run.id} is still running in process {run.pid}{where}; let it finish, or stop it "
            f"(Ctrl-C) and then run `factory resume {run.id}`"
        )
    latest = [attempt for attempt in run.attempts if attempt.round == found.round]
    if len(latest) == run.planned_attempts and all(attempt.state in _VERDICT for attempt in latest):
        raise UserError(
            f"run {run.id} has nothing to resume: every attempt of its round {found.round} has its verdict "
            f"({run.reason or run.state.value}); start a new run with `factory run {run.plan_path}`"
        )


async def resume(session: Session, target: Stopped, *, notice: Notice) -> RunOutcome:
    """Take the stopped round up again and run the rest of the run as `factory run` would."""
    project, run = session.project, target.run
    session.kit.catalog.check(list(Role))
    check_enabled(session.kit)
    number = target.round
    plan = read_plan(project.root / target.plan_path)
    first = read_plan(project.root / run.plan_path) if number > 1 else plan
    attempts = [attempt for attempt in run.attempts if attempt.round == number]
    kept = tuple([await _kept(project, run, attempt) for attempt in attempts if attempt.state in _VERDICT])
    blueprint = _blueprint(session, target, notice)
    session.spending.carry(run.id, run.usage, {attempt.name: attempt.usage for attempt in run.attempts})
    factory, replan, learn = wired(
        session,
        run.id,
        run.base_commit,
        first,
        project.root / run.plan_path,
        learning=run.learning,
        notice=notice,
    )
    budget = budget_of(project.config)
    request = RunRequest(
        run_id=run.id,
        base_commit=run.base_commit,
        attempts=run.planned_attempts,
        rounds=run.planned_rounds,
        worktree_root=project.worktree_root(),
        first=round_plan(session, plan, project.root / target.plan_path, blueprint),
        max_cost=budget.run_cost,
        max_tokens=budget.run_tokens,
        learning=run.learning,
        resumption=Resumption(
            round=number,
            kept=kept,
            recorded={attempt.name: _recorded(attempt) for attempt in attempts},
            agents_ran={attempt.name: frozenset(ran.agent for ran in attempt.agents) for attempt in attempts},
        ),
    )
    runner = LocalRunner(project.config.run.max_parallel)
    return await run_plan(factory, request, runner, replan=replan, learn=_once(learn, target, kept))


def _blueprint(session: Session, target: Stopped, notice: Notice) -> str:
    """The blueprint version the stopped round's plan was written from; a change since is told."""
    now = injection.version_in_view(session)
    then = target.run.rounds[-1].blueprint if target.run.rounds else now
    if then != now:
        notice(
            f"the blueprint changed since round {target.round} started ({then} → {now}): its plan "
            "stays as it was; the lesson checks in force now apply"
        )
    return then


def _once(learn: Learn, target: Stopped, kept: tuple[AttemptOutcome, ...]) -> Learn:
    """The learner, minus the kept attempts when their round ended before: it taught their findings."""
    rounds = target.run.rounds
    if not rounds or rounds[-1].passed is None:
        return learn
    taught = {attempt.attempt for attempt in kept}

    async def learn_once(outcome: RoundOutcome) -> Learned:
        if outcome.number == target.round:
            outcome = dataclasses.replace(
                outcome, attempts=[a for a in outcome.attempts if a.attempt not in taught]
            )
        return await learn(outcome)

    return learn_once


async def _kept(project: Project, run: RunDetail, attempt: AttemptDetail) -> AttemptOutcome:
    """An attempt that had its verdict, as the round's outcome counts it, from the ledger and its branch."""
    changed = 0
    if await project.git.branch_exists(attempt.branch):
        stats = await project.git.numstat(run.base_commit, attempt.branch)
        changed = sum((stat.added or 0) + (stat.removed or 0) for stat in stats)
    return AttemptOutcome(
        attempt=attempt.name,
        branch=attempt.branch,
        worktree=Path(attempt.worktree),
        state=attempt.state,
        reason=attempt.reason,
        verdict=decide(attempt.verdicts),
        changed_lines=changed,
        fired=fired(attempt.verdicts),
    )


def _recorded(attempt: AttemptDetail) -> frozenset[str]:
    return frozenset(
        step.commit for step in attempt.steps if step.state is StepState.COMMITTED and step.commit
    )
