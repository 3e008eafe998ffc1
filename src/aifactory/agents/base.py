"""The agent seam: whatever carries out one step of a task list inside an attempt's worktree.

The built-in agent drives a model through tools; external coding agents (`claude_code.py`, and
later Codex, Gemini CLI, Aider) are one module each behind the same protocol. The factory, not the
agent, commits the step, so every agent leaves the same history.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from aifactory.domain.usage import Usage
from aifactory.errors import StepError


class StepJob(BaseModel):
    """What an agent needs to carry out one step."""

    model_config = ConfigDict(frozen=True)

    worktree: Path
    instructions: str
    task: str
    stable: str = ""
    """The opening of the request every step of the attempt shares (the plan), sent before `task` and
    cached by providers that cache; an agent taking one prompt puts it first."""
    max_turns: int
    command_timeout: float
    output_cap: int
    env: Mapping[str, str]
    resume: str | None = None
    """The session an external agent left at the attempt's previous step, to carry its context on."""

    @property
    def prompt(self) -> str:
        """The whole request as one text, for an agent that takes a single prompt."""
        return "\n\n".join(part for part in (self.stable, self.task) if part)


class StepOutcome(BaseModel):
    """What an agent reports back; the factory records it and commits the worktree.

    External agents also report what the run cost them (`usage`, None for the built-in agent, whose
    model calls are recorded one by one), how long it took, and the session to resume.
    """

    model_config = ConfigDict(frozen=True)

    summary: str
    tool_calls: int = 0
    refusals: int = 0
    usage: Usage | None = None
    duration_ms: int = 0
    session_id: str | None = None


class AgentFailed(StepError):
    """An external agent's run ended without finishing the step; what it spent is in `outcome`.

    `limited` means the agent's provider said "not now" (a usage limit, 429 or 529): the factory cools
    the agent down until `until` (None: the configured rest) and gives the step to its next choice.
    """

    def __init__(
        self, reason: str, outcome: StepOutcome, *, limited: bool = False, until: datetime | None = None
    ) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.limited = limited
        self.until = until
        self.retryable = limited


class Agent(Protocol):
    """Carries out one step; raises `StepError` (or `ModelError`) when it cannot finish it."""

    name: str

    async def run_step(self, job: StepJob) -> StepOutcome: ...
