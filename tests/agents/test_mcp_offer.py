"""What an agent CLI that starts MCP servers itself is given: resolved entries and Claude Code's names."""

from __future__ import annotations

import json

from aifactory.agents.claude_code import mcp_allowed
from aifactory.agents.mcp_offer import McpOffer
from aifactory.config.mcp import McpServerConfig

SERVERS = {
    "docs": McpServerConfig(
        command="docs-mcp", args=("--lang", "en"), pass_env=("DOCS_*",), env={"MODE": "ro"}
    ),
    "tracker": McpServerConfig(
        url="https://tracker.example/mcp", headers={"Authorization": "Bearer ${TRACKER_TOKEN}"}, timeout=90
    ),
    "unused": McpServerConfig(command="never-started"),
}
SOURCE = {"DOCS_LANG": "en", "TRACKER_TOKEN": "tok-1", "ANTHROPIC_API_KEY": "sk-never-passed"}


def test_the_granted_servers_are_resolved_from_the_factorys_environment() -> None:
    offer = McpOffer.of(SERVERS, ["docs", "mcp:tracker.open.issue"], SOURCE)
    assert offer is not None and offer.problem is None and offer.timeout == 90
    assert json.loads(offer.config_json()) == {
        "mcpServers": {
            "docs": {
                "type": "stdio",
                "command": "docs-mcp",
                "args": ["--lang", "en"],
                "env": {"DOCS_LANG": "en", "MODE": "ro"},
            },
            "tracker": {
                "type": "http",
                "url": "https://tracker.example/mcp",
                "headers": {"Authorization": "Bearer tok-1"},
            },
        }
    }
    assert mcp_allowed(offer) == ("mcp__docs", "mcp__tracker__open_issue")


def test_no_grants_offer_nothing_and_an_unset_header_variable_is_the_steps_reason() -> None:
    assert McpOffer.of(SERVERS, [], SOURCE) is None
    offer = McpOffer.of(SERVERS, ["tracker"], {})
    assert offer is not None
    assert offer.problem == (
        "MCP server tracker failed to start: its headers name TRACKER_TOKEN, which is not set; "
        "export it ([mcp_servers.tracker] headers)"
    )
