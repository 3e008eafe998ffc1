"""The real Codex CLI as the executor, headless against the fake Responses API server: whole runs."""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from aifactory.domain.events import ProviderCooled, ProviderSwitched
from aifactory.domain.run import AttemptState, StepState
from aifactory.testing.scenario import Delay, HttpError, SimRequest, reply_text
from aifactory.testing.scenarios import FaultsWhen
from aifactory.testing.team import scripted_team, step_file
from tests.agents.codex import KEY_VARIABLE, RESET, agent_table, codex_binary, codex_home
from tests.engine.runs import plan_and_run
from tests.sim import KEY, SimProject, sim_project
from tests.support import git

CODEX_KEY = "sk-for-codex-only"


def _executor(sim: SimProject, home: Path, choices: str, *, timeout: float = 120) -> None:
    """Give the executor `choices` and a `codex` agent that runs the real CLI against the fake."""
    config = sim.repo / ".factory" / "config.toml"
    text = config.read_text(encoding="utf-8").replace(
        '[roles.executor]\nmodel = "sim:claude-sonnet-5-5"', f"[roles.executor]\nmodel = {choices}"
    )
    table = agent_table("codex", codex_home(home, sim.gpt.base_url), binary=codex_binary(), timeout=timeout)
    config.write_text(text + table, encoding="utf-8")


def _env() -> dict[str, str]:
    """What the factory runs with: the roles' key, the key codex's provider reads, and one never passed."""
    return {
        **os.environ,
        "FACTORY_TEST_KEY": KEY,
        KEY_VARIABLE: CODEX_KEY,
        "OPENAI_API_KEY": "sk-openai-never-passed",
    }


def _rows(sim: SimProject, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(sim.repo / ".factory" / "ledger.db") as db:
        return db.execute(sql).fetchall()


def _from_codex(request: SimRequest) -> bool:
    return request.headers.get("originator", "").startswith("codex_")


def test_codex_carries_out_the_steps_with_its_own_tools_and_the_factory_commits_them(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=2), run={"attempts": 1}) as sim:
        _executor(sim, tmp_path / "codex-home", '"codex:gpt-5.1-codex"')
        finished = plan_and_run(sim, attempts=1, env=_env())
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.PASSED, attempt.reason
        assert [step.state for step in attempt.steps] == [StepState.COMMITTED, StepState.COMMITTED]
        branch = f"factory/{finished.outcome.run_id}/a1"
        assert git(sim.repo, "show", f"{branch}:{step_file(1)}") == "note 1 written by a1\n"
        assert git(sim.repo, "show", f"{branch}:{step_file(2)}") == "note 2 written by a1\n"
        log = git(sim.repo, "log", "--format=%an|%B", f"{branch}~1..{branch}")
        assert log.startswith("aifactory|step 2/2: Write note 2\n\nWrote notes/step-2.txt.")
        assert "Factory-Executor: codex:gpt-5.1-codex" in log
        cli = [r for r in sim.gpt.requests if _from_codex(r)]
        assert cli and {r.headers["authorization"] for r in cli} == {f"Bearer {CODEX_KEY}"}
        assert all("# The plan" in r.sim.prompt for r in cli), "codex gets the plan with its step"
        assert all("executor" in r.sim.system.lower() for r in cli), "the role's instructions reach codex"
        assert any(
            "# Your step: 1 of 2" in r.sim.prompt and "# Your step: 2 of 2" in r.sim.prompt for r in cli
        ), "step 2 resumes the session of step 1"
        calls = _rows(
            sim,
            "select step, model, input_tokens, output_tokens, cache_read_tokens, error "
            "from model_calls where provider = 'codex' and role = 'executor' order by step",
        )
        assert [(step, model) for step, model, *_ in calls] == [(1, "gpt-5.1-codex"), (2, "gpt-5.1-codex")]
        assert all(tokens and out and error is None for _, _, tokens, out, _, error in calls)
        assert calls[1][4], "the resumed session reads its earlier turns from the cache"


def test_a_plans_usage_limit_hands_the_step_to_the_next_choice_and_the_run_finishes(tmp_path: Path) -> None:
    limited = HttpError(
        429, "usage_limit_reached", "The usage limit has been reached", details={"resets_at": RESET}
    )
    scenario = FaultsWhen(scripted_team(steps=2), _from_codex, limited)
    with sim_project(tmp_path, scenario, run={"attempts": 1}) as sim:
        _executor(sim, tmp_path / "codex-home", '["codex:gpt-5.1-codex", "sim:claude-sonnet-5-5"]')
        finished = plan_and_run(sim, attempts=1, env=_env())
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.PASSED, attempt.reason
        branch = f"factory/{finished.outcome.run_id}/a1"
        assert git(sim.repo, "show", f"{branch}:{step_file(1)}") == "note 1 written by a1\n"
        assert "Factory-Executor: sim:claude-sonnet-5-5" in git(sim.repo, "log", "-1", "--format=%B", branch)
        [cooled] = [e for e in sim.events if isinstance(e, ProviderCooled)]
        reset = datetime(2030, 3, 17, 17, 47, tzinfo=UTC)
        assert (cooled.provider, cooled.until, cooled.step) == ("codex", reset, 1)
        assert "usage limit: You" in cooled.reason and "Try again at Mar 17th, 2030 5:46 PM." in cooled.reason
        switched = [
            (e.from_provider, e.to_provider, e.step) for e in sim.events if isinstance(e, ProviderSwitched)
        ]
        assert switched == [("codex", "sim", 1), ("codex", "sim", 2)], "the ledger shows who did each step"
        assert len([r for r in sim.gpt.requests if _from_codex(r)]) == 1, "step 2 does not ask codex again"
        executed = _rows(
            sim, "select distinct provider from model_calls where role = 'executor' and error is null"
        )
        assert executed == [("sim",)]


def test_a_missing_cli_stops_the_run_before_any_work_naming_the_install_command(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=1), run={"attempts": 1}) as sim:
        _executor(sim, tmp_path / "codex-home", '"codex:gpt-5.1-codex"')
        config = sim.repo / ".factory" / "config.toml"
        config.write_text(config.read_text().replace(str(codex_binary()), str(tmp_path / "no-codex")))
        ran = sim.cli("run", "Write the notes", "--no-interactive")
        assert ran.returncode == 2, ran.stdout + ran.stderr
        assert "codex: " in ran.stderr and "was not found ([agents.codex] binary)" in ran.stderr
        assert "npm install -g @openai/codex@0.169.0" in ran.stderr
        assert not sim.gpt.requests, "no model was asked anything"


def test_a_step_past_its_time_limit_is_killed_and_fails_saying_so(tmp_path: Path) -> None:
    slow = FaultsWhen(scripted_team(steps=1), _from_codex, Delay(60, reply_text("too late")))
    with sim_project(tmp_path, slow, run={"attempts": 1}) as sim:
        _executor(sim, tmp_path / "codex-home", '"codex:gpt-5.1-codex"', timeout=3)
        started = time.monotonic()
        finished = plan_and_run(sim, attempts=1, env=_env())
        assert time.monotonic() - started < 30
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.FAILED
        assert "killed after the step's time limit of 3s ([agents.codex] timeout)" in attempt.reason
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
