"""A run: rounds of attempts from one base commit, and the one place that decides how it ends.

A run stopped before its end (a provider cooling longer than `max_wait`, a budget, Ctrl-C, a crash)
is taken up by `factory resume`: the same loop, from the stopped round, with a `Resumption`.

A round whose attempts all fail verification does not lead to patching their code. Its findings
become lessons (the learner changes the blueprint), the plan is written again from the changed
blueprint (the replanner), and the next round starts from the same base commit. Earlier rounds'
branches stay for inspection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from aifactory.domain.events import RoundFinished, RoundStarted, RunFinished, RunResumed, RunStarted
from aifactory.domain.run import AttemptState, RunState, attempt_name
from aifactory.engine.attempt import AttemptOutcome
from aifactory.engine.context import Factory
from aifactory.engine.round import Resumption, RoundOutcome, RoundPlan, RoundRequest, run_round
from aifactory.engine.runners.base import Runner
from aifactory.errors import FactoryError


@dataclass(frozen=True)
class Learned:
    """What a round taught: whether the factory's inputs changed, and what waits for the user."""

    changed: bool
    proposed: int = 0
    summary: str = ""


Replan = Callable[[int], Awaitable[RoundPlan]]
"""Writes the plan for round N from the blueprint as it is now."""

Learn = Callable[[RoundOutcome], Awaitable[Learned]]
"""Turns a round's findings into lessons; never raises for a model's failure, it reports it."""


@dataclass(frozen=True)
class RunRequest:
    run_id: str
    base_commit: str
    attempts: int
    """Attempts per round."""
    rounds: int
    worktree_root: Path
    first: RoundPlan
    """The plan of the first round run: round 1's, or on a resume the stopped round's."""
    max_cost: Decimal | None = None
    max_tokens: int | None = None
    """The run's budget, recorded so that a resume keeps it; the session enforces it."""
    learning: bool = True
    """Recorded, so that a resume learns (or not) as the run did; the learner decides."""
    resumption: Resumption | None = None


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    state: RunState
    reason: str
    rounds: list[RoundOutcome]

    @property
    def attempts(self) -> list[AttemptOutcome]:
        return [attempt for round_ in self.rounds for attempt in round_.attempts]

    @property
    def ranking(self) -> list[str]:
        """The last round's passing attempts, best first."""
        return self.rounds[-1].ranking if self.rounds else []


async def run_plan(
    factory: Factory, request: RunRequest, runner: Runner, *, replan: Replan, learn: Learn
) -> RunOutcome:
    """Run rounds until one passes, the round limit is reached, or a round teaches nothing new."""
    factory.sink(_started(factory, request))
    rounds: list[RoundOutcome] = []
    try:
        state, reason = await _rounds(factory, request, runner, rounds, replan=replan, learn=learn)
    except asyncio.CancelledError:
        factory.sink(RunFinished(run_id=request.run_id, state=RunState.INTERRUPTED, reason="interrupted"))
        raise
    except FactoryError as error:
        state, reason = RunState.FAILED, f"round {len(rounds) + 1} could not start: {error}"
    factory.sink(RunFinished(run_id=request.run_id, state=state, reason=reason))
    return RunOutcome(run_id=request.run_id, state=state, reason=reason, rounds=rounds)


def _started(factory: Factory, request: RunRequest) -> RunStarted | RunResumed:
    first, resumption = request.first, request.resumption
    if resumption is not None:
        start = (resumption.round - 1) * request.attempts + 1
        kept = tuple(outcome.attempt for outcome in resumption.kept)
        return RunResumed(
            run_id=request.run_id,
            round=resumption.round,
            continued=tuple(
                name for name in map(attempt_name, range(start, start + request.attempts)) if name not in kept
            ),
            kept=kept,
            max_cost=request.max_cost,
            max_tokens=request.max_tokens,
        )
    return RunStarted(
        run_id=request.run_id,
        title=first.plan.title,
        ask=first.plan.ask,
        plan_path=first.plan_path,
        repo=str(factory.git.path),
        base_commit=request.base_commit,
        attempts=request.attempts,
        steps=len(first.plan.steps),
        rounds=request.rounds,
        max_cost=request.max_cost,
        max_tokens=request.max_tokens,
        learning=request.learning,
    )


async def _rounds(
    factory: Factory,
    request: RunRequest,
    runner: Runner,
    rounds: list[RoundOutcome],
    *,
    replan: Replan,
    learn: Learn,
) -> tuple[RunState, str]:
    plan = request.first
    resumption = request.resumption
    number = resumption.round if resumption else 1
    while True:
        factory.sink(
            RoundStarted(
                run_id=request.run_id,
                round=number,
                blueprint=plan.blueprint,
                plan_path=plan.plan_path,
                lessons=tuple(lesson.id for lesson in plan.plan.lessons),
            )
        )
        outcome = await run_round(
            factory,
            RoundRequest(
                run_id=request.run_id,
                number=number,
                first_attempt=(number - 1) * request.attempts + 1,
                attempts=request.attempts,
                base_commit=request.base_commit,
                worktree_root=request.worktree_root,
                plan=plan,
                resumption=resumption,
            ),
            runner,
        )
        resumption = None
        rounds.append(outcome)
        passed = len(outcome.ranking)
        factory.sink(
            RoundFinished(
                run_id=request.run_id,
                round=number,
                passed=outcome.passed,
                reason=f"{passed} of {len(outcome.attempts)} attempts passed",
            )
        )
        learned = await learn(outcome)
        if outcome.passed:
            return RunState.PASSED, f"round {number}: {passed} of {len(outcome.attempts)} attempts passed"
        if number == request.rounds or not learned.changed:
            return RunState.FAILED, _failed(request, outcome, learned)
        number += 1
        plan = await replan(number)


def _failed(request: RunRequest, outcome: RoundOutcome, learned: Learned) -> str:
    """Why the run ends without a pass; attempts stopped before their verdict are named with the
    command that continues them."""
    number = outcome.number
    stopped = [
        a.attempt for a in outcome.attempts if a.state in (AttemptState.FAILED, AttemptState.INTERRUPTED)
    ]
    resume = (
        f"{', '.join(stopped)} stopped before a verdict: `factory resume {request.run_id}` continues "
        f"{'it' if len(stopped) == 1 else 'them'} from the last commit"
    )
    if len(stopped) == len(outcome.attempts):
        return f"no attempt reached a verdict in round {number}; {resume}"
    if number == request.rounds:
        reason = f"no attempt passed in {number} round(s); {learned.summary}".rstrip("; ")
    else:
        waiting = (
            f"; {learned.proposed} proposed lesson(s) wait for `factory lessons accept`"
            if learned.proposed
            else ""
        )
        reason = (
            f"no attempt passed in round {number}, and its findings changed none of the factory's "
            f"inputs ({learned.summary}), so another round would repeat it{waiting}"
        )
    return f"{reason}; {resume}" if stopped else reason
