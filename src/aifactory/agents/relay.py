"""The executor's choices as one step: external agents and pooled models in order, limits handed on.

A step goes to the first seat (an agent, or a run of provider choices the built-in agent serves
through one pool) that is not cooling down. When an agent reports a limit (the subscription's usage
limit, a 429 or 529 after its own retries), the agent cools down until its reset time (a
`ProviderCooled` event, kept in the ledger like a provider's; without one, for `cooldown` or the
server's retry delay the agent last waited, whichever is longer: a short delay is the agent's own
backoff, not a reset), the worktree is put back at the last commit, and the step starts again on the
next seat with the same prompt: `ProviderSwitched` says who took over. A pool that is not the last
seat does not wait for its providers' resets: the next seat may have capacity now. When every seat
is cooling the step waits for the earliest reset, up to `max_wait`. External agents' runs are
recorded here as `ModelCalled` (their tokens and cost, as the agent reports them); the built-in
agent's requests are recorded one by one by the pool. Every seat's tool calls, reported through
`StepJob.on_tool` while it works, become `AgentToolCalled` events here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aifactory.agents.base import Agent, AgentFailed, StepJob, StepOutcome, ToolCall, ToolSink
from aifactory.domain.events import (
    AgentToolCalled,
    EventSink,
    ModelCalled,
    PoolWaiting,
    ProviderCooled,
    ProviderSwitched,
)
from aifactory.domain.run import Role
from aifactory.domain.usage import Usage
from aifactory.errors import ModelError


@dataclass(frozen=True)
class Seat:
    """One place in the executor's choices: who runs the step, on what, with which prompt."""

    name: str
    """The agent's name, or the first provider of the pool the built-in agent uses."""
    model: str
    names: tuple[str, ...]
    """What must be cooling down for the seat to be skipped: the agent, or every provider of the pool."""
    agent: Agent
    job: StepJob
    external: bool


@dataclass(frozen=True)
class Place:
    """Where in a run the step is, for the events."""

    role: Role
    run_id: str | None
    attempt: str | None
    step: int | None


@dataclass(frozen=True)
class Relay:
    """What handing a step on needs besides its seats."""

    place: Place
    sink: EventSink
    cooling: Callable[[], Mapping[str, datetime]]
    guard: Callable[[], None]
    """Raises `BudgetExceeded` once the run or attempt may spend no more."""
    restore: Callable[[], Awaitable[None]]
    """Puts the worktree back at the step's starting commit, for the next seat to start clean."""
    cooldown: float
    max_wait: float

    async def run(self, seats: Sequence[Seat]) -> tuple[Seat, StepOutcome]:
        """Carry out the step on the first seat that can; returns the seat that did, and its outcome."""
        current = seats[0]
        rested: dict[str, datetime] = {}
        passed: set[str] = set()
        started = False
        while True:
            resting = self._resting(rested)
            free = [s for s in seats if s.name not in passed and not set(s.names) <= set(resting)]
            if not free:
                await self._wait(seats, resting)
                continue
            seat = free[0]
            if seat is not current:
                self._switch(current, seat, resting, passed)
                current = seat
            if started:
                await self.restore()
            started = True
            self.guard()
            try:
                outcome = await seat.agent.run_step(
                    seat.job.model_copy(update={"on_tool": self._tools(seat)})
                )
            except AgentFailed as failed:
                self._record(seat, failed.outcome, str(failed))
                if not failed.limited:
                    raise
                rested[seat.name] = self._cool(seat, failed)
                continue
            except ModelError as error:
                if not error.retryable or seat is free[-1]:
                    raise
                passed.add(seat.name)
                continue
            if seat.external:
                self._record(seat, outcome, None)
            return seat, outcome

    def _tools(self, seat: Seat) -> ToolSink:
        place = self.place

        def called(call: ToolCall) -> None:
            self.sink(
                AgentToolCalled(
                    run_id=place.run_id,
                    attempt=place.attempt,
                    step=place.step,
                    agent=seat.name,
                    tool=call.tool,
                    target=call.target,
                    ok=call.ok,
                )
            )

        return called

    def _resting(self, rested: Mapping[str, datetime]) -> dict[str, datetime]:
        now = datetime.now(UTC)
        resting = {name: until for name, until in self.cooling().items() if until > now}
        for name, until in rested.items():
            if until > now:
                resting[name] = max(until, resting.get(name, until))
        return resting

    def _cool(self, seat: Seat, failed: AgentFailed) -> datetime:
        now = datetime.now(UTC)
        rest = max(self.cooldown, failed.retry_after or 0.0)
        until = failed.until if failed.until and failed.until > now else now + timedelta(seconds=rest)
        place = self.place
        self.sink(
            ProviderCooled(
                provider=seat.name,
                until=until,
                reason=str(failed),
                role=place.role,
                run_id=place.run_id,
                attempt=place.attempt,
                step=place.step,
            )
        )
        return until

    def _switch(self, previous: Seat, seat: Seat, resting: Mapping[str, datetime], passed: set[str]) -> None:
        if previous.name in resting:
            why = f"{previous.name} is cooling down until {resting[previous.name]:%H:%M:%S} UTC"
        elif previous.name in passed:
            why = f"{previous.name} could not serve the step now"
        else:
            why = f"{previous.name} is available again"
        place = self.place
        self.sink(
            ProviderSwitched(
                role=place.role,
                from_provider=previous.name,
                to_provider=seat.name,
                to_model=seat.model,
                reason=why + "; the step starts again from the last commit",
                run_id=place.run_id,
                attempt=place.attempt,
                step=place.step,
            )
        )

    def _record(self, seat: Seat, outcome: StepOutcome, error: str | None) -> None:
        place = self.place
        self.sink(
            ModelCalled(
                run_id=place.run_id,
                attempt=place.attempt,
                step=place.step,
                role=place.role,
                provider=seat.name,
                model=seat.model,
                usage=outcome.usage or Usage(),
                latency_ms=outcome.duration_ms,
                error=error,
            )
        )

    async def _wait(self, seats: Sequence[Seat], resting: Mapping[str, datetime]) -> None:
        """Sleep until the earliest seat is back; cancelling (Ctrl-C) interrupts the sleep."""
        back = [
            min(resting[n] for n in s.names if n in resting) for s in seats if set(s.names) <= set(resting)
        ]
        if not back:
            raise ModelError(
                f"no choice of role {self.place.role.value} could serve the step now", retryable=True
            )
        until = min(back)
        remaining = (until - datetime.now(UTC)).total_seconds()
        role = self.place.role.value
        if remaining > self.max_wait:
            listed = ", ".join(f"{name} until {when:%H:%M:%S} UTC" for name, when in sorted(resting.items()))
            raise ModelError(
                f"every choice of role {role} is cooling down ({listed}), longer than [run] max_wait = "
                f"{self.max_wait:.0f}s allows; add a choice under [roles.{role}] model, or resume the "
                "run after the reset",
                retryable=True,
            )
        place = self.place
        self.sink(
            PoolWaiting(
                role=place.role, until=until, run_id=place.run_id, attempt=place.attempt, step=place.step
            )
        )
        await asyncio.sleep(max(remaining, 0.0))
