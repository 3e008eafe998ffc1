"""`[agents.NAME]`: external coding agents (Claude Code today) that the executor role may name.

An executor choice `NAME:MODEL` names either a provider (the built-in agent drives that model) or an
agent table (the agent's own CLI runs the step with that model). An agent sees only what its table
passes it from the factory's environment, so another provider's secret never reaches it.
"""

from __future__ import annotations

import fnmatch
import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENV_GLOB = re.compile(r"[A-Za-z_*][A-Za-z0-9_*]*")
_SECRET_NAMES = ("*_KEY", "*_TOKEN", "*SECRET*", "*PASSWORD*", "*_CREDENTIALS")
"""Names whose values are secrets: never written in the configuration, only passed through."""


class AgentKind(StrEnum):
    """Which CLI an agent table drives; each kind is one line of `aifactory.agents.registry`."""

    CLAUDE_CODE = "claude-code"


class AgentConfig(BaseModel):
    """One external agent: its command, tools, environment and time limit per step.

    `pass_env` names variables (globs allowed, such as `AWS_*`) taken from the factory's environment;
    everything else that looks like a credential is scrubbed. `env` sets fixed values, never secrets.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: AgentKind
    binary: str = "claude"
    allowed_tools: tuple[str, ...] = ("Read", "Write", "Edit", "MultiEdit", "Glob", "Grep", "LS", "Bash")
    permission_mode: str = "acceptEdits"
    pass_env: tuple[str, ...] = ("CLAUDE_CODE_OAUTH_TOKEN",)
    env: dict[str, str] = Field(default_factory=dict)
    timeout: float = Field(default=1800.0, gt=0)
    retries: int = Field(default=1, ge=0, le=10)
    """Retries the agent may make on its own after a 429 or 529 before the factory's pool decides."""

    @field_validator("binary")
    @classmethod
    def _binary(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name the agent's command, e.g. claude, or its path")
        return value

    @field_validator("permission_mode")
    @classmethod
    def _permission_mode(cls, value: str) -> str:
        if value not in ("acceptEdits", "bypassPermissions"):
            raise ValueError(
                'expected "acceptEdits" (edits in the worktree and the allowed tools run unasked) or '
                '"bypassPermissions" (everything runs unasked; refused as root unless IS_SANDBOX=1)'
            )
        return value

    @field_validator("pass_env")
    @classmethod
    def _pass_env(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not _ENV_GLOB.fullmatch(name):
                raise ValueError(f"{name!r} is not an environment variable name (or a glob such as AWS_*)")
        return value

    @field_validator("env")
    @classmethod
    def _no_secrets(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _ENV_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not an environment variable name")
            if is_secret_name(name):
                raise ValueError(
                    f"{name} holds a secret, which is never written in the configuration: export it "
                    "and list its name in pass_env"
                )
        return value


def is_secret_name(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name.upper(), pattern) for pattern in _SECRET_NAMES)


def default_agents() -> dict[str, AgentConfig]:
    """Claude Code on the user's login or subscription, and the same CLI on AWS Bedrock."""
    return {
        "claude-code": AgentConfig(kind=AgentKind.CLAUDE_CODE),
        "claude-code@bedrock": AgentConfig(
            kind=AgentKind.CLAUDE_CODE,
            pass_env=("AWS_*",),
            env={"CLAUDE_CODE_USE_BEDROCK": "1"},
        ),
    }
