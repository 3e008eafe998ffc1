"""An attempt's MCP servers on their own: where they run, what they see, which tools they offer."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from aifactory.agents.mcp import McpFailed, McpServers
from aifactory.config.mcp import McpServerConfig
from aifactory.workspace.process import scrubbed_env

SRC = str(Path(__file__).resolve().parents[2] / "src")
SERVER = McpServerConfig(
    command=sys.executable, args=("-m", "aifactory.testing.mcp_server"), pass_env=("PYTHONPATH", "DOCS_*")
)


async def test_a_server_runs_in_the_worktree_seeing_only_what_its_table_passes(tmp_path: Path) -> None:
    source = {**os.environ, "PYTHONPATH": SRC, "DEPLOY_TOKEN": "never", "DOCS_TOKEN": "passed"}
    servers = McpServers(
        {"glossary": SERVER},
        ["glossary.whereami", "glossary.lookup"],
        cwd=tmp_path,
        env=scrubbed_env(source),
        source=source,
    )
    async with servers as running:
        tools = {tool.exposed: tool for tool in running.tools()}
        assert sorted(tools) == ["glossary__lookup", "glossary__whereami"]
        answer = await running.call(tools["glossary__whereami"], {})
    [text] = answer.content
    assert getattr(text, "text", "") == f"cwd={tmp_path} secrets=DOCS_TOKEN"


async def test_granting_a_tool_the_server_lacks_names_what_it_offers(tmp_path: Path) -> None:
    source = {**os.environ, "PYTHONPATH": SRC}
    servers = McpServers({"glossary": SERVER}, ["glossary.lokup"], cwd=tmp_path, env=source, source=source)
    async with servers as running:
        with pytest.raises(McpFailed, match=r"MCP server glossary has no tool 'lokup' \(\[roles.executor\] "):
            running.tools()
