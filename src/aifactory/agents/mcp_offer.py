"""The MCP servers granted to the executor, for an agent CLI that starts them itself (Claude Code).

The built-in agent's servers run in the factory (`mcp.py`). An agent CLI that speaks MCP instead
reads the servers from a JSON configuration (`{"mcpServers": {NAME: ...}}`, the form Claude Code,
Cursor and others share) and starts them itself. The offer is that configuration, resolved on the
factory's side: a server's `pass_env` values and its headers' variables come from the factory's
environment, so the agent's own scrubbed environment never has to carry them. It imports no SDK.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from aifactory.config.mcp import McpGrant, McpServerConfig


class McpOffer(BaseModel):
    """The granted servers as client configuration entries, the allow-list, and what stops them."""

    model_config = ConfigDict(frozen=True)

    servers: dict[str, dict[str, Any]]
    grants: tuple[str, ...]
    """The allow-list in its written form, `NAME` or `NAME.TOOL`."""
    timeout: float
    """Seconds the slowest granted server may take to start, and per tool call."""
    problem: str | None = None
    """Why the servers cannot be offered (a header's variable is not set): the step fails with it."""

    @classmethod
    def of(
        cls, servers: Mapping[str, McpServerConfig], grants: Sequence[str], source: Mapping[str, str]
    ) -> McpOffer | None:
        """The servers `grants` names, resolved from `source` (the factory's environment); None if none."""
        if not grants:
            return None
        parsed = [McpGrant.parse(text) for text in grants]
        named = {grant.server: servers[grant.server] for grant in parsed}
        problem = next(
            (
                f"MCP server {name} failed to start: its headers name {', '.join(missing)}, which is not "
                f"set; export it ([mcp_servers.{name}] headers)"
                for name, config in named.items()
                if (missing := config.missing_variables(source))
            ),
            None,
        )
        return cls(
            servers={name: _entry(config, source) for name, config in named.items()},
            grants=tuple(str(grant) for grant in parsed),
            timeout=max(config.timeout for config in named.values()),
            problem=problem,
        )

    def config_json(self) -> str:
        return json.dumps({"mcpServers": self.servers}, indent=2)

    def granted(self) -> list[McpGrant]:
        return [McpGrant.parse(text) for text in self.grants]


def _entry(config: McpServerConfig, source: Mapping[str, str]) -> dict[str, Any]:
    """One `mcpServers` entry: a command with its environment, or a URL with its headers."""
    if config.url is not None:
        return {"type": "http", "url": config.url, "headers": config.header_values(source)}
    env = {**config.pass_names(source), **config.env}
    return {"type": "stdio", "command": config.command, "args": list(config.args), "env": env}
