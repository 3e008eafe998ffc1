"""The agent seam: whatever carries out one step of a task list inside an attempt's worktree.

The built-in agent drives a model through tools; external coding agents (`claude_code.py`, and
later Codex, Gemini CLI, Aider) are one module each behind the same protocol. The factory, not the
agent, commits the step, so every agent leaves the same history.

While it works, an agent reports each tool call it makes to `StepJob.on_tool` as a `ToolCall`
(build it with `ToolCall.of`, which shortens the target and masks secrets), from the stream as it
is read, not at the end: the relay turns it into an `AgentToolCalled` event naming the agent and the
step, so the ledger and `factory show` list every agent's calls the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from aifactory.agents.mcp_offer import McpOffer
from aifactory.domain.usage import Usage
from aifactory.errors import StepError
from aifactory.workspace.sandbox import NoSandbox, Sandbox

_TARGET_CHARS = 120
_SECRETS = (
    (re.compile(r"(?i)(bearer\s+|--(?:api-)?(?:key|token|password)[= ]\s*)\S+"), r"\1***"),
    (re.compile(r"(?i)\b(\w*(?:key|token|secret|password|passwd|auth)\w*)(\s*[=:]\s*)\S+"), r"\1\2***"),
    (re.compile(r"\b(sk|ghp|gho|xox[bp]|AKIA|ASIA)[-_A-Za-z0-9]{8,}"), r"\1***"),
)
"""What a command line may carry that the ledger must not keep: assignments to secret-looking names,
bearer tokens and key flags, and well-known key prefixes (Anthropic/OpenAI, GitHub, Slack, AWS)."""


@dataclass(frozen=True)
class ToolCall:
    """One tool call an agent made: the tool's name, what it acted on, and whether it succeeded."""

    tool: str
    target: str = ""
    ok: bool = True

    @classmethod
    def of(cls, tool: str, target: object = "", *, ok: bool = True) -> ToolCall:
        """A call as the ledger keeps it: the target's first line, secrets masked, at most 120 chars."""
        text = str(target or "").strip()
        first = text.splitlines()[0] if text else ""
        cut = first != text
        for pattern, mask in _SECRETS:
            first = pattern.sub(mask, first)
        if cut or len(first) > _TARGET_CHARS:
            first = first[: _TARGET_CHARS - 1].rstrip() + "…"
        return cls(tool=tool[:60], target=first, ok=ok)


ToolSink = Callable[[ToolCall], None]


def ignore_tool(call: ToolCall) -> None:
    """The sink of a job nobody records (a test driving an agent directly)."""


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
    mcp: McpOffer | None = None
    """The MCP servers the executor's allow-list grants, for an agent CLI that starts them itself."""
    on_tool: ToolSink = Field(default=ignore_tool, exclude=True)
    """Where the agent reports each tool call as it happens; the relay records them in the ledger."""
    sandbox: Sandbox = Field(default_factory=NoSandbox, exclude=True)
    """What confines the agent's writes (and its commands') to the worktree (`[run] sandbox`)."""

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


@dataclass(frozen=True)
class Ending:
    """How an external agent's run ended, as its output parser judged it: `ok`, or a reason;
    `limited` runs go to the next choice (from `until`)."""

    ok: bool
    text: str
    """The agent's final answer on success, else the reason the step failed."""
    limited: bool = False
    until: datetime | None = None
    login: bool = False
    """The CLI is not logged in or its key was refused: a setup problem, not a limit."""


class AgentFailed(StepError):
    """An external agent's run ended without finishing the step; what it spent is in `outcome`.

    `limited` means the agent's provider said "not now" (a usage limit, 429 or 529): the factory cools
    the agent down until `until` (None: the configured rest, or `retry_after` seconds if that is
    longer: the server's own retry delay, as the agent last waited it) and gives the step to its
    next choice.
    """

    def __init__(
        self,
        reason: str,
        outcome: StepOutcome,
        *,
        limited: bool = False,
        until: datetime | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.limited = limited
        self.until = until
        self.retry_after = retry_after
        self.retryable = limited


class Agent(Protocol):
    """Carries out one step; raises `StepError` (or `ModelError`) when it cannot finish it."""

    name: str

    async def run_step(self, job: StepJob) -> StepOutcome: ...
