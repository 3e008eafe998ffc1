"""The built-in executor: a tool-using model loop over the provider seam, confined to a worktree."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field
from pydantic_ai import ToolOutput
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings

from aifactory.agents.base import StepJob, StepOutcome
from aifactory.agents.loop import run_model
from aifactory.agents.tools import EDIT_TOOLS, Workspace

if TYPE_CHECKING:
    from pydantic_ai.toolsets import AbstractToolset

    from aifactory.agents.mcp import McpServers


class StepReport(BaseModel):
    """What the model says when it calls step_done."""

    summary: str = Field(
        description="two or three sentences: what changed in this step, and how it was checked"
    )


STEP_DONE = ToolOutput(
    StepReport, name="step_done", description="Call once the step is complete and its tests pass."
)


class BuiltinAgent:
    """Runs one step as one model conversation: tools until the model calls `step_done`.

    `mcp`, the attempt's MCP servers, adds the tools its allow-list grants to the file tools.
    """

    name = "builtin"

    def __init__(
        self, model: Model, *, settings: ModelSettings, output_retries: int, mcp: McpServers | None = None
    ) -> None:
        self._model = model
        self._mcp = mcp
        self._settings = settings
        self._output_retries = output_retries

    async def run_step(self, job: StepJob) -> StepOutcome:
        extra: list[AbstractToolset[Workspace]] = []
        if self._mcp is not None:
            # Imported only for an attempt with MCP servers: the SDK is not needed otherwise.
            toolset = importlib.import_module("aifactory.agents.mcp_tools").McpToolset
            extra.append(toolset(self._mcp, self._mcp.tools()))
        workspace = Workspace(
            root=job.worktree,
            command_timeout=job.command_timeout,
            output_cap=job.output_cap,
            env=job.env,
            sandbox=job.sandbox,
            on_tool=job.on_tool,
        )
        report = await run_model(
            self._model,
            who="the executor",
            instructions=job.instructions,
            task=job.task,
            stable=job.stable,
            output=STEP_DONE,
            tools=EDIT_TOOLS,
            workspace=workspace,
            settings=self._settings,
            max_turns=job.max_turns,
            output_retries=self._output_retries,
            extra=extra,
        )
        return StepOutcome(summary=report.summary, tool_calls=workspace.calls, refusals=workspace.refusals)
