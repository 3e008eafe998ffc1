"""Agent files are read strictly: each bad header names the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifactory.blueprint import agentfile
from aifactory.blueprint.store import packaged_defaults
from aifactory.errors import AgentFileError

HEADER = {
    "description": '"Sweeps."',
    "inputs": '["files"]',
    "output": '"commit"',
    "tools": '["read", "write"]',
}
BODY = "{% block system %}s{% endblock %}\n{% block task %}t{% endblock %}\n"


def _text(**fields: str) -> str:
    lines = [f"{key} = {value}" for key, value in fields.items()]
    return "+++\n" + "\n".join(lines) + "\n+++\n" + BODY


def test_every_shipped_agent_reads_cleanly() -> None:
    folder = packaged_defaults() / "agents"
    names = sorted(path.stem for path in folder.glob("*.md") if path.stem != "README")
    assert names == ["doc-writer", "librarian", "style-sweeper", "test-writer"]
    for name in names:
        assert agentfile.read(folder / f"{name}.md").spec.description


@pytest.mark.parametrize("missing", sorted(HEADER))
def test_a_missing_field_is_named(missing: str) -> None:
    fields = {key: value for key, value in HEADER.items() if key != missing}
    with pytest.raises(AgentFileError) as caught:
        agentfile.parse(_text(**fields), Path("agents/sweep.md"))
    assert caught.value.field == missing
    assert "missing" in str(caught.value)


def test_an_invalid_field_names_its_line() -> None:
    with pytest.raises(AgentFileError) as caught:
        agentfile.parse(_text(**{**HEADER, "tools": '["read", "teleport"]'}), Path("agents/sweep.md"))
    assert caught.value.field == "tools"
    assert str(caught.value).startswith("agents/sweep.md:5: tools:")


def test_a_bad_model_and_a_commit_without_an_editing_tool_are_refused() -> None:
    with pytest.raises(AgentFileError, match="provider:model"):
        agentfile.parse(_text(**HEADER, models='["sonnet"]'), Path("a.md"))
    with pytest.raises(AgentFileError, match='needs "write" or "replace"'):
        agentfile.parse(_text(**{**HEADER, "tools": '["read"]'}), Path("a.md"))


def test_a_file_without_a_header_or_a_task_block_is_refused() -> None:
    with pytest.raises(AgentFileError, match="does not start with"):
        agentfile.parse(BODY, Path("a.md"))
    with pytest.raises(AgentFileError, match="no \\{% block task %\\}"):
        agentfile.parse(_text(**HEADER).replace("{% block task %}t{% endblock %}", ""), Path("a.md"))


def test_tools_may_grant_mcp_servers_and_their_tools() -> None:
    tools = '["read", "write", "mcp:docs", "mcp:tracker.open_issue"]'
    spec = agentfile.parse(_text(**{**HEADER, "tools": tools}), Path("a.md")).spec
    assert spec.builtin_tools == ("read", "write")
    assert spec.mcp_grants == ("docs", "tracker.open_issue")
    with pytest.raises(AgentFileError, match="expected an MCP server's name") as caught:
        agentfile.parse(_text(**{**HEADER, "tools": '["write", "mcp:bad name"]'}), Path("a.md"))
    assert caught.value.field == "tools"
