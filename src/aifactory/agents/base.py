"""The agent seam: whatever carries out one step of a task list inside an attempt's worktree.

The built-in agent drives a model through tools; external coding agents (Claude Code, Codex,
Gemini CLI, Aider) will be one module each behind the same protocol. The factory, not the agent,
commits the step, so every agent leaves the same history.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict


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


class StepOutcome(BaseModel):
    """What an agent reports back; the factory records it and commits the worktree."""

    model_config = ConfigDict(frozen=True)

    summary: str
    tool_calls: int = 0
    refusals: int = 0


class Agent(Protocol):
    """Carries out one step; raises `StepError` (or `ModelError`) when it cannot finish it."""

    name: str

    async def run_step(self, job: StepJob) -> StepOutcome: ...
