"""The built-in executor calling a real MCP server's tools: whole runs on the simulated model."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

from aifactory.domain.run import AttemptState
from aifactory.testing.mcp_server import GLOSSARY
from aifactory.testing.team import LOOKUP_TERM, scripted_team, step_file
from tests.engine.runs import plan_and_run
from tests.sim import KEY, KEY_VARIABLE, SimProject, sim_project
from tests.support import git

SRC = str(Path(__file__).resolve().parents[2] / "src")
STDIO = f'command = {json.dumps(sys.executable)}\nargs = ["-m", "aifactory.testing.mcp_server"]\n'
ANSWER = GLOSSARY[LOOKUP_TERM]


def _configure(sim: SimProject, servers: str, tools: list[str]) -> None:
    """Add `servers` (TOML tables) and grant `tools` to the executor."""
    config = sim.repo / ".factory" / "config.toml"
    text = config.read_text(encoding="utf-8").replace(
        '[roles.executor]\nmodel = "sim:claude-sonnet-5-5"',
        f'[roles.executor]\nmodel = "sim:claude-sonnet-5-5"\nmcp_tools = {json.dumps(tools)}',
    )
    config.write_text(text + servers, encoding="utf-8")


def _env() -> dict[str, str]:
    """The factory's environment: the server finds our package, and a secret it must never see."""
    return {**os.environ, "PYTHONPATH": SRC, KEY_VARIABLE: KEY, "DEPLOY_TOKEN": "tok-never-passed"}


def _rows(sim: SimProject, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(sim.repo / ".factory" / "ledger.db") as db:
        return db.execute(sql).fetchall()


def _offered(sim: SimProject) -> set[str]:
    """Every tool the executor's requests offered the model."""
    return {name for r in sim.claude.requests if r.sim.offers("step_done") for name in r.sim.tools}


def test_the_executor_calls_a_stdio_servers_tool_and_writes_its_answer(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=2), run={"attempts": 1}) as sim:
        _configure(sim, f"[mcp_servers.glossary]\n{STDIO}pass_env = ['PYTHONPATH']\n", ["glossary.lookup"])
        finished = plan_and_run(sim, attempts=1, env=_env())
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.PASSED, attempt.reason
        branch = f"factory/{finished.outcome.run_id}/a1"
        note = git(sim.repo, "show", f"{branch}:{step_file(2)}")
        assert note == f"note 2 written by a1\n{LOOKUP_TERM}: {ANSWER}\n"
        assert "glossary__lookup" in _offered(sim)
        assert not {"glossary__add", "glossary__crash"} & _offered(sim), "tools not granted are not offered"
        calls = _rows(sim, "select step, agent, tool, target, ok from tool_calls where tool like 'glossary%'")
        assert calls == [
            (1, "sim", "glossary__lookup", '{"term":"ledger"}', 1),
            (2, "sim", "glossary__lookup", '{"term":"ledger"}', 1),
        ]
