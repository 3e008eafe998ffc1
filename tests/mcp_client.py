"""The official MCP SDK's client on `python -m aifactory mcp` over stdio, and reading what tools answer."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.types import CallToolResult, TextContent

from tests.sim import SimProject


def server_env(sim: SimProject, *, key: bool = True) -> dict[str, str]:
    """The test's environment (this worktree's code on PYTHONPATH, the scrubbed HOME) and the test key."""
    source = str(Path(__file__).resolve().parents[1] / "src")
    return {**os.environ, **(sim.env if key else {}), "PYTHONPATH": source}


def stdio(sim: SimProject, *, key: bool = True) -> Client:
    command = StdioServerParameters(
        command=sys.executable,
        args=["-m", "aifactory", "--repo", str(sim.repo), "mcp"],
        env=server_env(sim, key=key),
    )
    return Client(command, read_timeout_seconds=60)


def data(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text(result)
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def text(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def refused(result: CallToolResult) -> str:
    assert result.is_error
    message = text(result)
    assert "Traceback" not in message
    return message
