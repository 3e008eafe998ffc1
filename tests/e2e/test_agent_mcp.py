"""Small agents whose file grants MCP tools (`mcp:NAME`, `mcp:NAME.TOOL`): the servers start for the
agent's run, in its worktree, and only the granted tools are offered."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from aifactory.testing.agent_team import DOC_FILE, LOOKUP_TERM
from aifactory.testing.mcp_server import GLOSSARY
from aifactory.testing.team import scripted_team
from tests.sim import SimProject, sim_project
from tests.support import git

SRC = str(Path(__file__).resolve().parents[2] / "src")
SERVER = (
    f"[mcp_servers.glossary]\ncommand = {json.dumps(sys.executable)}\n"
    'args = ["-m", "aifactory.testing.mcp_server"]\npass_env = ["PYTHONPATH"]\n'
)
ENV = {"PYTHONPATH": SRC}


def _grant(sim: SimProject, *grants: str, servers: str = SERVER) -> None:
    """Add `grants` to the doc-writer's tools and configure `servers`."""
    agent = sim.repo / ".factory" / "blueprint" / "agents" / "doc-writer.md"
    text = agent.read_text(encoding="utf-8")
    tools = '"list", "read", "search", "write", "replace"'
    agent.write_text(text.replace(tools, ", ".join([tools, *map(json.dumps, grants)])), encoding="utf-8")
    config = sim.repo / ".factory" / "config.toml"
    config.write_text(config.read_text(encoding="utf-8") + servers, encoding="utf-8")
    git(sim.repo, "commit", "-qam", "grant the doc-writer the glossary")


def _offered(sim: SimProject) -> set[str]:
    return {name for r in sim.claude.requests if r.sim.offers("agent_done") for name in r.sim.tools}


def test_an_agent_calls_the_mcp_tool_its_file_grants(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team()) as sim:
        _grant(sim, "mcp:glossary.lookup")
        result = sim.cli("agent", "run", "doc-writer", "--files", "src/app.py", env=ENV)
        assert result.returncode == 0, result.stdout + result.stderr
        branch = next(line.split()[-1] for line in result.stdout.splitlines() if line.startswith("committed"))
        docs = git(sim.repo, "show", f"{branch}:{DOC_FILE}")
        assert f"{LOOKUP_TERM}: {GLOSSARY[LOOKUP_TERM]}" in docs
        assert "glossary__lookup" in _offered(sim)
        assert not {"glossary__add", "glossary__crash"} & _offered(sim), "tools not granted are not offered"


def test_a_grant_the_configuration_or_the_server_cannot_meet_is_named_with_the_agent_file(
    tmp_path: Path,
) -> None:
    with sim_project(tmp_path, scripted_team()) as sim:
        _grant(sim, "mcp:glossary.define", "mcp:tracker")
        unconfigured = sim.cli("agent", "run", "doc-writer", "--files", "src/app.py", env=ENV)
        assert unconfigured.returncode == 2, unconfigured.stdout + unconfigured.stderr
        assert "doc-writer.md: tools: grants mcp:tracker, and no [mcp_servers.tracker]" in unconfigured.stderr
        assert not _offered(sim)


def test_a_granted_tool_the_server_lacks_fails_the_run_naming_what_it_offers(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team()) as sim:
        _grant(sim, "mcp:glossary.define")
        missing = sim.cli("agent", "run", "doc-writer", "--files", "src/app.py", env=ENV)
        assert missing.returncode != 0, missing.stdout + missing.stderr
        assert "MCP server glossary has no tool 'define'" in missing.stderr
        assert "doc-writer.md tools" in missing.stderr and "lookup" in missing.stderr
        assert not _offered(sim)
        assert "factory/agent/" not in git(sim.repo, "branch", "--list")
        assert "factory/agent/" not in git(sim.repo, "branch", "--list"), "nothing was committed"
