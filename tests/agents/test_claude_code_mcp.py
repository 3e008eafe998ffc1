"""The real Claude Code CLI as the executor, given the MCP servers `[roles.executor] mcp_tools` grants:
it starts the test MCP server itself and calls its tool, against the fake Anthropic server."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

from aifactory.domain.run import AttemptState
from aifactory.testing.mcp_server import GLOSSARY
from aifactory.testing.scenario import Answer, SimRequest, call_tool, reply_text
from aifactory.testing.scenarios import offers_tool
from aifactory.testing.team import LOOKUP_TERM, scripted_team, step_file, working_directory
from tests.agents.claude import agent_table, claude_binary
from tests.engine.runs import plan_and_run
from tests.sim import KEY, KEY_VARIABLE, SimProject, sim_project
from tests.support import git

SRC = str(Path(__file__).resolve().parents[2] / "src")
GLOSSARY_SERVER = (
    f"[mcp_servers.glossary]\ncommand = {json.dumps(sys.executable)}\n"
    'args = ["-m", "aifactory.testing.mcp_server"]\npass_env = ["PYTHONPATH"]\n'
)


def _claude_code_with(sim: SimProject, tools: list[str]) -> None:
    """Claude Code as the only executor choice, granted `tools` of the glossary server."""
    config = sim.repo / ".factory" / "config.toml"
    text = config.read_text(encoding="utf-8").replace(
        '[roles.executor]\nmodel = "sim:claude-sonnet-5-5"',
        f'[roles.executor]\nmodel = "claude-code:claude-sonnet-5-5"\nmcp_tools = {json.dumps(tools)}',
    )
    table = agent_table(
        "claude-code", sim.claude.base_url, pass_env="ANTHROPIC_API_KEY", binary=claude_binary()
    )
    config.write_text(text + table + GLOSSARY_SERVER, encoding="utf-8")


def _env() -> dict[str, str]:
    """The factory's environment: the server finds our package; Claude Code gets its own key."""
    return {**os.environ, "PYTHONPATH": SRC, KEY_VARIABLE: KEY, "ANTHROPIC_API_KEY": "sk-ant-for-claude-code"}


def _rows(sim: SimProject, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(sim.repo / ".factory" / "ledger.db") as db:
        return db.execute(sql).fetchall()


def test_claude_code_calls_a_tool_of_a_granted_server_and_writes_its_answer(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=1), run={"attempts": 1}) as sim:
        _claude_code_with(sim, ["glossary"])
        finished = plan_and_run(sim, attempts=1, env=_env())
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.PASSED, attempt.reason
        branch = f"factory/{finished.outcome.run_id}/a1"
        note = git(sim.repo, "show", f"{branch}:{step_file(1)}")
        # Claude Code hands the model the tool's structured result, `{"result": ...}`.
        first, looked_up = note.splitlines()
        assert first == "note 1 written by a1"
        assert json.loads(looked_up.removeprefix(f"{LOOKUP_TERM}: ")) == {"result": GLOSSARY[LOOKUP_TERM]}
        files = git(sim.repo, "ls-tree", "-r", "--name-only", branch).split()
        assert not [name for name in files if name.endswith("mcp.json")], "its configuration stays outside"
        calls = _rows(sim, "select agent, tool, ok from tool_calls where tool like 'mcp__%'")
        assert calls == [("claude-code", "mcp__glossary__lookup", 1)]


def _tries_an_ungranted_tool(request: SimRequest) -> Answer:
    """Calls the server's `whereami`, which the allow-list does not grant, and writes what it got."""
    turn = request.turns_since_user()
    if turn == 0:
        return call_tool("mcp__glossary__whereami")
    if turn == 1:
        got = "".join(result.content for result in request.results_since_user())
        return call_tool("Write", file_path=f"{working_directory(request)}/{step_file(1)}", content=got)
    return reply_text("Done.")


def test_a_tool_of_a_granted_server_that_the_list_does_not_grant_is_refused(tmp_path: Path) -> None:
    """Claude Code offers every tool of a server it starts; only the granted ones are allowed to run."""
    team = scripted_team(steps=1).first(offers_tool("mcp__glossary__whereami"), _tries_an_ungranted_tool)
    with sim_project(tmp_path, team, run={"attempts": 1}) as sim:
        _claude_code_with(sim, ["glossary.lookup"])
        finished = plan_and_run(sim, attempts=1, env=_env())
        note = git(sim.repo, "show", f"factory/{finished.outcome.run_id}/a1:{step_file(1)}")
        assert "haven't granted it" in note and "cwd=" not in note
        calls = _rows(sim, "select tool, ok from tool_calls where tool like 'mcp__%'")
        assert calls == [("mcp__glossary__whereami", 0)]
