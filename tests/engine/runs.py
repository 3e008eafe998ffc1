"""Driving the service in-process for engine tests: plan an ask, then run it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from aifactory.engine.run import RunOutcome
from aifactory.ledger.queries import RunDetail
from aifactory.service.inspect import show
from aifactory.service.planning import no_answers, plan_ask
from aifactory.service.running import RunStart, run
from tests.sim import SimProject


@dataclass
class Finished:
    outcome: RunOutcome
    detail: RunDetail
    notices: list[str] = field(default_factory=list)

    def attempt(self, name: str) -> object:
        return next(a for a in self.detail.attempts if a.name == name)


def plan_and_run(
    sim: SimProject, ask: str = "Write the notes", *, attempts: int = 2, env: Mapping[str, str] | None = None
) -> Finished:
    """Plan `ask` and run it in-process; `env` replaces the environment the roles and agents see."""
    notices: list[str] = []

    async def go() -> RunOutcome:
        project = await sim.project()
        with sim.session(project, env) as current:
            planned = await plan_ask(current, ask, [], no_answers)
            return await run(
                current,
                RunStart(plan_path=planned.path),
                attempts=attempts,
                answer=no_answers,
                notice=notices.append,
            )

    outcome = asyncio.run(go())
    project = asyncio.run(sim.project())
    return Finished(outcome=outcome, detail=show(project, outcome.run_id), notices=notices)
