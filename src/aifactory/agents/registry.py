"""From `[agents.NAME]` to a ready external agent: one line per agent kind, and its environment.

Each agent process gets a scrubbed environment: nothing that looks like a credential and no
provider's key, except what its table passes on (`pass_env`) and the fixed values it sets (`env`).
So Claude Code on the subscription never sees OPENAI_API_KEY, nor the Anthropic key the factory's own
roles bill, unless the user says so.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Iterable, Mapping
from typing import Protocol

from aifactory.agents.base import StepJob, StepOutcome
from aifactory.config.agents import AgentConfig, AgentKind
from aifactory.workspace.process import scrubbed_env

_KINDS: dict[AgentKind, tuple[str, str]] = {
    AgentKind.CLAUDE_CODE: ("aifactory.agents.claude_code", "ClaudeCodeAgent"),
    AgentKind.CODEX: ("aifactory.agents.codex", "CodexAgent"),
    AgentKind.AIDER: ("aifactory.agents.aider", "AiderAgent"),
    AgentKind.GEMINI: ("aifactory.agents.gemini", "GeminiAgent"),
}
"""Agents by kind, as (module, class); Codex, Gemini CLI and Aider will be one line each."""


class ExternalAgent(Protocol):
    """An agent CLI: the `Agent` seam, plus a check that it is installed in a version we can drive."""

    name: str

    async def check(self) -> str:
        """The CLI's version; raises `ConfigError` naming the install command when it cannot run."""
        ...

    async def run_step(self, job: StepJob) -> StepOutcome: ...


def open_agent(
    name: str,
    config: AgentConfig,
    model: str,
    source: Mapping[str, str],
    *,
    secret_names: Iterable[str] = (),
) -> ExternalAgent:
    """Agent `name` on `model`, its environment built from `source` (the factory's)."""
    module, cls = _KINDS[config.kind]
    env = agent_env(source, config, secret_names=secret_names)
    agent: ExternalAgent = getattr(importlib.import_module(module), cls)(name, config, model, env)
    return agent


def agent_env(
    source: Mapping[str, str], config: AgentConfig, *, secret_names: Iterable[str] = ()
) -> dict[str, str]:
    """`source` without credentials or providers' keys, plus what `pass_env` names and `env` sets."""
    env = scrubbed_env(source, secret_names=secret_names)
    env.update(
        (name, value)
        for name, value in source.items()
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in config.pass_env)
    )
    env.update(config.env)
    return env
