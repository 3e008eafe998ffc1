"""The real Aider as the executor, headless against the fake OpenAI server: whole runs."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from aifactory.domain.events import ProviderCooled, ProviderSwitched
from aifactory.domain.run import AttemptState, StepState
from aifactory.testing.scenario import Delay, HttpError, reply_text
from aifactory.testing.scenarios import FaultsWhen
from aifactory.testing.team import asked_by_aider, scripted_team, step_file
from tests.agents.aider_cli import agent_table, aider_binary
from tests.agents.test_claude_code_cli import _running_in
from tests.engine.runs import plan_and_run
from tests.sim import KEY, KEY_VARIABLE, SimProject, sim_project
from tests.support import git

MODEL = "openai/gpt-6.1-sol"


def _executor(
    sim: SimProject, choices: str, *, edit_format: str = "whole", retries: int = 0, timeout: float = 120
) -> None:
    """Give the executor `choices` and an `aider` agent that runs the real Aider against the fake."""
    config = sim.repo / ".factory" / "config.toml"
    text = config.read_text(encoding="utf-8").replace(
        '[roles.executor]\nmodel = "sim:claude-sonnet-5-5"', f"[roles.executor]\nmodel = {choices}"
    )
    table = agent_table(
        "aider",
        sim.gpt.base_url,
        binary=aider_binary(),
        edit_format=edit_format,
        retries=retries,
        timeout=timeout,
    )
    config.write_text(text + table, encoding="utf-8")


def _env() -> dict[str, str]:
    """The developer's environment, the roles' key, Aider's key, and a secret Aider must not see."""
    return {
        **os.environ,
        KEY_VARIABLE: KEY,
        "OPENAI_API_KEY": "sk-openai-for-aider",
        "ANTHROPIC_API_KEY": "sk-ant-never-passed",
    }


def _rows(sim: SimProject, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(sim.repo / ".factory" / "ledger.db") as db:
        return db.execute(sql).fetchall()


def _aider_requests(sim: SimProject) -> list[str]:
    return [r.headers.get("authorization", "") for r in sim.gpt.requests if asked_by_aider(r.sim)]


def test_aider_writes_whole_files_and_the_factory_commits_each_step(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=2), run={"attempts": 1}) as sim:
        _executor(sim, f'"aider:{MODEL}"')
        finished = plan_and_run(sim, attempts=1, env=_env())
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.PASSED, attempt.reason
        assert [step.state for step in attempt.steps] == [StepState.COMMITTED, StepState.COMMITTED]
        branch = f"factory/{finished.outcome.run_id}/a1"
        assert git(sim.repo, "show", f"{branch}:{step_file(2)}") == "note 2 written by a1\n"
        log = git(sim.repo, "log", "--format=%an|%B", f"{branch}~1..{branch}")
        assert log.startswith("aifactory|step 2/2: Write note 2\n\nWrote notes/step-2.txt.")
        assert f"Factory-Executor: aider:{MODEL}" in log
        changed = git(sim.repo, "show", "--name-only", "--format=", branch).split()
        assert changed == [step_file(2)], "Aider's caches and histories stay out of the commit"
        assert set(_aider_requests(sim)) == {"Bearer sk-openai-for-aider"}
        calls = _rows(
            sim,
            "select step, model, input_tokens, output_tokens, error from model_calls "
            "where provider = 'aider' and role = 'executor' order by step",
        )
        assert [(step, model) for step, model, *_ in calls] == [(1, MODEL), (2, MODEL)]
        assert all(sent and received and error is None for _, _, sent, received, error in calls)


def test_aider_applies_a_search_replace_reply(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=1), run={"attempts": 1}) as sim:
        _executor(sim, f'"aider:{MODEL}"', edit_format="diff")
        finished = plan_and_run(sim, attempts=1, env=_env())
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.PASSED, attempt.reason
        branch = f"factory/{finished.outcome.run_id}/a1"
        assert git(sim.repo, "show", f"{branch}:{step_file(1)}") == "note 1 written by a1\n"


def test_a_rate_limit_hands_the_step_to_the_next_choice_and_the_run_finishes(tmp_path: Path) -> None:
    scenario = FaultsWhen(scripted_team(steps=2), asked_by_aider, HttpError(429))
    with sim_project(tmp_path, scenario, run={"attempts": 1}) as sim:
        _executor(sim, f'["aider:{MODEL}", "sim:claude-sonnet-5-5"]', retries=1)
        finished = plan_and_run(sim, attempts=1, env=_env())
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.PASSED, attempt.reason
        branch = f"factory/{finished.outcome.run_id}/a1"
        assert git(sim.repo, "show", f"{branch}:{step_file(1)}") == "note 1 written by a1\n"
        assert "Factory-Executor: sim:claude-sonnet-5-5" in git(sim.repo, "log", "-1", "--format=%B", branch)
        [cooled] = [e for e in sim.events if isinstance(e, ProviderCooled)]
        assert (cooled.provider, cooled.step) == ("aider", 1)
        assert "RateLimitError" in cooled.reason and "after 1 retries of its own" in cooled.reason
        switched = [
            (e.from_provider, e.to_provider, e.step) for e in sim.events if isinstance(e, ProviderSwitched)
        ]
        assert switched == [("aider", "sim", 1), ("aider", "sim", 2)]
        assert len(_aider_requests(sim)) <= 6, "the factory stopped Aider's minute of retries"
        executed = _rows(
            sim, "select distinct provider from model_calls where role = 'executor' and error is null"
        )
        assert executed == [("sim",)]


def test_a_missing_aider_stops_the_run_before_any_work_naming_the_install_command(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=1), run={"attempts": 1}) as sim:
        _executor(sim, f'"aider:{MODEL}"')
        config = sim.repo / ".factory" / "config.toml"
        config.write_text(config.read_text().replace(str(aider_binary()), str(tmp_path / "no-aider")))
        ran = sim.cli("run", "Write the notes", "--no-interactive")
        assert ran.returncode == 2, ran.stdout + ran.stderr
        assert "aider: " in ran.stderr and "was not found ([agents.aider] binary)" in ran.stderr
        assert "pipx install aider-chat==" in ran.stderr
        assert not sim.claude.requests and not sim.gpt.requests, "no model was asked anything"


def test_a_step_past_its_time_limit_is_killed_and_fails_saying_so(tmp_path: Path) -> None:
    slow = FaultsWhen(scripted_team(steps=1), asked_by_aider, Delay(60, reply_text("too late")))
    with sim_project(tmp_path, slow, run={"attempts": 1}) as sim:
        _executor(sim, f'"aider:{MODEL}"', timeout=8)
        started = time.monotonic()
        finished = plan_and_run(sim, attempts=1, env=_env())
        assert time.monotonic() - started < 40
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.FAILED
        assert "killed after the step's time limit of 8s ([agents.aider] timeout)" in attempt.reason
        assert not _running_in(tmp_path / "worktrees"), "Aider's process group was killed"
