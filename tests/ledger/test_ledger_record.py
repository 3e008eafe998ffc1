"""The writer's contract: events in the engine's order, resumes, explicit marks, and read-only reads."""

import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from aifactory.domain.events import (
    AgentToolCalled,
    AttemptChanged,
    AttemptPlanned,
    RunFinished,
    RunResumed,
    StepFinished,
    StepStarted,
)
from aifactory.domain.run import AttemptState, RunState, StepState
from aifactory.errors import NotFoundError, UserError
from aifactory.ledger.queries import list_runs, run_detail
from aifactory.ledger.store import Ledger

StartRun = Callable[..., None]
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _change(attempt: str, state: AttemptState, minutes: int) -> AttemptChanged:
    return AttemptChanged(at=T0 + timedelta(minutes=minutes), run_id="r", attempt=attempt, state=state)


def test_an_attempt_starts_when_it_leaves_pending_and_finishes_in_a_final_state(
    ledger: Ledger, start_run: StartRun
) -> None:
    start_run("r", "a1")
    ledger.record(_change("a1", AttemptState.PENDING, 0))
    ledger.record(_change("a1", AttemptState.EXECUTING, 1))
    ledger.record(_change("a1", AttemptState.VERIFYING, 2))
    attempt = run_detail(ledger, "r").attempts[0]
    assert (attempt.state, attempt.started_at, attempt.finished_at) == (
        AttemptState.VERIFYING,
        T0 + timedelta(minutes=1),
        None,
    )
    assert attempt.elapsed is not None
    assert attempt.elapsed > timedelta(minutes=1)
    ledger.record(_change("a1", AttemptState.FAILED, 5))
    attempt = run_detail(ledger, "r").attempts[0]
    assert (attempt.finished_at, attempt.elapsed) == (T0 + timedelta(minutes=5), timedelta(minutes=4))


def test_timestamps_from_other_zones_are_stored_as_utc_text(
    ledger: Ledger, start_run: StartRun, ledger_path: Path
) -> None:
    start_run("r", "a1")
    in_paris = T0.astimezone(timezone(timedelta(hours=1)))
    ledger.record(AttemptChanged(at=in_paris, run_id="r", attempt="a1", state=AttemptState.EXECUTING))
    with sqlite3.connect(ledger_path) as conn:
        assert conn.execute("SELECT started_at FROM attempts").fetchone() == (
            "2026-03-01T12:00:00.000000+00:00",
        )


def test_events_for_an_unknown_attempt_or_run_are_refused_and_leave_nothing(
    ledger: Ledger, start_run: StartRun
) -> None:
    start_run("r", "a1")
    with pytest.raises(
        ValueError, match="attempt-changed for unknown attempt r/a9: the engine must emit attempt"
    ):
        ledger.record(_change("a9", AttemptState.EXECUTING, 1))
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        ledger.record(StepStarted(run_id="r", attempt="a9", index=1, total=1, title="t"))
    with pytest.raises(ValueError, match="run-finished for unknown run nope"):
        ledger.record(RunFinished(run_id="nope", state=RunState.FAILED))
    detail = run_detail(ledger, "r")
    assert [(a.name, a.steps) for a in detail.attempts] == [("a1", ())]
    assert detail.state is RunState.RUNNING


def test_a_retried_step_forgets_the_outcome_of_its_earlier_try(ledger: Ledger, start_run: StartRun) -> None:
    start_run("r", "a1")
    ledger.record(StepStarted(run_id="r", attempt="a1", index=1, total=1, title="Write it"))
    ledger.record(
        StepFinished(run_id="r", attempt="a1", index=1, state=StepState.FAILED, reason="turn limit")
    )
    ledger.record(StepStarted(run_id="r", attempt="a1", index=1, total=1, title="Write it"))
    (step,) = run_detail(ledger, "r").attempts[0].steps
    assert (step.state, step.reason, step.finished_at) == (StepState.RUNNING, "", None)


def test_a_step_lists_who_carried_it_out_and_every_tool_call_its_agents_made(
    ledger: Ledger, start_run: StartRun
) -> None:
    start_run("r", "a1", "a2")
    ledger.record(StepStarted(run_id="r", attempt="a1", index=1, total=1, title="Write it"))
    called = {"run_id": "r", "attempt": "a1", "step": 1}
    ledger.record(AgentToolCalled(**called, agent="claude-code", tool="Bash", target="pytest", ok=False))
    ledger.record(AgentToolCalled(**called, agent="sim", tool="write_file", target="notes/a.txt"))
    ledger.record(AgentToolCalled(run_id="r", attempt="a2", step=1, agent="sim", tool="read_file"))
    ledger.record(
        StepFinished(
            run_id="r",
            attempt="a1",
            index=1,
            state=StepState.COMMITTED,
            commit="c1",
            tool_calls=1,
            executor="sim:claude-sonnet-5-5",
        )
    )
    (step,) = run_detail(ledger, "r").attempts[0].steps
    assert step.executor == "sim:claude-sonnet-5-5"
    assert [(t.agent, t.tool, t.target, t.ok) for t in step.tools] == [
        ("claude-code", "Bash", "pytest", False),
        ("sim", "write_file", "notes/a.txt", True),
    ], "the try the limit cut short stays on record, in order"


def test_a_resumed_run_is_running_again_and_its_replanned_attempts_pending(
    ledger: Ledger, start_run: StartRun
) -> None:
    start_run("r", "a1")
    ledger.record(_change("a1", AttemptState.EXECUTING, 1))
    ledger.record(_change("a1", AttemptState.INTERRUPTED, 2))
    ledger.mark_cleaned("r", "a1")
    ledger.record(RunFinished(run_id="r", state=RunState.INTERRUPTED, reason="Ctrl-C"))
    start_run("r")
    ledger.record(AttemptPlanned(run_id="r", attempt="a1", branch="factory/r/a1", worktree="/wt/new-a1"))
    run = run_detail(ledger, "r")
    assert (run.state, run.reason, run.finished_at) == (RunState.RUNNING, "", None)
    (attempt,) = run.attempts
    assert (attempt.state, attempt.worktree, attempt.cleaned, attempt.finished_at) == (
        AttemptState.PENDING,
        "/wt/new-a1",
        False,
        None,
    )
    assert attempt.started_at == T0 + timedelta(minutes=1)


def test_a_resume_is_recorded_with_its_round_its_attempts_and_the_budget_from_then_on(
    ledger: Ledger, start_run: StartRun
) -> None:
    start_run("r", "a1", "a2")
    ledger.record(RunFinished(run_id="r", state=RunState.FAILED, reason="a1 stopped"))
    ledger.record(
        RunResumed(
            at=T0,
            run_id="r",
            round=1,
            continued=("a1",),
            kept=("a2",),
            max_cost=Decimal("2.50"),
            max_tokens=9000,
        )
    )
    run = run_detail(ledger, "r")
    assert (run.state, run.reason, run.finished_at) == (RunState.RUNNING, "", None)
    assert (run.max_cost, run.max_tokens) == (Decimal("2.50"), 9000)
    [resumed] = run.resumes
    assert (resumed.round, resumed.continued, resumed.kept, resumed.at) == (1, ("a1",), ("a2",), T0)
    assert (resumed.pid, resumed.host) == (os.getpid(), ledger.host)
    assert list_runs(ledger)[0].resumes == 1
    with pytest.raises(ValueError, match="run-resumed for unknown run nope"):
        ledger.record(RunResumed(run_id="nope", round=1, continued=("a1",)))


def test_marks_are_recorded_and_an_unknown_attempt_names_the_known_ones(
    ledger: Ledger, start_run: StartRun
) -> None:
    start_run("r", "a1", "a2")
    ledger.mark_kept("r", "a2")
    ledger.mark_cleaned("r", "a1")
    assert [(a.name, a.kept, a.cleaned) for a in run_detail(ledger, "r").attempts] == [
        ("a1", False, True),
        ("a2", True, False),
    ]
    with pytest.raises(NotFoundError, match="run r has no attempt 'a7'; its attempts: a1, a2"):
        ledger.mark_kept("r", "a7")
    with pytest.raises(NotFoundError, match="none; run `factory status` to list runs"):
        ledger.mark_cleaned("nope", "a1")


def test_reads_cannot_write(ledger: Ledger, start_run: StartRun) -> None:
    start_run("r")
    with pytest.raises(sqlite3.OperationalError, match="readonly"), ledger.snapshot() as db:
        db.rows("DELETE FROM runs")
    ledger.record(RunFinished(run_id="r", state=RunState.PASSED))
    assert list_runs(ledger)[0].state is RunState.PASSED


def test_a_file_that_is_not_a_ledger_is_refused_with_the_fix(ledger_path: Path) -> None:
    ledger_path.parent.mkdir(parents=True)
    ledger_path.write_text("notes, not a database\n" * 200)
    with pytest.raises(UserError, match=r"is not a readable ledger .*move it aside"):
        Ledger.open(ledger_path)
