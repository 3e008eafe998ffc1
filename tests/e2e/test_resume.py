"""`factory resume RUN`: a run stopped by a provider's limit, a budget or a kill -9 goes on to its end.

Everything is real: the `factory` command in subprocesses, git, the SQLite ledger, and the
simulated model's servers, whose requests show which steps an executor was asked to do.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from aifactory.testing.scenario import HttpError, SimRequest, call_tool
from aifactory.testing.scenarios import FaultsWhen
from aifactory.testing.team import scripted_team, step_of
from tests.sim import SimProject, sim_project
from tests.support import git


def _query(sim: SimProject, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(sim.repo / ".factory" / "ledger.db")) as db:
        return db.execute(sql).fetchall()


def _run_id(sim: SimProject) -> str:
    [(run_id,)] = _query(sim, "select id from runs")
    return str(run_id)


def _steps_on(sim: SimProject, run_id: str, attempt: str = "a1") -> list[tuple[str, str]]:
    """The branch's commits since the run's base, oldest first: (sha, subject)."""
    [(base,)] = _query(sim, f"select base_commit from runs where id = '{run_id}'")
    log = git(sim.repo, "log", "--reverse", "--format=%H %s", f"{base}..factory/{run_id}/{attempt}")
    return [(line[:40], line[41:]) for line in log.splitlines()]


def _executed(sim: SimProject, since: int = 0) -> list[int]:
    """The step of every executor request the Anthropic server got after the first `since` requests."""
    return [step_of(r.sim) for r in sim.claude.requests[since:] if r.sim.offers("step_done")]


def _after_cooldowns(sim: SimProject) -> None:
    """Sleep until every provider the ledger says is cooling down is back."""
    [(until,)] = _query(sim, "select max(until) from provider_events where kind = 'provider-cooled'")
    left = (datetime.fromisoformat(str(until)) - datetime.now(UTC)).total_seconds()
    time.sleep(max(left, 0) + 0.2)


def _wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _executor_step(number: int) -> Callable[[SimRequest], bool]:
    return lambda request: request.offers("step_done") and step_of(request) == number


def test_a_run_stopped_by_a_long_cooldown_is_resumed_after_it_and_passes(tmp_path: Path) -> None:
    limited = FaultsWhen(
        scripted_team(steps=3), _executor_step(2), HttpError(429, headers={"retry-after": "3"}), times=1
    )
    with sim_project(tmp_path, limited, run={"attempts": 1, "max_wait": 1}) as sim:
        ran = sim.cli("run", "Write the notes", "--no-interactive")
        run_id = _run_id(sim)
        assert ran.returncode == 1, ran.stdout + ran.stderr
        assert f"run `factory resume {run_id}` after the reset" in ran.stdout
        assert f"Resume: factory resume {run_id}" in ran.stdout
        [(state, reason)] = _query(sim, "select state, reason from attempts")
        assert state == "failed"
        assert "max_wait = 1s" in str(reason)
        assert f"`factory resume {run_id}`" in str(reason)
        assert [subject for _, subject in _steps_on(sim, run_id)] == ["step 1/3: Write note 1"]
        served = len(sim.claude.requests)

        _after_cooldowns(sim)
        resumed = sim.cli("resume", run_id)

        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert "1 attempt(s) passed" in resumed.stdout
        assert f"run {run_id} resumed at round 1: continuing a1" in resumed.stdout
        assert [subject for _, subject in _steps_on(sim, run_id)] == [
            "step 1/3: Write note 1",
            "step 2/3: Write note 2",
            "step 3/3: Write note 3",
        ]
        assert set(_executed(sim, served)) == {2, 3}, "step 1 was committed before: not done again"
        assert _query(sim, "select state from runs") == [("passed",)]
        assert _query(sim, "select round, continued, kept from resumes") == [(1, '["a1"]', "[]")]
        assert "resumed" in sim.cli("show", run_id).stdout
        assert "passed, resumed 1 time(s)" in sim.cli("status").stdout


def test_a_run_killed_mid_step_is_resumed_without_redoing_its_commits(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=6), latency=0.25, run={"attempts": 1}) as sim:
        planned = sim.cli("plan", "Write six notes", "--no-interactive")
        assert planned.returncode == 0, planned.stderr
        plan = next((sim.repo / "plans").glob("*-plan.md"))
        process = subprocess.Popen(
            [sys.executable, "-m", "aifactory", "--repo", str(sim.repo), "run", str(plan)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **sim.env},
        )
        try:
            _wait_for(lambda: bool(_query(sim, "select id from runs")))
            run_id = _run_id(sim)
            alive = sim.cli("resume", run_id)
            assert alive.returncode == 2, alive.stdout + alive.stderr
            assert f"run {run_id} is still running in process {process.pid}" in alive.stderr
            _wait_for(lambda: bool(_query(sim, "select 1 from attempts")) and bool(_steps_on(sim, run_id)))
        finally:
            process.kill()
            process.wait()
        before = _steps_on(sim, run_id)
        assert 1 <= len(before) < 6
        assert _query(sim, "select state from runs") == [("running",)], "a killed run records no end"
        assert "running (process gone)" in sim.cli("status").stdout
        served = len(sim.claude.requests)

        resumed = sim.cli("resume", run_id)

        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        after = _steps_on(sim, run_id)
        assert after[: len(before)] == before, "the commits made before the kill stay as they were"
        assert [subject for _, subject in after] == [f"step {k}/6: Write note {k}" for k in range(1, 7)]
        assert set(_executed(sim, served)) == set(range(len(before) + 1, 7))
        steps = _query(sim, "select idx, state, commit_sha from steps order by idx")
        assert steps == [(k, "committed", sha) for k, (sha, _) in enumerate(after, start=1)]


def test_a_budget_holds_across_a_resume_unless_the_resume_sets_a_new_one(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=2), run={"attempts": 1}) as sim:
        assert sim.cli("plan", "Write the notes", "--no-interactive").returncode == 0
        plan = next((sim.repo / "plans").glob("*-plan.md"))
        ran = sim.cli("run", str(plan), "--max-tokens", "1")
        assert ran.returncode == 1
        run_id = _run_id(sim)
        assert "budget reached: the run has used" in ran.stdout
        assert f"factory resume {run_id}" in ran.stdout
        [(spent,)] = _query(
            sim, "select sum(input_tokens + output_tokens) from model_calls where run_id is not null"
        )

        again = sim.cli("resume", run_id)
        assert again.returncode == 1
        assert f"the run has used {spent} of 1 tokens" in again.stdout, "what it spent before counts"

        more = sim.cli("resume", run_id, "--max-tokens", "1000000")
        assert more.returncode == 0, more.stdout + more.stderr
        assert _query(sim, "select max_tokens, state from runs") == [(1_000_000, "passed")]
        assert [subject for _, subject in _steps_on(sim, run_id)] == [
            "step 1/2: Write note 1",
            "step 2/2: Write note 2",
        ]


def test_resume_refuses_an_unknown_run_a_passed_run_and_a_run_with_nothing_left(tmp_path: Path) -> None:
    rejecting = scripted_team(steps=1).first(
        lambda request: request.offers("submit_plan_verdict") and "reject me" in request.prompt,
        call_tool("submit_plan_verdict", verdict="reject", summary="Not as planned."),
    )
    with sim_project(tmp_path, rejecting, run={"attempts": 1}) as sim:
        unknown = sim.cli("resume", "no-such-run")
        assert unknown.returncode == 2
        assert "no run matches 'no-such-run'; run `factory status` to list recent runs" in unknown.stderr

        assert sim.cli("run", "Write the notes", "--no-interactive").returncode == 0
        passed = _run_id(sim)
        refused = sim.cli("resume", passed)
        assert refused.returncode == 2
        assert f"run {passed} passed: there is nothing to resume" in refused.stderr

        ran = sim.cli("run", "Write the notes, reject me", "--no-interactive", "--rounds", "1")
        assert ran.returncode == 1, ran.stdout + ran.stderr
        [(rejected,)] = _query(sim, f"select id from runs where id != '{passed}'")
        nothing = sim.cli("resume", str(rejected))
        assert nothing.returncode == 2
        assert "has nothing to resume: every attempt of its round 1 has its verdict" in nothing.stderr
        assert "Traceback" not in unknown.stderr + refused.stderr + nothing.stderr
