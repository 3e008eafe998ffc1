"""A realistic run replayed into the ledger reads back as the read models people see."""

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from aifactory.domain.events import (
    AttemptChanged,
    AttemptPlanned,
    Event,
    ModelCalled,
    RunFinished,
    RunStarted,
    StepFinished,
    StepStarted,
    VerdictReached,
)
from aifactory.domain.run import AttemptState, Role, RunState, StepState
from aifactory.domain.usage import Usage
from aifactory.domain.verdict import Finding, Severity, Verdict
from aifactory.ledger.queries import list_runs, run_detail, usage_by_role
from aifactory.ledger.store import Ledger

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
RUN = "add-report-1a2b"
WARNING = Finding(
    severity=Severity.WARNING, file="report.py", line=3, what="Long function", why="hard to read"
)
BLOCKER = Finding(
    severity=Severity.ERROR, file="api.py", line=12, what="Kept a legacy shim", why="ask said drop it"
)
PLAN_CHECKED = Verdict(source="plan-verifier", passed=True, summary="follows the plan", findings=(WARNING,))
ASK_CHECKED = Verdict(source="ask-verifier", passed=True, summary="does what was asked")
ASK_REJECTED = Verdict(source="ask-verifier", passed=False, summary="keeps old API", findings=(BLOCKER,))


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def call(
    seconds: int,
    role: Role,
    tokens: int,
    cost: str | None,
    *,
    attempt: str | None = None,
    step: int | None = None,
    error: str | None = None,
) -> ModelCalled:
    usage = Usage(
        input_tokens=tokens, output_tokens=tokens // 10, cost=None if cost is None else Decimal(cost)
    )
    return ModelCalled(
        at=at(seconds),
        run_id=RUN,
        attempt=attempt,
        step=step,
        role=role,
        provider="anthropic",
        model="claude",
        usage=usage,
        latency_ms=900,
        error=error,
    )


def changed(seconds: int, attempt: str, state: AttemptState, reason: str = "") -> AttemptChanged:
    return AttemptChanged(at=at(seconds), run_id=RUN, attempt=attempt, state=state, reason=reason)


def step(seconds: int, attempt: str, index: int, commit: str) -> list[Event]:
    return [
        StepStarted(at=at(seconds), run_id=RUN, attempt=attempt, index=index, total=2, title=f"Step {index}"),
        call(seconds + 1, Role.EXECUTOR, 1000, "0.10", attempt=attempt, step=index),
        StepFinished(
            at=at(seconds + 2),
            run_id=RUN,
            attempt=attempt,
            index=index,
            state=StepState.COMMITTED,
            commit=commit,
            summary=f"did {index}",
        ),
    ]


def a_run_with_two_attempts() -> list[Event]:
    """Planning calls (which precede the run's record), a1 passes after a failed call, a2 is rejected."""
    return [
        call(0, Role.PLANNER, 5000, "0.50"),
        call(1, Role.PLAN_REVIEWER, 2000, "0.20"),
        RunStarted(
            at=at(2),
            run_id=RUN,
            title="Add a report",
            ask="Add a monthly report",
            plan_path="plans/add-report-plan.md",
            repo="/repo",
            base_commit="abc123",
            attempts=2,
            steps=2,
        ),
        AttemptPlanned(at=at(3), run_id=RUN, attempt="a1", branch=f"factory/{RUN}/a1", worktree="/wt/a1"),
        AttemptPlanned(at=at(3), run_id=RUN, attempt="a2", branch=f"factory/{RUN}/a2", worktree="/wt/a2"),
        changed(10, "a1", AttemptState.EXECUTING),
        *step(11, "a1", 1, "c1"),
        call(20, Role.EXECUTOR, 0, None, attempt="a1", step=2, error="429 rate limited"),
        *step(21, "a1", 2, "c2"),
        changed(30, "a1", AttemptState.VERIFYING),
        call(31, Role.PLAN_VERIFIER, 3000, "0.30", attempt="a1"),
        VerdictReached(at=at(32), run_id=RUN, attempt="a1", verdict=PLAN_CHECKED),
        call(33, Role.ASK_VERIFIER, 3000, None, attempt="a1"),
        VerdictReached(at=at(34), run_id=RUN, attempt="a1", verdict=ASK_CHECKED),
        changed(40, "a1", AttemptState.PASSED),
        changed(50, "a2", AttemptState.EXECUTING),
        *step(51, "a2", 1, "d1"),
        changed(60, "a2", AttemptState.VERIFYING),
        VerdictReached(at=at(61), run_id=RUN, attempt="a2", verdict=ASK_REJECTED),
        changed(65, "a2", AttemptState.REJECTED, "ask-verifier: keeps old API"),
        RunFinished(at=at(70), run_id=RUN, state=RunState.PASSED, reason="a1 passed"),
    ]


@pytest.fixture
def replayed(ledger: Ledger) -> Ledger:
    for event in a_run_with_two_attempts():
        ledger.record(event)
    return ledger


def test_the_run_reads_back_with_its_outcome_and_every_call_that_carries_its_id(replayed: Ledger) -> None:
    run = run_detail(replayed, RUN)
    assert (run.state, run.reason, run.stale) == (RunState.PASSED, "a1 passed", False)
    assert (run.planned_attempts, run.planned_steps, run.base_commit) == (2, 2, "abc123")
    assert (run.started_at, run.finished_at) == (at(2), at(70))
    assert run.model_calls == 8
    assert run.usage == Usage(input_tokens=16000, output_tokens=1600, cost=Decimal("1.30"))


def test_attempts_read_back_with_state_steps_verdicts_and_usage(replayed: Ledger) -> None:
    first, second = run_detail(replayed, RUN).attempts
    assert (first.name, first.branch, first.worktree) == ("a1", f"factory/{RUN}/a1", "/wt/a1")
    assert (first.state, first.started_at, first.finished_at) == (AttemptState.PASSED, at(10), at(40))
    assert first.elapsed == timedelta(seconds=30)
    assert [(s.index, s.title, s.state, s.commit, s.summary) for s in first.steps] == [
        (1, "Step 1", StepState.COMMITTED, "c1", "did 1"),
        (2, "Step 2", StepState.COMMITTED, "c2", "did 2"),
    ]
    assert (first.steps[0].started_at, first.steps[0].finished_at) == (at(11), at(13))
    assert first.verdicts == (PLAN_CHECKED, ASK_CHECKED)
    assert first.model_calls == 5
    assert first.usage == Usage(input_tokens=8000, output_tokens=800, cost=Decimal("0.50"))
    assert (second.state, second.reason) == (AttemptState.REJECTED, "ask-verifier: keeps old API")
    assert second.verdicts == (ASK_REJECTED,)
    assert second.verdicts[0].findings[0].location == "api.py:12"
    assert (second.kept, second.cleaned) == (False, False)


def test_a_failed_call_is_recorded_with_its_error_and_counts_as_a_call(
    replayed: Ledger, ledger_path: Path
) -> None:
    with sqlite3.connect(ledger_path) as conn:
        errors = conn.execute("SELECT attempt, step, error, cost FROM model_calls WHERE error IS NOT NULL")
        assert errors.fetchall() == [("a1", 2, "429 rate limited", None)]


def test_usage_by_role_splits_the_run_cost_between_planning_execution_and_verification(
    replayed: Ledger,
) -> None:
    assert usage_by_role(replayed, RUN) == {
        Role.PLANNER: Usage(input_tokens=5000, output_tokens=500, cost=Decimal("0.50")),
        Role.PLAN_REVIEWER: Usage(input_tokens=2000, output_tokens=200, cost=Decimal("0.20")),
        Role.EXECUTOR: Usage(input_tokens=3000, output_tokens=300, cost=Decimal("0.30")),
        Role.PLAN_VERIFIER: Usage(input_tokens=3000, output_tokens=300, cost=Decimal("0.30")),
        Role.ASK_VERIFIER: Usage(input_tokens=3000, output_tokens=300, cost=None),
    }


def test_the_run_summary_counts_passed_attempts_and_totals_usage(replayed: Ledger) -> None:
    (summary,) = list_runs(replayed)
    assert (summary.id, summary.title, summary.state, summary.stale) == (
        RUN,
        "Add a report",
        RunState.PASSED,
        False,
    )
    assert (summary.attempts, summary.passed) == (2, 1)
    assert summary.usage == run_detail(replayed, RUN).usage
