"""The real Gemini CLI as the executor, headless against the fake Gemini API: whole runs."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aifactory.domain.events import ProviderCooled, ProviderSwitched
from aifactory.domain.run import AttemptState, StepState
from aifactory.testing import FakeServer, Scenario
from aifactory.testing.scenario import Delay, HttpError, SimRequest, reply_text
from aifactory.testing.scenarios import FaultsWhen
from aifactory.testing.team import scripted_team, step_file
from tests.agents.gemini import MODEL, agent_table, cli_home, gemini_binary
from tests.agents.test_claude_code_cli import _running_in
from tests.engine.runs import plan_and_run
from tests.sim import KEY, KEY_VARIABLE, SimProject, sim_project
from tests.support import git

GEMINI_KEY = "gemini-key-for-the-cli"
DAILY = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"


@contextmanager
def _project(
    tmp_path: Path, scenario: Scenario, choices: str, *, timeout: float = 120
) -> Iterator[tuple[SimProject, FakeServer]]:
    """A sim project whose executor has `choices`, its `gemini` agent running the real CLI on a fake."""
    with (
        sim_project(tmp_path, scenario, run={"attempts": 1}) as sim,
        FakeServer(scenario, "gemini", keys={GEMINI_KEY}) as gemini,
    ):
        config = sim.repo / ".factory" / "config.toml"
        text = config.read_text(encoding="utf-8").replace(
            '[roles.executor]\nmodel = "sim:claude-sonnet-5-5"', f"[roles.executor]\nmodel = {choices}"
        )
        home = cli_home(tmp_path / "gemini-home")
        table = agent_table("gemini", gemini.base_url, home=home, binary=gemini_binary(), timeout=timeout)
        config.write_text(text + table, encoding="utf-8")
        yield sim, gemini


def _env() -> dict[str, str]:
    """What the factory runs with: the developer's environment, the roles' key, and more secrets."""
    return {
        **os.environ,
        KEY_VARIABLE: KEY,
        "GEMINI_API_KEY": GEMINI_KEY,
        "OPENAI_API_KEY": "sk-never-passed",
    }


def _rows(sim: SimProject, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(sim.repo / ".factory" / "ledger.db") as db:
        return db.execute(sql).fetchall()


def _from_gemini_cli(request: SimRequest) -> bool:
    return request.headers.get("user-agent", "").startswith("GeminiCLI")


def test_gemini_cli_carries_out_the_steps_and_the_factory_commits_them(tmp_path: Path) -> None:
    with _project(tmp_path, scripted_team(steps=2), f'"gemini:{MODEL}"') as (sim, gemini):
        finished = plan_and_run(sim, attempts=1, env=_env())
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.PASSED, attempt.reason
        assert [step.state for step in attempt.steps] == [StepState.COMMITTED, StepState.COMMITTED]
        branch = f"factory/{finished.outcome.run_id}/a1"
        assert git(sim.repo, "show", f"{branch}:{step_file(2)}") == "note 2 written by a1\n"
        log = git(sim.repo, "log", "--format=%an|%B", f"{branch}~1..{branch}")
        assert log.startswith("aifactory|step 2/2: Write note 2\n\nWrote notes/step-2.txt.")
        assert f"Factory-Executor: gemini:{MODEL}" in log
        cli = gemini.requests
        assert cli and all(_from_gemini_cli(r) for r in cli)
        assert {r.headers["x-goog-api-key"] for r in cli} == {GEMINI_KEY}
        assert all("# The plan" in r.sim.prompt for r in cli), "the CLI gets the plan with its step"
        assert any(
            "# Your step: 1 of 2" in r.sim.prompt and "# Your step: 2 of 2" in r.sim.prompt for r in cli
        ), "step 2 resumes the session of step 1"
        calls = _rows(
            sim,
            "select step, model, input_tokens, output_tokens, cache_read_tokens, error "
            "from model_calls where provider = 'gemini' and role = 'executor' order by step",
        )
        assert [(step, model) for step, model, *_ in calls] == [(1, MODEL), (2, MODEL)]
        assert all(tokens and out and error is None for _, _, tokens, out, _, error in calls)
        assert calls[1][4], "the resumed session reads its earlier turns from the cache"


def test_a_daily_quota_hands_the_step_to_the_next_choice_and_the_run_finishes(tmp_path: Path) -> None:
    scenario = FaultsWhen(scripted_team(steps=2), _from_gemini_cli, HttpError(429, code=DAILY))
    with _project(tmp_path, scenario, f'["gemini:{MODEL}", "sim:claude-sonnet-5-5"]') as (sim, gemini):
        finished = plan_and_run(sim, attempts=1, env=_env())
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.PASSED, attempt.reason
        branch = f"factory/{finished.outcome.run_id}/a1"
        assert git(sim.repo, "show", f"{branch}:{step_file(1)}") == "note 1 written by a1\n"
        assert "Factory-Executor: sim:claude-sonnet-5-5" in git(sim.repo, "log", "-1", "--format=%B", branch)
        [cooled] = [e for e in sim.events if isinstance(e, ProviderCooled)]
        assert (cooled.provider, cooled.step) == ("gemini", 1)
        assert "You have exhausted your daily quota on this model." in cooled.reason
        switched = [
            (e.from_provider, e.to_provider, e.step) for e in sim.events if isinstance(e, ProviderSwitched)
        ]
        assert switched == [("gemini", "sim", 1), ("gemini", "sim", 2)], "the ledger shows who did each step"
        assert len(gemini.requests) == 1, "step 2 does not ask a cooling agent again"
        executed = _rows(
            sim, "select distinct provider from model_calls where role = 'executor' and error is null"
        )
        assert executed == [("sim",)]


def test_a_cli_without_a_key_fails_the_step_naming_the_login_or_key_to_set(tmp_path: Path) -> None:
    with _project(tmp_path, scripted_team(steps=1), f'"gemini:{MODEL}"') as (sim, gemini):
        env = {name: value for name, value in _env().items() if name != "GEMINI_API_KEY"}
        finished = plan_and_run(sim, attempts=1, env=env)
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.FAILED
        assert "gemini could not log in (When using Gemini API, you must specify" in attempt.reason
        assert "export GEMINI_API_KEY and add it to [agents.gemini] pass_env" in attempt.reason
        assert not gemini.requests


def test_a_missing_cli_stops_the_run_before_any_work_naming_the_install_command(tmp_path: Path) -> None:
    with _project(tmp_path, scripted_team(steps=1), f'"gemini:{MODEL}"') as (sim, gemini):
        config = sim.repo / ".factory" / "config.toml"
        config.write_text(config.read_text().replace(str(gemini_binary()), str(tmp_path / "no-gemini")))
        ran = sim.cli("run", "Write the notes", "--no-interactive")
        assert ran.returncode == 2, ran.stdout + ran.stderr
        assert "gemini: " in ran.stderr and "was not found ([agents.gemini] binary)" in ran.stderr
        assert "npm install -g @google/gemini-cli@0.61.0" in ran.stderr
        assert not sim.claude.requests and not gemini.requests, "no model was asked anything"


def test_a_step_past_its_time_limit_is_killed_and_fails_saying_so(tmp_path: Path) -> None:
    slow = FaultsWhen(scripted_team(steps=1), _from_gemini_cli, Delay(60, reply_text("too late")))
    with _project(tmp_path, slow, f'"gemini:{MODEL}"', timeout=5) as (sim, _):
        started = time.monotonic()
        finished = plan_and_run(sim, attempts=1, env=_env())
        assert time.monotonic() - started < 40
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.FAILED
        assert "killed after the step's time limit of 5s ([agents.gemini] timeout)" in attempt.reason
        assert not _running_in(tmp_path / "worktrees"), "the CLI's process group was killed"
