"""The built-in executor calling a real MCP server's tools: whole runs on the simulated model."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aifactory.domain.run import AttemptState, StepState
from aifactory.testing.mcp_server import GLOSSARY
from aifactory.testing.scenario import Answer, SimRequest, call_tool
from aifactory.testing.team import LOOKUP_TERM, attempt_of, scripted_team, step_file
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


def _crash_in_a1(request: SimRequest) -> bool:
    return request.offers("glossary__crash") and attempt_of(request) == "a1"


def test_a_server_that_fails_to_start_fails_the_step_with_its_stderr(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=1), run={"attempts": 1}) as sim:
        failing = STDIO.replace('mcp_server"]', 'mcp_server", "--fail-start"]')
        _configure(sim, f"[mcp_servers.glossary]\n{failing}pass_env = ['PYTHONPATH']\n", ["glossary"])
        finished = plan_and_run(sim, attempts=1, env=_env())
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.FAILED
        assert [step.state for step in attempt.steps] == [StepState.FAILED]
        assert (
            "MCP server glossary failed to start: test server: cannot open the glossary database"
            in attempt.reason
        )
        assert not _offered(sim), "the executor never asked its model without the tools it was granted"


def test_a_missing_command_fails_the_step_naming_it(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=1), run={"attempts": 1}) as sim:
        _configure(sim, '[mcp_servers.glossary]\ncommand = "no-such-mcp-server"\n', ["glossary"])
        finished = plan_and_run(sim, attempts=1, env=_env())
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.FAILED
        assert "MCP server glossary failed to start: its command was not found" in attempt.reason


def test_a_server_dying_mid_call_fails_its_attempt_and_the_run_goes_on(tmp_path: Path) -> None:
    scenario = scripted_team(steps=1).first(_crash_in_a1, call_tool("glossary__crash"))
    with sim_project(tmp_path, scenario, run={"attempts": 2}) as sim:
        servers = f"[mcp_servers.glossary]\n{STDIO}pass_env = ['PYTHONPATH']\n"
        _configure(sim, servers, ["glossary.lookup", "glossary.crash"])
        finished = plan_and_run(sim, attempts=2, env=_env())
        first, second = sorted(finished.detail.attempts, key=lambda a: a.name)
        assert first.state is AttemptState.FAILED
        assert (
            "MCP server glossary failed during a call to crash: test server: crashing on purpose"
            in first.reason
        )
        assert second.state is AttemptState.PASSED, second.reason
        crashed = _rows(sim, "select attempt, ok from tool_calls where tool = 'glossary__crash'")
        assert crashed == [("a1", 0)]


def _add(request: SimRequest) -> Answer:
    """a1 keeps passing a string for an integer; a2 fixes its call after the server's error."""
    if attempt_of(request) == "a1" or not request.find_results("glossary__add"):
        return call_tool("glossary__add", a="two", b=2)
    return call_tool("glossary__add", a=2, b=2)


def _adding(request: SimRequest) -> bool:
    done = [r for r in request.find_results("glossary__add") if not r.is_error]
    return request.offers("glossary__add") and not done


def test_wrong_argument_types_go_back_to_the_model_and_fail_the_step_if_they_persist(tmp_path: Path) -> None:
    scenario = scripted_team(steps=1).first(_adding, _add)
    with sim_project(tmp_path, scenario, run={"attempts": 2}) as sim:
        _configure(sim, f"[mcp_servers.glossary]\n{STDIO}pass_env = ['PYTHONPATH']\n", ["glossary.add"])
        finished = plan_and_run(sim, attempts=2, env=_env())
        first, second = sorted(finished.detail.attempts, key=lambda a: a.name)
        assert first.state is AttemptState.FAILED
        assert "MCP tool glossary.add rejected the call 3 times; last: " in first.reason
        assert "Input should be a valid integer" in first.reason
        assert second.state is AttemptState.PASSED, second.reason
        retried = [
            result.content
            for r in sim.claude.requests
            if attempt_of(r.sim) == "a2"
            for result in r.sim.find_results("glossary__add")
            if result.is_error
        ]
        assert retried and "valid integer" in retried[0], "the model saw the server's validation error"
        calls = _rows(sim, "select attempt, target, ok from tool_calls where tool = 'glossary__add'")
        assert ("a2", '{"a":2,"b":2}', 1) in calls and ("a1", '{"a":"two","b":2}', 0) in calls


@contextmanager
def _http_server() -> Iterator[str]:
    """The test server on streamable HTTP in its own process; its URL once it accepts connections."""
    process = subprocess.Popen(
        [sys.executable, "-m", "aifactory.testing.mcp_server", "--http", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield url
    finally:
        process.kill()
        process.wait()


def test_the_executor_calls_a_tool_over_streamable_http(tmp_path: Path) -> None:
    with _http_server() as url, sim_project(tmp_path, scripted_team(steps=1), run={"attempts": 1}) as sim:
        servers = f'[mcp_servers.glossary]\nurl = "{url}"\nheaders = {{ X-Team = "factory" }}\n'
        _configure(sim, servers, ["mcp:glossary.lookup"])
        finished = plan_and_run(sim, attempts=1, env=_env())
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.PASSED, attempt.reason
        branch = f"factory/{finished.outcome.run_id}/a1"
        assert git(sim.repo, "show", f"{branch}:{step_file(1)}").endswith(f"{LOOKUP_TERM}: {ANSWER}\n")
        assert _rows(sim, "select tool, ok from tool_calls where tool like 'glossary%'") == [
            ("glossary__lookup", 1)
        ]
