"""The granted MCP tools as a pydantic-ai toolset beside the confined file tools.

Each call is counted and reported through the workspace's `on_tool`, like a file tool's, so it
reaches the ledger. A call the server rejects (wrong argument types, an unknown term) goes back to
the model to fix, up to the executor's retries; after that the step fails saying which tool kept
rejecting it and why.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import mcp_types
from pydantic_ai import ModelRetry, RunContext
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.toolsets import AbstractToolset
from pydantic_ai.toolsets.abstract import ToolsetTool
from pydantic_core import SchemaValidator, core_schema

from aifactory.agents.base import ToolCall
from aifactory.agents.mcp import McpFailed, McpServers, McpTool
from aifactory.agents.tools import Workspace

_ANY_ARGUMENTS = SchemaValidator(core_schema.dict_schema(core_schema.str_schema(), core_schema.any_schema()))
"""The server validates arguments against its own schema; ours only checks they form an object."""


class McpToolset(AbstractToolset[Workspace]):
    """The tools an allow-list grants, under their exposed names, called on the attempt's servers."""

    def __init__(self, servers: McpServers, tools: Sequence[McpTool]) -> None:
        self._servers = servers
        self._tools = {tool.exposed: tool for tool in tools}

    @property
    def id(self) -> str | None:
        return "mcp"

    async def get_tools(self, ctx: RunContext[Workspace]) -> dict[str, ToolsetTool[Workspace]]:
        return {
            name: ToolsetTool(
                toolset=self,
                tool_def=ToolDefinition(
                    name=name,
                    description=tool.tool.description or f"{tool.tool.name} of MCP server {tool.server}",
                    parameters_json_schema=tool.tool.input_schema,
                ),
                max_retries=ctx.max_retries,
                args_validator=_ANY_ARGUMENTS,
            )
            for name, tool in self._tools.items()
        }

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Workspace], tool: ToolsetTool[Workspace]
    ) -> Any:
        offered = self._tools[name]
        ws = ctx.deps
        ws.calls += 1
        target = json.dumps(tool_args, ensure_ascii=False, separators=(",", ":"))
        ok = False
        try:
            result = await self._servers.call(offered, tool_args)
            text = _text(result.content)
            if result.is_error:
                if ctx.retry >= tool.max_retries:
                    raise McpFailed(
                        f"MCP tool {offered.server}.{offered.tool.name} rejected the call "
                        f"{ctx.retry + 1} times; last: {text}"
                    )
                raise ModelRetry(text)
            ok = True
            return text
        finally:
            ws.on_tool(ToolCall.of(name, target, ok=ok))


def _text(content: Sequence[mcp_types.ContentBlock]) -> str:
    """What the model reads of a result: its text parts; other parts are named, not inlined."""
    parts = [
        block.text if isinstance(block, mcp_types.TextContent) else f"[{block.type} content omitted]"
        for block in content
    ]
    return "\n".join(parts) or "(no content)"
