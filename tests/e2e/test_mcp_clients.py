"""`factory mcp` as other clients see it: the MCP Inspector's command-line mode, and Claude Code
registering the server and calling its tools (against the simulated Anthropic API): the real
programs, installed under .ci/node by `.ci/run`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aifactory.testing import FakeServer
from aifactory.testing.scenario import Answer, SimRequest, call_tool, reply_text
from aifactory.testing.scenarios import Rules, offers_tool
from aifactory.testing.team import scripted_team
from tests.agents.claude import QUIET, claude_binary
from tests.sim import SimProject, sim_project

ROOT = Path(__file__).resolve().parents[2]
INSPECTOR_VERSION = "2.12.0"
INSPECTOR = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "mcp-inspector"


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimProject]:
    with sim_project(tmp_path, scripted_team(steps=1)) as project:
        yield project


def inspector(sim: SimProject, *method: str) -> subprocess.CompletedProcess[str]:
    """`mcp-inspector --cli` starting `python -m aifactory mcp` with this worktree's code and the test key."""
    if not INSPECTOR.is_file():
        pytest.fail(
            f"the MCP Inspector is not installed: npm install --prefix .ci/node "
            f"@modelcontextprotocol/inspector@{INSPECTOR_VERSION}"
        )
    variables = {**sim.env, "PYTHONPATH": str(ROOT / "src")}
    passed = [part for name, value in variables.items() for part in ("-e", f"{name}={value}")]
    server = [sys.executable, "-m", "aifactory", "--repo", str(sim.repo), "mcp"]
    return subprocess.run(
        [str(INSPECTOR), "--cli", *passed, *server, "--method", *method],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_inspector_lists_the_tools_with_schemas_and_calls_one(sim: SimProject) -> None:
    listed = inspector(sim, "tools/list")
    assert listed.returncode == 0, listed.stderr
    tools = {tool["name"]: tool for tool in json.loads(listed.stdout)["tools"]}
    assert {"plan", "run", "status", "check", "lessons", "propose_lesson"} <= set(tools)
    assert tools["check"]["inputSchema"]["properties"]["commands"]["type"] == "boolean"
    assert tools["plan"]["description"].startswith("Plan an ask")

    called = inspector(sim, "tools/call", "--tool-name", "propose_lesson", "--tool-arg", "rule=Close files.")
    assert called.returncode == 0, called.stderr
    proposed = json.loads(called.stdout)["structuredContent"]
    assert proposed["status"] == "proposed"
    assert (sim.repo / proposed["path"]).is_file()

    refused = inspector(sim, "tools/call", "--tool-name", "check", "--tool-arg", 'paths=["../.."]')
    assert '"isError": true' in refused.stdout and "outside the repository" in refused.stdout


def test_install_prints_the_claude_command_and_a_config_for_other_clients(sim: SimProject) -> None:
    printed = sim.cli("mcp", "install", "claude")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.splitlines()[0] == "claude mcp add aifactory -- factory mcp"
    snippet = json.loads(printed.stdout[printed.stdout.index("{") :])
    assert snippet == {"mcpServers": {"aifactory": {"command": "factory", "args": ["mcp"]}}}
    team = sim.cli("mcp", "install", "claude", "--scope", "project")
    assert team.stdout.startswith("claude mcp add --scope project aifactory -- factory mcp")
    assert sim.cli("mcp", "install", "cursor").returncode == 2


def test_install_apply_registers_the_server_with_the_real_claude_code(sim: SimProject) -> None:
    path = f"{claude_binary().parent}{os.pathsep}{os.environ['PATH']}"
    applied = sim.cli("mcp", "install", "claude", "--apply", env={"PATH": path, **QUIET})
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "registered aifactory with Claude Code" in applied.stdout
    settings = json.loads((Path(os.environ["HOME"]) / ".claude.json").read_text())
    server = settings["projects"][str(sim.repo)]["mcpServers"]["aifactory"]
    assert (server["command"], server["args"]) == ("factory", ["mcp"])


def propose_through_the_tool(request: SimRequest) -> Answer:
    if request.turns_since_user() == 0:
        return call_tool("mcp__aifactory__propose_lesson", rule="Close every file you open.")
    return reply_text("Proposed it.")


def test_real_claude_code_calls_a_factory_tool_through_its_mcp_config(
    sim: SimProject, tmp_path: Path
) -> None:
    server = {
        "command": sys.executable,
        "args": ["-m", "aifactory", "mcp"],
        "env": {"PYTHONPATH": str(ROOT / "src")},
    }
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"aifactory": server}}))
    model = Rules((offers_tool("mcp__aifactory__propose_lesson"), propose_through_the_tool))
    with FakeServer(model, "anthropic") as fake:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ["HOME"],
            "ANTHROPIC_BASE_URL": fake.base_url,
            "ANTHROPIC_API_KEY": "sk-fake",
            "DISABLE_AUTOUPDATER": "1",
            # Claude Code defers MCP tools behind its ToolSearch tool; offer them to the model at once.
            "ENABLE_TOOL_SEARCH": "false",
            **QUIET,
        }
        command = [
            str(claude_binary()),
            "-p",
            "Propose a lesson",
            "--output-format",
            "stream-json",
            "--verbose",
        ]
        command += ["--model", "claude-sonnet-5-5", "--mcp-config", str(config), "--strict-mcp-config"]
        command += ["--allowedTools", "mcp__aifactory__propose_lesson"]
        done = subprocess.run(
            command, cwd=sim.repo, env=env, capture_output=True, text=True, timeout=180, check=False
        )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["result"] == "Proposed it." and not result["is_error"]
    lesson = sim.repo / ".factory" / "blueprint" / "lessons" / "close-every-file-you-open.md"
    assert 'status = "proposed"' in lesson.read_text()
