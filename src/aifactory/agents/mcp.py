"""External MCP servers for the built-in agent: started once per attempt, stopped when it ends.

The official `mcp` SDK's client does the protocol (stdio or streamable HTTP); this module decides
which servers an attempt needs (those its allow-list names), starts each with a scrubbed
environment in the attempt's worktree, and turns what goes wrong into the step's reason: a server
that does not start, or dies during a call, fails the step with what it wrote to stderr. The SDK's
stdio client starts the server in its own process group and kills the group when closed.
(pydantic-ai's own `MCPToolset` needs the separate `fastmcp` client; the SDK is what we already
ship for `factory mcp`.)
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TextIO

import httpx2
import mcp_types
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from aifactory.config.mcp import McpGrant, McpServerConfig
from aifactory.errors import StepError

_STDERR_TAIL = 800
_TOOL_NAME = re.compile(r"[^A-Za-z0-9_-]")
_NAME_LIMIT = 64
"""Providers accept tool names of letters, digits, `_` and `-`, at most 64 characters."""


class McpFailed(StepError):
    """An MCP server did not start, or stopped answering: the step cannot go on with its tools."""


@dataclass(frozen=True)
class McpTool:
    """A granted tool as the model sees it (`exposed`, e.g. `docs__lookup`) and as its server does."""

    server: str
    exposed: str
    tool: mcp_types.Tool


@dataclass
class _Running:
    name: str
    config: McpServerConfig
    client: Client
    errors: TextIO | None
    tools: list[McpTool] = field(default_factory=list)


class McpServers:
    """The MCP servers one attempt's executor may use; `async with` starts them and stops them.

    A server that fails to start does not stop the attempt here: the failure is kept and raised by
    `tools()`, so the step that needed the server fails with that reason.
    """

    def __init__(
        self,
        servers: Mapping[str, McpServerConfig],
        grants: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        source: Mapping[str, str],
        granted_by: str = "[roles.executor] mcp_tools",
    ) -> None:
        self._grants = [McpGrant.parse(text) for text in grants]
        self._servers = {g.server: servers[g.server] for g in self._grants}
        self._cwd = cwd
        self._env = env
        self._source = source
        self._granted_by = granted_by
        self._running: dict[str, _Running] = {}
        self._failure: str | None = None
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> McpServers:
        for name, config in self._servers.items():
            try:
                await self._start(name, config)
            except McpFailed as failure:
                self._failure = str(failure)
                break
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        # Closing the client of a server that died raises the SDK's "connection closed" group again;
        # the step already failed with that reason, and the process group is gone either way.
        with contextlib.suppress(Exception):
            await self._stack.aclose()

    def tools(self) -> list[McpTool]:
        """The granted tools of every server, or `McpFailed` when one of them did not start."""
        if self._failure is not None:
            raise McpFailed(self._failure)
        return [tool for running in self._running.values() for tool in running.tools]

    async def call(self, tool: McpTool, arguments: dict[str, object]) -> mcp_types.CallToolResult:
        """Call `tool`; a server that dies or stops answering fails the step, naming the server."""
        running = self._running[tool.server]
        try:
            return await running.client.call_tool(tool.tool.name, arguments)
        except Exception as error:
            detail = _tail(running.errors) or _reason(error)
            raise McpFailed(
                f"MCP server {tool.server} failed during a call to {tool.tool.name}: {detail}"
            ) from None

    async def _start(self, name: str, config: McpServerConfig) -> None:
        errors: TextIO | None = None
        if config.command is not None:
            errors = self._stack.enter_context(_stderr_file())
            client = Client(
                stdio_client(self._stdio(config), errlog=errors), read_timeout_seconds=config.timeout
            )
        else:
            client = self._http(name, config)
        running = _Running(name=name, config=config, client=client, errors=errors)
        try:
            await self._stack.enter_async_context(client)
            listed = await client.list_tools()
        except Exception as error:
            detail = _tail(errors) or _reason(error)
            raise McpFailed(f"MCP server {name} failed to start: {detail}") from None
        running.tools = self._granted(name, listed.tools)
        self._running[name] = running

    def _stdio(self, config: McpServerConfig) -> StdioServerParameters:
        assert config.command is not None
        env = {**self._env, **config.pass_names(self._source), **config.env}
        return StdioServerParameters(command=config.command, args=list(config.args), env=env, cwd=self._cwd)

    def _http(self, name: str, config: McpServerConfig) -> Client:
        assert config.url is not None
        if missing := config.missing_variables(self._source):
            raise McpFailed(
                f"MCP server {name} failed to start: its headers name {', '.join(missing)}, which is not "
                f"set; export it ([mcp_servers.{name}] headers)"
            )
        http = httpx2.AsyncClient(
            headers=config.header_values(self._source), timeout=httpx2.Timeout(config.timeout)
        )
        self._stack.push_async_callback(http.aclose)
        return Client(
            streamable_http_client(config.url, http_client=http), read_timeout_seconds=config.timeout
        )

    def _granted(self, name: str, offered: Sequence[mcp_types.Tool]) -> list[McpTool]:
        """The server's tools the allow-list grants; a granted tool the server lacks is an error."""
        names = {tool.name for tool in offered}
        for grant in self._grants:
            if grant.server == name and grant.tool is not None and grant.tool not in names:
                raise McpFailed(
                    f"MCP server {name} has no tool {grant.tool!r} ({self._granted_by}); it offers: "
                    f"{', '.join(sorted(names)) or 'none'}"
                )
        return [
            McpTool(server=name, exposed=exposed_name(name, tool.name), tool=tool)
            for tool in offered
            if any(grant.allows(name, tool.name) for grant in self._grants)
        ]


def exposed_name(server: str, tool: str) -> str:
    """`SERVER__TOOL` as providers accept tool names, so two servers' `search` tools never clash."""
    return _TOOL_NAME.sub("_", f"{server}__{tool}")[:_NAME_LIMIT]


@contextlib.contextmanager
def _stderr_file() -> Iterator[TextIO]:
    """Where a stdio server's stderr goes: a real file the child writes to directly, read on failure."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as file:
        yield file


def _tail(errors: TextIO | None) -> str:
    """The last lines the server wrote to stderr (read without moving the file's shared offset)."""
    if errors is None:
        return ""
    size = os.fstat(errors.fileno()).st_size
    start = max(0, size - _STDERR_TAIL)
    text = os.pread(errors.fileno(), size - start, start).decode("utf-8", errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(lines[-5:])


def _reason(error: BaseException) -> str:
    """The innermost cause of an error the SDK may wrap in exception groups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    if isinstance(error, FileNotFoundError):
        return f"its command was not found ({error.filename or error})"
    return str(error) or type(error).__name__
