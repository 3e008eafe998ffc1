"""Attempts: one commit per step, verified, concurrent without git errors, failing alone."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from aifactory.domain.events import AttemptPlanned, Event, StepFinished
from aifactory.domain.run import AttemptState, RunState, StepState
from aifactory.testing import Delay, DropStream, FaultsWhen, HttpError, SimRequest
from aifactory.testing.team import scripted_team, step_file
from tests.engine.runs import plan_and_run
from tests.sim import sim_project
from tests.support import git


class _Recording(list[Event]):
    """An event list that also runs a check on each event as it arrives."""

    def __init__(self, check: Callable[[Event], None]) -> None:
        super().__init__()
        self._check = check

    def append(self, event: Event) -> None:
        self._check(event)
        super().append(event)


def _executor_of(attempt: str):
    def matches(request: SimRequest) -> bool:
        return request.offers("step_done") and f"(Attempt {attempt} on branch" in request.prompt

    return matches


def test_twelve_attempts_of_five_steps_at_once_commit_every_step_without_git_errors(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=5), run={"max_parallel": 12}) as sim:
        finished = plan_and_run(sim, attempts=12)
    assert finished.outcome.state is RunState.PASSED
    assert len(finished.outcome.ranking) == 12
    for attempt in finished.detail.attempts:
        assert attempt.state is AttemptState.PASSED, attempt.reason
        commits = [step.commit for step in attempt.steps]
        assert all(commits) and len(commits) == 5
        log = git(sim.repo, "rev-list", f"main..{attempt.branch}").split()
        assert log[::-1] == commits
        assert (
            git(sim.repo, "show", f"{attempt.branch}:{step_file(5)}") == f"note 5 written by {attempt.name}\n"
        )
    reasons = " ".join(e.reason for e in sim.events if isinstance(e, StepFinished))
    assert "lock" not in reasons and "commondir" not in reasons


def test_a_provider_that_keeps_failing_fails_its_attempt_with_the_reason_and_the_others_pass(
    tmp_path: Path,
) -> None:
    scenario = FaultsWhen(scripted_team(steps=2), _executor_of("a2"), HttpError(500))
    with sim_project(tmp_path, scenario) as sim:
        finished = plan_and_run(sim, attempts=3)
    states = {a.name: a.state for a in finished.detail.attempts}
    assert states == {"a1": AttemptState.PASSED, "a2": AttemptState.FAILED, "a3": AttemptState.PASSED}
    failed = next(a for a in finished.detail.attempts if a.name == "a2")
    assert "step 1 (Write note 1) failed" in failed.reason
    assert "failed 3 time(s) in a row, last: HTTP 500" in failed.reason
    assert failed.steps[0].state is StepState.FAILED
    assert finished.outcome.state is RunState.PASSED


def test_a_stream_dropped_mid_answer_is_retried_and_the_step_goes_on(tmp_path: Path) -> None:
    scenario = FaultsWhen(scripted_team(steps=2), _executor_of("a1"), DropStream(after_events=2), times=2)
    with sim_project(tmp_path, scenario) as sim:
        finished = plan_and_run(sim, attempts=1)
    assert finished.detail.attempts[0].state is AttemptState.PASSED
    errors = [e for e in sim.events if getattr(e, "error", None)]
    assert len(errors) == 2
    assert all("ModelConnectionError" in e.error for e in errors)


def test_a_provider_slower_than_its_timeout_fails_the_attempt_after_bounded_retries(tmp_path: Path) -> None:
    scenario = FaultsWhen(scripted_team(steps=1), _executor_of("a1"), Delay(2.0))
    with sim_project(tmp_path, scenario, timeout=0.3) as sim:
        finished = plan_and_run(sim, attempts=2)
    states = {a.name: a.state for a in finished.detail.attempts}
    assert states == {"a1": AttemptState.FAILED, "a2": AttemptState.PASSED}
    assert "failed 3 time(s) in a row" in finished.detail.attempts[0].reason
    assert "Timeout" in finished.detail.attempts[0].reason


def test_worktrees_and_branches_are_in_the_ledger_before_they_exist(tmp_path: Path) -> None:
    seen: list[tuple[bool, bool, bool]] = []
    with sim_project(tmp_path, scripted_team(steps=1)) as sim:
        ledger = sim.repo / ".factory" / "ledger.db"

        def check(event: Event) -> None:
            if isinstance(event, AttemptPlanned):
                with sqlite3.connect(ledger) as db:
                    row = db.execute(
                        "select branch, worktree from attempts where run_id = ? and name = ?",
                        (event.run_id, event.attempt),
                    ).fetchone()
                exists = git(sim.repo, "branch", "--list", event.branch).strip() != ""
                seen.append((row == (event.branch, event.worktree), Path(event.worktree).exists(), exists))

        sim.events = _Recording(check)
        plan_and_run(sim, attempts=2)
    assert seen == [(True, False, False), (True, False, False)]
