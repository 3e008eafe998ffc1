"""`[mcp_servers.NAME]` and the executor's `mcp_tools`: read, and refused with file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifactory.config import load_config
from aifactory.config.mcp import McpGrant
from aifactory.errors import ConfigError


def _load(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_command_server_and_a_url_server_are_granted_to_the_executor(tmp_path: Path) -> None:
    path = _load(
        tmp_path,
        "[mcp_servers.docs]\n"
        'command = "python"\nargs = ["-m", "docs_server"]\n'
        'env = { LOG_LEVEL = "debug" }\npass_env = ["DOCS_*"]\ntimeout = 20\n'
        "[mcp_servers.tracker]\n"
        'url = "https://tracker.example/mcp"\nheaders = { Authorization = "Bearer ${TRACKER_TOKEN}" }\n'
        '[roles.executor]\nmodel = "anthropic:claude-sonnet-5-5"\n'
        'mcp_tools = ["docs", "mcp:tracker.open_issue"]\n',
    )
    config = load_config(path)
    docs, tracker = config.mcp_servers["docs"], config.mcp_servers["tracker"]
    assert (docs.command, docs.args, docs.timeout) == ("python", ("-m", "docs_server"), 20)
    assert docs.pass_names({"DOCS_HOME": "/d", "HOME": "/h"}) == {"DOCS_HOME": "/d"}
    assert tracker.header_values({"TRACKER_TOKEN": "t0k"}) == {"Authorization": "Bearer t0k"}
    assert tracker.missing_variables({}) == ["TRACKER_TOKEN"]
    assert config.roles["executor"].mcp_tools == ("docs", "tracker.open_issue")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("docs", McpGrant("docs")),
        ("mcp:docs", McpGrant("docs")),
        ("docs.lookup", McpGrant("docs", "lookup")),
        ("mcp:docs.name.with.dots", McpGrant("docs", "name.with.dots")),
    ],
)
def test_an_allow_list_entry_names_a_server_or_one_of_its_tools(text: str, expected: McpGrant) -> None:
    grant = McpGrant.parse(text)
    assert grant == expected
    assert grant.allows("docs", "lookup") is (expected.tool in (None, "lookup"))
    assert not grant.allows("other", "lookup")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            '[mcp_servers.docs]\ncommand = "x"\nurl = "http://127.0.0.1:1/mcp"\n',
            3,
            "[mcp_servers.docs] url: set either command (a server the factory starts) or url",
        ),
        ("[mcp_servers.docs]\ntimeout = 5\n", 1, "[mcp_servers.docs] command: missing: set command"),
        ('[mcp_servers.docs]\nurl = "ftp://host/mcp"\n', 2, "[mcp_servers.docs] url: expected a URL"),
        ('[mcp_servers.docs]\nurl = "http:///mcp"\n', 2, "[mcp_servers.docs] url: expected a URL"),
        (
            '[mcp_servers.docs]\ncommand = "x"\nenv = { GITHUB_TOKEN = "ghp_abcdefgh12345678" }\n',
            3,
            "[mcp_servers.docs] env: GITHUB_TOKEN holds a secret, which is never written",
        ),
        (
            '[mcp_servers.docs]\nurl = "http://h/mcp"\nheaders = { Authorization = "Bearer abc123" }\n',
            3,
            "[mcp_servers.docs] headers: Authorization carries a credential",
        ),
        (
            '[mcp_servers.docs]\nurl = "http://h/mcp"\nargs = ["--port", "1"]\n',
            3,
            "[mcp_servers.docs] args: only a server started from a command uses it",
        ),
        (
            '[mcp_servers."docs.search"]\ncommand = "x"\n',
            1,
            '[mcp_servers] "docs.search": use letters, digits and single dashes',
        ),
        (
            '[roles.executor]\nmodel = "anthropic:claude-sonnet-5-5"\nmcp_tools = ["docs"]\n',
            3,
            "[roles.executor] mcp_tools: names MCP server 'docs', which is not configured (configured: none)",
        ),
        (
            '[mcp_servers.docs]\ncommand = "x"\n[roles.executor]\nmodel = "anthropic:claude-sonnet-5-5"\n'
            'mcp_tools = ["docs."]\n',
            5,
            "[roles.executor] mcp_tools: expected an MCP server's name or NAME.TOOL",
        ),
        (
            '[mcp_servers.docs]\ncommand = "x"\n[roles.planner]\nmodel = "anthropic:claude-sonnet-5-5"\n'
            'mcp_tools = ["docs"]\n',
            5,
            "[roles.planner] mcp_tools: only [roles.executor] is given MCP tools",
        ),
    ],
)
def test_a_wrong_mcp_setting_is_reported_at_its_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = _load(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:{line}: {message}"), str(caught.value)
    assert "ghp_abcdefgh12345678" not in str(caught.value) and "abc123" not in str(caught.value)
