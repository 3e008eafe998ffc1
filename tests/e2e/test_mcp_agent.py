"""The MCP server's `agents` and `agent` tools through the official SDK's client over stdio: a small
agent run on files, its change one commit on its own branch, model simulated."""

from __future__ import annotations

import asyncio
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aifactory.testing.scenario import Answer, SimRequest, call_tool
from aifactory.testing.scenarios import offers_tool
from aifactory.testing.team import scripted_team
from tests.mcp_client import data, refused, stdio
from tests.sim import SimProject, sim_project
from tests.support import git

CODE = "def hello():\n    return 'hello'\n"
SWEPT = "def hello() -> str:\n    return 'hello'\n"
TEST = shlex.join(
    [sys.executable, "-c", "import sys; sys.path.insert(0, 'src'); import app; assert app.hello() == 'hello'"]
)
REVIEWER = """+++
description = "Reviews files for one audience."
inputs = ["files", "audience"]
output = "report"
tools = ["read"]
+++
{% block system %}You review code.{% endblock %}
{% block task %}Review {{ files | join(", ") }} for {{ audience }}.{% endblock %}
"""


def sweep(request: SimRequest) -> Answer:
    """The style sweeper annotates app.py, or the reviewer reports; both end with agent_done."""
    if "for newcomers" in request.prompt:
        return call_tool("agent_done", summary="Reviewed.", notes=["src/app.py: clear enough"])
    if request.turns_since_user() == 0:
        return call_tool("write_file", path="src/app.py", content=SWEPT)
    return call_tool("agent_done", summary="Swept src/app.py.", notes=["src/app.py: annotated the return"])


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimProject]:
    team = scripted_team().first(offers_tool("agent_done"), sweep)
    with sim_project(tmp_path, team, files={"src/app.py": CODE}, test=TEST) as project:
        agents = project.repo / ".factory" / "blueprint" / "agents"
        (agents / "reviewer.md").write_text(REVIEWER, encoding="utf-8")
        git(project.repo, "add", "-A")
        git(project.repo, "commit", "-qm", "add the reviewer")
        yield project


def test_the_agent_tool_sweeps_files_on_a_new_branch_and_leaves_the_working_tree_alone(
    sim: SimProject,
) -> None:
    async def scenario() -> None:
        async with stdio(sim) as client:
            listed = data(await client.call_tool("agents", {}))
            shown = {agent["name"]: agent for agent in listed["agents"]}
            assert {"style-sweeper", "librarian", "test-writer", "doc-writer", "reviewer"} <= set(shown)
            assert shown["reviewer"]["inputs"] == ["files", "audience"]
            assert shown["reviewer"]["output"] == "report"

            swept = data(await client.call_tool("agent", {"name": "style-sweeper", "files": ["src/app.py"]}))
            assert swept["summary"] == "Swept src/app.py." and swept["dropped"] is None
            assert swept["report"] == ["src/app.py: annotated the return"]
            assert swept["branch"].startswith("factory/agent/style-sweeper-")
            assert git(sim.repo, "rev-parse", swept["branch"]).strip() == swept["commit"]
            assert git(sim.repo, "show", f"{swept['branch']}:src/app.py") == SWEPT
            assert (sim.repo / "src/app.py").read_text() == CODE

            arguments = {"name": "reviewer", "files": ["src/app.py"], "inputs": {"audience": "newcomers"}}
            reviewed = data(await client.call_tool("agent", arguments))
            assert reviewed["report"] == ["src/app.py: clear enough"] and reviewed["commit"] is None

    asyncio.run(scenario())


def test_the_agent_tool_refuses_bad_arguments_with_the_fix(sim: SimProject) -> None:
    async def scenario() -> None:
        async with stdio(sim) as client:
            unknown = refused(await client.call_tool("agent", {"name": "stylist", "files": ["src/app.py"]}))
            assert "no agent named 'stylist'" in unknown and "style-sweeper" in unknown
            for arguments in (
                {"name": "style-sweeper", "files": ["../secret.txt"]},
                {"name": "style-sweeper", "files": [str(sim.repo.parent)]},
            ):
                assert "outside the repository" in refused(await client.call_tool("agent", arguments))
            neither = refused(await client.call_tool("agent", {"name": "style-sweeper"}))
            assert "either files" in neither
            both = {"name": "style-sweeper", "files": ["src/app.py"], "on": "run/a1"}
            assert "not both" in refused(await client.call_tool("agent", both))
            assert "on" in refused(await client.call_tool("agent", {"name": "style-sweeper", "on": "a1"}))
            no_run = refused(await client.call_tool("agent", {"name": "style-sweeper", "on": "nothing/a1"}))
            assert "no run" in no_run
            missing = refused(await client.call_tool("agent", {"name": "reviewer", "files": ["src/app.py"]}))
            assert "takes input 'audience'" in missing
            typed = {"name": "reviewer", "files": ["src/app.py"], "inputs": {"audience": 3}}
            assert "inputs" in refused(await client.call_tool("agent", typed))

    asyncio.run(scenario())
