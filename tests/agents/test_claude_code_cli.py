"""The real Claude Code CLI as the executor, headless against the fake Anthropic server: whole runs."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from aifactory.agents.claude_code import TESTED_VERSION
from aifactory.domain.events import ProviderCooled, ProviderSwitched
from aifactory.domain.run import AttemptState, Role, StepState
from aifactory.ledger.store import Ledger
from aifactory.testing.scenario import Delay, HttpError, SimRequest, call_tool, reply_text
from aifactory.testing.scenarios import FaultsWhen
from aifactory.testing.team import scripted_team, step_file
from tests.agents.claude import RESET, USAGE_LIMIT_HEADERS, agent_table, claude_binary
from tests.engine.runs import plan_and_run
from tests.sim import KEY, KEY_VARIABLE, SimProject, sim_project
from tests.support import git


def _executor(sim: SimProject, choices: str, *, pass_env: str, timeout: float = 120) -> None:
    """Give the executor `choices` and a `claude-code` agent that runs the real CLI against the fake."""
    config = sim.repo / ".factory" / "config.toml"
    text = config.read_text(encoding="utf-8").replace(
        '[roles.executor]\nmodel = "sim:claude-sonnet-5-5"', f"[roles.executor]\nmodel = {choices}"
    )
    table = agent_table(
        "claude-code", sim.claude.base_url, pass_env=pass_env, binary=claude_binary(), timeout=timeout
    )
    config.write_text(text + table, encoding="utf-8")


def _env(**credentials: str) -> dict[str, str]:
    """What the factory runs with: the developer's environment, the roles' key, and more secrets."""
    return {**os.environ, KEY_VARIABLE: KEY, "OPENAI_API_KEY": "sk-openai-never-passed", **credentials}


def _rows(sim: SimProject, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(sim.repo / ".factory" / "ledger.db") as db:
        return db.execute(sql).fetchall()


def _from_claude_code(request: SimRequest) -> bool:
    return request.headers.get("user-agent", "").startswith("claude-cli/")


def test_claude_code_carries_out_the_steps_and_the_factory_commits_them(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=2), run={"attempts": 1}) as sim:
        _executor(sim, '"claude-code:claude-sonnet-5-5"', pass_env="ANTHROPIC_API_KEY")
        finished = plan_and_run(sim, attempts=1, env=_env(ANTHROPIC_API_KEY="sk-ant-for-claude-code"))
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.PASSED, attempt.reason
        assert [step.state for step in attempt.steps] == [StepState.COMMITTED, StepState.COMMITTED]
        branch = f"factory/{finished.outcome.run_id}/a1"
        assert git(sim.repo, "show", f"{branch}:{step_file(2)}") == "note 2 written by a1\n"
        log = git(sim.repo, "log", "--format=%an|%B", f"{branch}~1..{branch}")
        assert log.startswith("aifactory|step 2/2: Write note 2\n\nWrote notes/step-2.txt.")
        assert "Factory-Executor: claude-code:claude-sonnet-5-5" in log
        cli = [r for r in sim.claude.requests if _from_claude_code(r)]
        assert cli and {r.headers["x-api-key"] for r in cli} == {"sk-ant-for-claude-code"}
        assert all("# The plan" in r.sim.prompt for r in cli), "the CLI gets the plan with its step"
        assert any(
            "# Your step: 1 of 2" in r.sim.prompt and "# Your step: 2 of 2" in r.sim.prompt for r in cli
        ), "step 2 resumes the session of step 1"
        calls = _rows(
            sim,
            "select step, model, input_tokens, output_tokens, cache_read_tokens, cost, error "
            "from model_calls where provider = 'claude-code' and role = 'executor' order by step",
        )
        assert [(step, model) for step, model, *_ in calls] == [
            (1, "claude-sonnet-5-5"),
            (2, "claude-sonnet-5-5"),
        ]
        assert all(
            tokens and out and cost is not None and error is None
            for _, _, tokens, out, _, cost, error in calls
        )
        assert calls[1][4], "the resumed session reads its earlier turns from the cache"
        tools = _rows(sim, "select step, agent, tool, target, ok from tool_calls order by id")
        assert tools == [
            (1, "claude-code", "Write", step_file(1), 1),
            (2, "claude-code", "Write", step_file(2), 1),
        ], "the CLI's own tool calls, read from its stream"
        shown = sim.cli("show", finished.outcome.run_id)
        assert "by claude-code:claude-sonnet-5-5" in shown.stdout, shown.stdout + shown.stderr
        assert f"claude-code: Write {step_file(2)}" in shown.stdout


def test_a_usage_limit_hands_the_step_to_the_next_choice_and_the_run_finishes(tmp_path: Path) -> None:
    limited = HttpError(429, "rate_limit_error", "usage limit", headers=USAGE_LIMIT_HEADERS)
    scenario = FaultsWhen(scripted_team(steps=2), _from_claude_code, limited)
    with sim_project(tmp_path, scenario, run={"attempts": 1}) as sim:
        _executor(
            sim,
            '["claude-code:claude-sonnet-5-5", "sim:claude-sonnet-5-5"]',
            pass_env="CLAUDE_CODE_OAUTH_TOKEN",
        )
        finished = plan_and_run(sim, attempts=1, env=_env(CLAUDE_CODE_OAUTH_TOKEN="sk-ant-oat01-fake"))
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.PASSED, attempt.reason
        branch = f"factory/{finished.outcome.run_id}/a1"
        assert git(sim.repo, "show", f"{branch}:{step_file(1)}") == "note 1 written by a1\n"
        assert "Factory-Executor: sim:claude-sonnet-5-5" in git(sim.repo, "log", "-1", "--format=%B", branch)
        [cooled] = [e for e in sim.events if isinstance(e, ProviderCooled)]
        assert (cooled.provider, cooled.until, cooled.step) == (
            "claude-code",
            datetime.fromtimestamp(RESET, UTC),
            1,
        )
        assert "usage limit (five_hour)" in cooled.reason
        switched = [
            (e.from_provider, e.to_provider, e.step) for e in sim.events if isinstance(e, ProviderSwitched)
        ]
        assert switched == [("claude-code", "sim", 1), ("claude-code", "sim", 2)], (
            "the ledger shows who did each step"
        )
        assert len([r for r in sim.claude.requests if _from_claude_code(r)]) == 1, (
            "step 2 does not ask a cooling agent again"
        )
        assert _rows(sim, "select provider, until from provider_events where kind = 'provider-cooled'") == [
            ("claude-code", cooled.until.isoformat(timespec="microseconds"))
        ]
        executed = _rows(
            sim, "select distinct provider from model_calls where role = 'executor' and error is null"
        )
        assert executed == [("sim",)]


def test_models_lists_each_agent_its_version_its_state_and_the_choices_naming_it(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=1)) as sim:
        _executor(
            sim,
            '["claude-code:claude-sonnet-5-5", "sim:claude-sonnet-5-5"]',
            pass_env="CLAUDE_CODE_OAUTH_TOKEN",
        )
        config = sim.repo / ".factory" / "config.toml"
        missing = tmp_path / "no-claude"
        config.write_text(
            config.read_text()
            + f'[agents."claude-code@bedrock"]\nkind = "claude-code"\nbinary = "{missing}"\n'
        )
        with Ledger.open(sim.repo / ".factory" / "ledger.db") as ledger:
            until = datetime.fromtimestamp(RESET, UTC)
            ledger.record(
                ProviderCooled(provider="claude-code", until=until, reason="usage limit", role=Role.EXECUTOR)
            )
        listed = sim.cli("models", "--json")
        assert listed.returncode == 0, listed.stderr
        agents = {agent["agent"]: agent for agent in json.loads(listed.stdout)["agents"]}
        cooling = agents["claude-code"]
        assert (cooling["kind"], cooling["installed"], cooling["version"]) == (
            "claude-code",
            True,
            TESTED_VERSION,
        )
        assert cooling["state"] == f"cooling down until {until.astimezone():%Y-%m-%d %H:%M:%S}: usage limit"
        assert cooling["uses"] == [
            {"role": "executor", "model": "claude-sonnet-5-5", "choice": 1, "complex_steps": False}
        ]
        absent = agents["claude-code@bedrock"]
        assert (absent["installed"], absent["version"], absent["uses"]) == (False, None, [])
        assert (
            absent["state"].startswith("not installed: claude-code@bedrock: `")
            and "was not found" in absent["state"]
        )
        assert "npm install -g @anthropic-ai/claude-code@" in absent["state"]
        shown = sim.cli("models", env={"COLUMNS": "200"})
        assert "agents (executor only)" in shown.stdout and TESTED_VERSION in shown.stdout, shown.stdout


def test_without_the_sandbox_a_step_whose_agent_commits_is_rejected_and_the_branch_put_back(
    tmp_path: Path,
) -> None:
    sneaky = (
        "echo sneaky > sneaky.txt && git add -A && git -c user.name=agent -c user.email=a@b commit -qm mine"
    )
    team = scripted_team(steps=1).first(
        lambda r: _from_claude_code(r) and not r.find_results("Bash"), call_tool("Bash", command=sneaky)
    )
    team.first(
        lambda r: _from_claude_code(r) and bool(r.find_results("Bash")), reply_text("Committed it myself.")
    )
    with sim_project(tmp_path, team, run={"attempts": 1, "sandbox": "none"}) as sim:
        _executor(sim, '"claude-code:claude-sonnet-5-5"', pass_env="ANTHROPIC_API_KEY")
        finished = plan_and_run(sim, attempts=1, env=_env(ANTHROPIC_API_KEY="sk-ant-for-claude-code"))
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.FAILED
        assert "the agent moved the branch" in attempt.reason
        assert "the factory makes each step's commit itself" in attempt.reason
        branch = f"factory/{finished.outcome.run_id}/a1"
        assert git(sim.repo, "rev-parse", branch) == git(sim.repo, "rev-parse", "HEAD"), (
            "put back at the base"
        )


def test_under_the_sandbox_the_agent_can_neither_write_outside_its_worktree_nor_commit(
    tmp_path: Path,
) -> None:
    outside, repo = tmp_path / "outside.txt", tmp_path / "repo"
    sneaky = (
        f"echo out > {outside}; echo out > {repo}/escaped.txt; echo mine > mine.txt; "
        "git add -A && git -c user.name=agent -c user.email=a@b commit -qm mine; git status --short"
    )
    team = scripted_team(steps=1).first(
        lambda r: _from_claude_code(r) and not r.find_results("Bash"), call_tool("Bash", command=sneaky)
    )
    team.first(lambda r: _from_claude_code(r) and bool(r.find_results("Bash")), reply_text("Tried."))
    with sim_project(tmp_path, team, run={"attempts": 1, "sandbox": "bwrap"}) as sim:
        _executor(sim, '"claude-code:claude-sonnet-5-5"', pass_env="ANTHROPIC_API_KEY")
        finished = plan_and_run(sim, attempts=1, env=_env(ANTHROPIC_API_KEY="sk-ant-for-claude-code"))
        answered = [r.sim for r in sim.claude.requests if _from_claude_code(r) and r.sim.find_results("Bash")]
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.PASSED, attempt.reason
        said = answered[0].find_results("Bash")[0].content
        assert said.count("Read-only file system") >= 2, said
        assert not outside.exists() and not (repo / "escaped.txt").exists()
        branch = f"factory/{finished.outcome.run_id}/a1"
        assert git(sim.repo, "log", "--format=%an", f"HEAD..{branch}") == "aifactory\n", (
            "only the factory committed"
        )
        assert git(sim.repo, "show", f"{branch}:mine.txt") == "mine\n"


def test_a_missing_cli_stops_the_run_before_any_work_naming_the_install_command(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=1), run={"attempts": 1}) as sim:
        _executor(sim, '"claude-code:claude-sonnet-5-5"', pass_env="ANTHROPIC_API_KEY")
        config = sim.repo / ".factory" / "config.toml"
        config.write_text(config.read_text().replace(str(claude_binary()), str(tmp_path / "no-claude")))
        ran = sim.cli("run", "Write the notes", "--no-interactive")
        assert ran.returncode == 2, ran.stdout + ran.stderr
        assert "claude-code: " in ran.stderr and "was not found ([agents.claude-code] binary)" in ran.stderr
        assert "npm install -g @anthropic-ai/claude-code@" in ran.stderr
        assert not sim.claude.requests, "no model was asked anything"


def test_a_step_past_its_time_limit_is_killed_and_fails_saying_so(tmp_path: Path) -> None:
    slow = FaultsWhen(scripted_team(steps=1), _from_claude_code, Delay(60, reply_text("too late")))
    with sim_project(tmp_path, slow, run={"attempts": 1}) as sim:
        _executor(sim, '"claude-code:claude-sonnet-5-5"', pass_env="ANTHROPIC_API_KEY", timeout=3)
        started = time.monotonic()
        finished = plan_and_run(sim, attempts=1, env=_env(ANTHROPIC_API_KEY="sk-ant-for-claude-code"))
        assert time.monotonic() - started < 30
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.FAILED
        assert "killed after the step's time limit of 3s ([agents.claude-code] timeout)" in attempt.reason
        assert not _running_in(tmp_path / "worktrees"), "the CLI's process group was killed"


def _running_in(folder: Path) -> list[int]:
    """Processes whose working directory is inside `folder`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cwd").resolve().is_relative_to(folder.resolve()):
                found.append(int(entry.name))
        except OSError:
            continue
    return found
