"""A small agent's model conversation: its blueprint prompt, the tools its header allows, a typed report.

The agent plays on its own `models` or, without them, on the executor's provider choices (an external
agent CLI cannot take a small agent's tool list), recorded under the executor role. MCP tools its
file grants come from servers started for its run alone, like an attempt's for the executor.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from pydantic_ai import ToolOutput
from pydantic_ai.toolsets import AbstractToolset

from aifactory.agents.loop import run_model
from aifactory.agents.tools import (
    Workspace,
    list_files,
    read_file,
    replace_in_file,
    run_command,
    search,
    write_file,
)
from aifactory.blueprint.agentfile import AgentDefinition, Tool
from aifactory.config import ModelRef
from aifactory.config.mcp import unknown_server
from aifactory.domain.run import Role
from aifactory.errors import AgentFileError
from aifactory.providers.calls import CallScope
from aifactory.roles.kit import RoleKit
from aifactory.workspace.sandbox import choose

TOOLS: dict[Tool, Callable[..., Any]] = {
    "list": list_files,
    "read": read_file,
    "search": search,
    "write": write_file,
    "replace": replace_in_file,
    "run_command": run_command,
}
"""The builtin tools by the names an agent file uses, in the order the model is offered them."""


class Replaced(BaseModel):
    """One replacement the librarian made."""

    file: str = Field(description="path relative to the repository root")
    line: int = Field(description="the line the replaced code started at")
    before: str = Field(description="what was there, in a few words or one line of code")
    after: str = Field(description="what replaced it, in a few words or one line of code")


class AgentReport(BaseModel):
    """What the model says when it calls agent_done."""

    summary: str = Field(description="one sentence: what you changed, or that nothing needed changing")
    notes: list[str] = Field(default_factory=list, description="one line per file changed, saying what")
    replacements: list[Replaced] = Field(
        default_factory=list, description="librarian only: each replacement made"
    )


AGENT_DONE = ToolOutput(AgentReport, name="agent_done", description="Call once your work is complete.")


@dataclass(frozen=True)
class AgentBrief:
    """An agent to run, where, and the variables its prompt is rendered with."""

    definition: AgentDefinition
    worktree: Path
    context: Mapping[str, Any]
    env: Mapping[str, str]


async def run_small_agent(kit: RoleKit, brief: AgentBrief, scope: CallScope) -> AgentReport:
    """Render the agent's prompt and converse until it calls `agent_done`."""
    definition = brief.definition
    prompt = kit.blueprint.agent_prompt(definition.template, agent=definition.name, **brief.context)
    executor = kit.config.executor
    allowed = set(definition.spec.builtin_tools)
    workspace = Workspace(
        root=brief.worktree,
        command_timeout=executor.command_timeout,
        output_cap=executor.output_cap,
        env=brief.env,
        sandbox=choose(kit.config.run.sandbox),
    )
    model = kit.catalog.model(Role.EXECUTOR, scope, refs=model_choices(kit, definition))
    async with agent_mcp(kit, brief) as extra:
        return await run_model(
            model,
            who=f"agent {definition.name}",
            instructions=prompt.system,
            task=prompt.task,
            stable=prompt.stable,
            output=AGENT_DONE,
            tools=tuple(tool for name, tool in TOOLS.items() if name in allowed),
            workspace=workspace,
            settings=kit.catalog.settings(Role.EXECUTOR),
            max_turns=executor.max_turns,
            output_retries=kit.output_retries,
            extra=extra,
        )


@contextlib.asynccontextmanager
async def agent_mcp(kit: RoleKit, brief: AgentBrief) -> AsyncIterator[tuple[AbstractToolset[Workspace], ...]]:
    """The MCP tools the agent file grants (`mcp:NAME`, `mcp:NAME.TOOL`), their servers running in its
    worktree for the agent's run only; none without such entries."""
    definition = brief.definition
    grants = definition.spec.mcp_grants
    if not grants:
        yield ()
        return
    if (server := unknown_server(grants, kit.config.mcp_servers)) is not None:
        known = ", ".join(sorted(kit.config.mcp_servers)) or "none"
        raise AgentFileError(
            f"grants mcp:{server}, and no [mcp_servers.{server}] is configured (configured: {known}); "
            "add the server to .factory/config.toml or remove the entry",
            path=definition.path,
            field="tools",
        )
    # Imported only when an agent lists MCP tools: the SDK is not needed otherwise.
    mcp = importlib.import_module("aifactory.agents.mcp")
    toolset = importlib.import_module("aifactory.agents.mcp_tools").McpToolset
    servers = mcp.McpServers(
        kit.config.mcp_servers,
        grants,
        cwd=brief.worktree,
        env=brief.env,
        source=kit.catalog.env,
        granted_by=f"{definition.path} tools",
    )
    async with servers as running:
        yield (toolset(running, running.tools()),)


def model_choices(kit: RoleKit, definition: AgentDefinition) -> tuple[ModelRef, ...]:
    """The agent's own `models`, else the executor's provider choices; every one a configured provider."""
    config = kit.config
    named = tuple(ModelRef.parse(text) for text in definition.spec.models)
    for ref in named:
        if ref.provider not in config.providers:
            known = ", ".join(sorted(config.providers)) or "none"
            raise AgentFileError(
                f"names provider {ref.provider!r}, which is not configured (configured: {known}); "
                "add [providers.NAME] to .factory/config.toml or pick a configured one",
                path=definition.path,
                field="models",
            )
    choices = named or tuple(
        ref for ref in config.roles[Role.EXECUTOR].every_choice if config.agent(ref) is None
    )
    if not choices:
        raise AgentFileError(
            "is empty and the executor's choices are all external agents, which cannot run a small "
            'agent: name provider models here, e.g. models = ["anthropic:claude-sonnet-5-5"]',
            path=definition.path,
            field="models",
        )
    return choices
