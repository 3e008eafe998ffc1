"""`[agents.NAME]`: external coding agents (agent CLIs) that the executor role may name.

An executor choice `NAME:MODEL` names either a provider (the built-in agent drives that model) or an
agent table (the agent's own CLI runs the step with that model). An agent sees only what its table
passes it from the factory's environment, so another provider's secret never reaches it.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENV_GLOB = re.compile(r"[A-Za-z_*][A-Za-z0-9_*]*")
_SECRET_NAMES = ("*_KEY", "*_TOKEN", "*SECRET*", "*PASSWORD*", "*_CREDENTIALS")
"""Names whose values are secrets: never written in the configuration, only passed through."""


class AgentKind(StrEnum):
    """Which CLI an agent table drives; each kind is one line of `aifactory.agents.registry`."""

    CLAUDE_CODE = "claude-code"
    CODEX = "codex"
    AIDER = "aider"
    GEMINI = "gemini"


@dataclass(frozen=True)
class KindDefaults:
    """What an agent table of one kind gets for the settings it leaves out, and what it may set."""

    binary: str
    allowed_tools: tuple[str, ...]
    permission_modes: dict[str, str]
    """The modes the CLI offers, each with what it means for the user; the first is the default."""
    pass_env: tuple[str, ...]


KIND_DEFAULTS: dict[AgentKind, KindDefaults] = {
    AgentKind.CLAUDE_CODE: KindDefaults(
        binary="claude",
        allowed_tools=("Read", "Write", "Edit", "MultiEdit", "Glob", "Grep", "LS", "Bash"),
        permission_modes={
            "acceptEdits": "edits in the worktree and the allowed tools run unasked",
            "bypassPermissions": "everything runs unasked; refused as root unless IS_SANDBOX=1",
        },
        pass_env=("CLAUDE_CODE_OAUTH_TOKEN",),
    ),
    AgentKind.CODEX: KindDefaults(
        binary="codex",
        allowed_tools=(),
        permission_modes={
            "workspace-write": "commands run in codex's sandbox, writing only in the worktree and /tmp",
            "danger-full-access": "commands run unsandboxed, with your rights (for a container)",
        },
        pass_env=("CODEX_API_KEY",),
    ),
    AgentKind.AIDER: KindDefaults(
        binary="aider",
        allowed_tools=(),
        permission_modes={
            "edits": "the model's file edits are applied unasked; it is not offered shell commands",
            "yes-always": "edits and the shell commands the model suggests run unasked",
        },
        pass_env=("OPENAI_API_KEY", "ANTHROPIC_API_KEY"),
    ),
    AgentKind.GEMINI: KindDefaults(
        binary="gemini",
        allowed_tools=("run_shell_command",),
        permission_modes={
            "auto_edit": "edits and the allowed tools run unasked; other tools are not offered",
            "yolo": "every tool runs unasked, shell commands included",
        },
        pass_env=("GEMINI_API_KEY", "GEMINI_CLI_HOME"),
    ),
}
"""Per kind: each agent CLI names its command, tools and permission modes its own way."""


class AgentConfig(BaseModel):
    """One external agent: its command, tools, environment and time limit per step.

    Settings left out take their kind's defaults (`KIND_DEFAULTS`). `pass_env` names variables (globs
    allowed, such as `AWS_*`) taken from the factory's environment; everything else that looks like
    a credential is scrubbed. `env` sets fixed values, never secrets.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: AgentKind
    binary: str
    allowed_tools: tuple[str, ...]
    permission_mode: str
    pass_env: tuple[str, ...]
    env: dict[str, str] = Field(default_factory=dict)
    timeout: float = Field(default=1800.0, gt=0)
    retries: int = Field(default=1, ge=0, le=10)
    """Retries the agent may make on its own after a 429 or 529 before the factory's pool decides."""
    writable: tuple[str, ...] = ()
    """Paths the agent may write outside its worktree under `[run] sandbox`, beside its kind's own state."""

    @model_validator(mode="before")
    @classmethod
    def _kind_defaults(cls, data: Any) -> Any:
        """Fill what the table leaves out from its kind, so each kind keeps its own names."""
        if not isinstance(data, dict):
            return data
        kind = data.get("kind")
        if kind not in KIND_DEFAULTS:
            return data
        defaults = KIND_DEFAULTS[AgentKind(kind)]
        filled = {
            "binary": defaults.binary,
            "allowed_tools": defaults.allowed_tools,
            "permission_mode": next(iter(defaults.permission_modes)),
            "pass_env": defaults.pass_env,
        }
        return {**filled, **data}

    @field_validator("binary")
    @classmethod
    def _binary(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name the agent's command, or its path")
        return value

    @field_validator("permission_mode")
    @classmethod
    def _permission_mode(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        modes = KIND_DEFAULTS[kind].permission_modes if isinstance(kind, AgentKind) else {}
        if modes and value not in modes:
            choices = " or ".join(f'"{mode}" ({meaning})' for mode, meaning in modes.items())
            raise ValueError(f"expected {choices}")
        return value

    @field_validator("writable")
    @classmethod
    def _writable(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for path in value:
            if not path.startswith(("/", "~")):
                raise ValueError(f"{path!r} is relative: name an absolute path, or one under ~")
        return value

    @field_validator("pass_env")
    @classmethod
    def _pass_env(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return check_pass_env(value)

    @field_validator("env")
    @classmethod
    def _no_secrets(cls, value: dict[str, str]) -> dict[str, str]:
        return check_env(value)


def check_pass_env(value: tuple[str, ...]) -> tuple[str, ...]:
    """`pass_env` of an agent or an MCP server: variable names, or globs such as AWS_*."""
    for name in value:
        if not _ENV_GLOB.fullmatch(name):
            raise ValueError(f"{name!r} is not an environment variable name (or a glob such as AWS_*)")
    return value


def check_env(value: dict[str, str]) -> dict[str, str]:
    """`env` of an agent or an MCP server: fixed values, never a secret (those go through pass_env)."""
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
    """Claude Code on the user's login or subscription, the same CLI on AWS Bedrock, Codex, Aider and
    Gemini CLI."""
    return {
        "claude-code": AgentConfig.model_validate({"kind": AgentKind.CLAUDE_CODE}),
        "claude-code@bedrock": AgentConfig.model_validate(
            {"kind": AgentKind.CLAUDE_CODE, "pass_env": ("AWS_*",), "env": {"CLAUDE_CODE_USE_BEDROCK": "1"}}
        ),
        "codex": AgentConfig.model_validate({"kind": AgentKind.CODEX}),
        "aider": AgentConfig.model_validate({"kind": AgentKind.AIDER}),
        "gemini": AgentConfig.model_validate({"kind": AgentKind.GEMINI}),
    }
