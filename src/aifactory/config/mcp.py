"""`[mcp_servers.NAME]`: external MCP servers, and the allow-list that grants their tools to an agent.

A server is either a command the factory starts (stdio) or a URL it connects to (streamable HTTP).
Like an agent table, a command gets a scrubbed environment: `pass_env` names what it may take from
the factory's environment and `env` sets fixed values, never secrets. An HTTP server's headers name
the variables that hold their tokens (`"Bearer ${GITHUB_TOKEN}"`), never the tokens themselves.

An agent sees no MCP tool unless its allow-list grants it (`McpGrant`): `"NAME"` grants every tool of
server NAME, `"NAME.TOOL"` one tool. The same entries, written `"mcp:NAME"` and `"mcp:NAME.TOOL"`,
fit a list that also names other kinds of tools (an agent file's `tools` header); both spellings
are accepted everywhere.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from aifactory.config.agents import check_env, check_pass_env
from aifactory.config.providers import Section

SERVER_NAME = re.compile(r"[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*")
"""Letters, digits and single dashes or underscores: `NAME__tool` names stay unambiguous."""
GRANT_PREFIX = "mcp:"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_SECRET_HEADERS = ("authorization", "*token*", "*key*", "*secret*", "cookie")
"""Headers that carry credentials: their value must come from a variable, never the file."""


def _setting_error(setting: str, message: str) -> PydanticCustomError:
    """An error about one setting of `[mcp_servers.NAME]`; the loader adds the table and the line."""
    return PydanticCustomError("mcp_setting", message, {"setting": setting})


class McpServerConfig(Section):
    """One MCP server: a command and its arguments (stdio), or a URL (streamable HTTP)."""

    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)
    pass_env: tuple[str, ...] = ()
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: float = Field(default=60.0, gt=0, le=3600)
    """Seconds the server may take to start, and each of its tool calls."""

    @model_validator(mode="before")
    @classmethod
    def _one_transport(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        command, url = data.get("command"), data.get("url")
        if command is not None and url is not None:
            raise _setting_error(
                "url",
                "set either command (a server the factory starts) or url (one it connects to), not both",
            )
        if command is None and url is None:
            raise _setting_error(
                "command",
                'missing: set command (and args), e.g. command = "npx", or url, e.g. "http://127.0.0.1:8000/mcp"',
            )
        for setting in ("args", "env", "pass_env") if url is not None else ("headers",):
            if data.get(setting):
                uses = "a command" if url is not None else "a url"
                raise _setting_error(setting, f"only a server started from {uses} uses it: remove it")
        return data

    @field_validator("command")
    @classmethod
    def _command(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("name the server's command, or its path")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("expected a URL such as http://127.0.0.1:8000/mcp (http:// or https://)")
        return value

    @field_validator("env")
    @classmethod
    def _no_secrets(cls, value: dict[str, str]) -> dict[str, str]:
        return check_env(value)

    @field_validator("pass_env")
    @classmethod
    def _pass_env(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return check_pass_env(value)

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for header, text in value.items():
            names = _REFERENCE.findall(text)
            if bad := [name for name in names if not _ENV_NAME.fullmatch(name)]:
                raise ValueError(f"{header}: ${{{bad[0]}}} does not name an environment variable")
            if not names and any(fnmatch.fnmatch(header.lower(), p) for p in _SECRET_HEADERS):
                raise ValueError(
                    f"{header} carries a credential, which is never written in the configuration: "
                    f'export it and name its variable, e.g. {header} = "Bearer ${{MY_TOKEN}}"'
                )
        return value

    def pass_names(self, source: Mapping[str, str]) -> dict[str, str]:
        """What the server takes from `source` (the factory's environment) by `pass_env`."""
        return {
            name: value
            for name, value in source.items()
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in self.pass_env)
        }

    def header_values(self, source: Mapping[str, str]) -> dict[str, str]:
        """The headers with each `${NAME}` replaced from `source`; a variable that is unset stays empty."""
        return {
            header: _REFERENCE.sub(lambda found: source.get(found.group(1), ""), text)
            for header, text in self.headers.items()
        }

    def missing_variables(self, source: Mapping[str, str]) -> list[str]:
        """The variables the headers name that `source` lacks."""
        return sorted(
            {n for text in self.headers.values() for n in _REFERENCE.findall(text) if n not in source}
        )


@dataclass(frozen=True)
class McpGrant:
    """One allow-list entry: every tool of `server`, or only `tool`."""

    server: str
    tool: str | None = None

    @classmethod
    def parse(cls, text: str) -> McpGrant:
        """`NAME`, `NAME.TOOL`, or either with the `mcp:` prefix; the tool's own name may hold dots."""
        body = text.strip().removeprefix(GRANT_PREFIX)
        server, dot, tool = body.partition(".")
        if not SERVER_NAME.fullmatch(server) or (dot and not tool.strip()):
            raise ValueError(
                f'expected an MCP server\'s name or NAME.TOOL, e.g. "docs" or "docs.lookup", got {text!r}'
            )
        return cls(server=server, tool=tool.strip() or None)

    def allows(self, server: str, tool: str) -> bool:
        return server == self.server and self.tool in (None, tool)

    def __str__(self) -> str:
        return self.server if self.tool is None else f"{self.server}.{self.tool}"


def parse_grants(items: Iterable[str]) -> tuple[str, ...]:
    """Allow-list entries in their one written form (`NAME` or `NAME.TOOL`), each checked."""
    return tuple(dict.fromkeys(str(McpGrant.parse(item)) for item in items))


def unknown_server(grants: Iterable[str], servers: Mapping[str, McpServerConfig]) -> str | None:
    """The first server an allow-list names that no `[mcp_servers.NAME]` table configures."""
    return next(
        (g.server for g in map(McpGrant.parse, grants) if g.server not in servers),
        None,
    )


def server_name_error(name: str) -> str | None:
    """Why `name` cannot name an MCP server, or None when it can."""
    if SERVER_NAME.fullmatch(name):
        return None
    return "use letters, digits and single dashes or underscores, e.g. [mcp_servers.docs-search]"
