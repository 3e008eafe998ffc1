"""Where an agent CLI keeps its own state: the paths it may write outside the worktree under a sandbox.

Each CLI writes its login, sessions and settings under the user's home (`~/.claude`, `$CODEX_HOME`,
`~/.gemini`); binding the whole home writable would undo the sandbox, so each kind names only its
own folders (`STATE` below), created before the agent starts since a read-only home would not let
it, and `[agents.NAME] writable` adds what a user's setup needs (bound when it exists).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from aifactory.config.agents import AgentConfig, AgentKind


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or Path.home())


def _claude(env: Mapping[str, str]) -> list[Path]:
    """Claude Code's login, sessions and settings: `~/.claude`, or CLAUDE_CONFIG_DIR.

    `~/.claude.json` (start-up counters, onboarding, per-folder trust) stays read-only: it sits in
    the home itself, binding the file alone did not let 2.1.331 update it, and the CLI works on
    without updating it (its login is in `~/.claude`).
    """
    configured = env.get("CLAUDE_CONFIG_DIR")
    return [Path(configured) if configured else _home(env) / ".claude"]


def _codex(env: Mapping[str, str]) -> list[Path]:
    """Codex's sessions, logs and login: `$CODEX_HOME`, `~/.codex` by default."""
    return [Path(env.get("CODEX_HOME") or _home(env) / ".codex")]


def _gemini(env: Mapping[str, str]) -> list[Path]:
    """Gemini CLI's `.gemini` folder, under GEMINI_CLI_HOME when that replaces the home."""
    return [Path(env.get("GEMINI_CLI_HOME") or _home(env)) / ".gemini"]


def _aider(env: Mapping[str, str]) -> list[Path]:
    """Aider's `~/.aider` (its caches); its message and histories live in a scratch dir it is given."""
    return [_home(env) / ".aider"]


STATE: dict[AgentKind, Callable[[Mapping[str, str]], list[Path]]] = {
    AgentKind.CLAUDE_CODE: _claude,
    AgentKind.CODEX: _codex,
    AgentKind.GEMINI: _gemini,
    AgentKind.AIDER: _aider,
}
"""Per kind, the state its CLI writes outside the worktree, given the agent's environment."""


def writable_state(config: AgentConfig, env: Mapping[str, str]) -> list[Path]:
    """The agent's own state folders (created when missing) and its table's `writable`."""
    folders = STATE[config.kind](env)
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    return [*folders, *(Path(path).expanduser() for path in config.writable)]
