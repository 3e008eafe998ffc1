"""A run: rounds of attempts from one base commit, and the one place that decides how it ends.

A round whose attempts all fail verification does not lead to patching their code. Its findings
become lessons (the learner changes the blueprint), the plan is written again from the changed
blueprint (the replanner), and the next round starts from the same base commit. Earlier rounds'
branches stay for inspection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aifactory.domain.events import RoundFinished, RoundStarted, RunFinished, RunStarted
from aifactory.domain.run import RunState
from aifactory.engine.attempt import AttemptOutcome
from aifactory.engine.context import Factory
from aifactory.engine.round import RoundOutcome, RoundPlan, RoundRequest, run_round
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
    first = request.first
    factory.sink(
        RunStarted(
            run_id=request.run_id,
            title=first.plan.title,
            ask=first.plan.ask,
            plan_path=first.plan_path,
            repo=str(factory.git.path),
            base_commit=request.base_commit,
            attempts=request.attempts,
            steps=len(first.plan.steps),
            rounds=request.rounds,
        )
    )
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
    number = 1
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
            ),
            runner,
        )
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
        if number == request.rounds:
            return RunState.FAILED, f"no attempt passed in {number} round(s); {learned.summary}".rstrip("; ")
        if not learned.changed:
            waiting = (
                f"; {learned.proposed} proposed lesson(s) wait for `factory lessons accept`"
                if learned.proposed
                else ""
            )
            return RunState.FAILED, (
                f"no attempt passed in round {number}, and its findings changed none of the factory's "
                f"inputs ({learned.summary}), so another round would repeat it{waiting}"
            )
        number += 1
        plan = await replan(number)
