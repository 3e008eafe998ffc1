"""The relay between the executor's seats: what it records of an agent's work and of its limits."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aifactory.agents.base import AgentFailed, StepJob, StepOutcome, ToolCall
from aifactory.agents.relay import Place, Relay, Seat
from aifactory.domain.events import AgentToolCalled, Event, ProviderCooled, ProviderSwitched
from aifactory.domain.run import Role


class ScriptedAgent:
    """An agent that reports the tool calls it is given, then finishes or hits a limit."""

    def __init__(self, name: str, calls: list[ToolCall], retry_after: float | None = None) -> None:
        self.name = name
        self._calls = calls
        self._retry_after = retry_after

    async def run_step(self, job: StepJob) -> StepOutcome:
        for call in self._calls:
            job.on_tool(call)
        outcome = StepOutcome(summary=f"{self.name} did it", tool_calls=len(self._calls))
        if self._retry_after is not None:
            raise AgentFailed("429", outcome, limited=True, retry_after=self._retry_after)
        return outcome


def _seat(agent: ScriptedAgent, tmp_path: Path) -> Seat:
    job = StepJob(
        worktree=tmp_path, instructions="", task="", max_turns=1, command_timeout=1, output_cap=1, env={}
    )
    return Seat(name=agent.name, model="m", names=(agent.name,), agent=agent, job=job, external=True)


def _relay(events: list[Event], cooldown: float) -> Relay:
    async def restore() -> None:
        return None

    return Relay(
        place=Place(role=Role.EXECUTOR, run_id="r", attempt="a1", step=2),
        sink=events.append,
        cooling=dict,
        guard=lambda: None,
        restore=restore,
        cooldown=cooldown,
        max_wait=0,
    )


@pytest.mark.parametrize(("retry_after", "rest"), [(600.0, 600.0), (0.6, 60.0)])
def test_each_seats_tool_calls_are_recorded_and_a_long_retry_delay_extends_its_cooldown(
    tmp_path: Path, retry_after: float, rest: float
) -> None:
    events: list[Event] = []
    limited = ScriptedAgent("claude-code", [ToolCall("Bash", "pytest", ok=False)], retry_after=retry_after)
    backup = ScriptedAgent("sim", [ToolCall("write_file", "notes/a.txt")])
    before = datetime.now(UTC)
    seat, outcome = asyncio.run(_relay(events, 60).run([_seat(limited, tmp_path), _seat(backup, tmp_path)]))
    assert (seat.name, outcome.summary) == ("sim", "sim did it")
    tools = [e for e in events if isinstance(e, AgentToolCalled)]
    assert [(e.run_id, e.attempt, e.step, e.agent, e.tool, e.target, e.ok) for e in tools] == [
        ("r", "a1", 2, "claude-code", "Bash", "pytest", False),
        ("r", "a1", 2, "sim", "write_file", "notes/a.txt", True),
    ]
    [cooled] = [e for e in events if isinstance(e, ProviderCooled)]
    assert before + timedelta(seconds=rest) <= cooled.until <= datetime.now(UTC) + timedelta(seconds=rest)
    assert [e.to_provider for e in events if isinstance(e, ProviderSwitched)] == ["sim"]
