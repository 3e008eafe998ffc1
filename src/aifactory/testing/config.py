"""A factory configuration whose every role plays on the simulated model's two servers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

PLAYER = "claude-sonnet-5-5"
SECOND_FAMILY = "gpt-6.1-sol"


def sim_config(
    anthropic_url: str,
    openai_url: str,
    *,
    key_variable: str,
    worktrees: Path,
    test: str = "",
    run: Mapping[str, int | float | str] | None = None,
    lessons: Mapping[str, int | float | bool] | None = None,
    timeout: float = 300.0,
) -> str:
    """`.factory/config.toml` text: the ask verifier on the OpenAI server, every other role on Anthropic's."""
    roles = {
        "planner": f"sim:{PLAYER}",
        "plan-reviewer": f"sim:{PLAYER}",
        "executor": f"sim:{PLAYER}",
        "plan-verifier": f"sim:{PLAYER}",
        "ask-verifier": f"sim-openai:{SECOND_FAMILY}",
        "distiller": f"sim:{PLAYER}",
    }
    lines = ["# Every provider here is the simulated model on 127.0.0.1.", "[run]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in (run or {}).items()]
    lines += [f"worktrees = {json.dumps(str(worktrees))}", "[commands]", f"test = {json.dumps(test)}"]
    lines += ["[lessons]", *(f"{key} = {json.dumps(value)}" for key, value in (lessons or {}).items())]
    for role, model in roles.items():
        lines += [f"[roles.{role}]", f'model = "{model}"']
    for name, kind, url in (("sim", "anthropic", anthropic_url), ("sim-openai", "openai", openai_url)):
        lines += [f"[providers.{name}]", f'kind = "{kind}"', f"base_url = {json.dumps(url)}"]
        lines += [f'api_key_env = "{key_variable}"', f"timeout = {timeout}"]
    return "\n".join(lines) + "\n"
