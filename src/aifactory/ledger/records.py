"""How each event becomes rows: one function per event kind, called inside the ledger's transaction.

The run's own events are written here; an attempt's, in `attempt_records.py`.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import assert_never

from aifactory.domain.events import (
    Event,
    LessonNoted,
    PlanWritten,
    PoolWaiting,
    ProviderCooled,
    ProviderSwitched,
    RoundFinished,
    RoundStarted,
    RunFinished,
    RunResumed,
    RunStarted,
    SmallAgentRan,
    WorkflowFinished,
    WorkflowStarted,
    WorkflowStepChanged,
)
from aifactory.ledger.attempt_records import write_attempt_event
from aifactory.ledger.columns import require_one, timestamp
from aifactory.ledger.workflow_records import write_workflow_event


@dataclass(frozen=True)
class Owner:
    """The process that records a run, so `factory status` can tell a live run from a dead one."""

    pid: int
    host: str


def write_event(db: sqlite3.Connection, event: Event, *, owner: Owner) -> None:
    match event:
        case RunStarted():
            _run_started(db, event, owner)
        case RunResumed():
            _run_resumed(db, event, owner)
        case SmallAgentRan():
            _small_agent_ran(db, event)
        case ProviderCooled() | ProviderSwitched() | PoolWaiting():
            _provider_event(db, event)
        case PlanWritten() | RoundStarted() | RoundFinished() | LessonNoted() | RunFinished():
            _write_run_event(db, event)
        case WorkflowStarted() | WorkflowStepChanged() | WorkflowFinished():
            write_workflow_event(db, event, pid=owner.pid, host=owner.host)
        case _:
            write_attempt_event(db, event)


def _write_run_event(
    db: sqlite3.Connection, event: PlanWritten | RoundStarted | RoundFinished | LessonNoted | RunFinished
) -> None:
    match event:
        case PlanWritten():
            _plan_written(db, event)
        case RoundStarted():
            _round_started(db, event)
        case RoundFinished():
            _round_finished(db, event)
        case LessonNoted():
            _lesson_noted(db, event)
        case RunFinished():
            _run_finished(db, event)
        case _:
            assert_never(event)


def _provider_event(db: sqlite3.Connection, event: ProviderCooled | ProviderSwitched | PoolWaiting) -> None:
    """Cooldowns, switches and waits in one table: the pool reads cooldowns back from it."""
    other: str | None = None
    until: str | None = None
    match event:
        case ProviderCooled():
            provider, until, reason = event.provider, timestamp(event.until), event.reason
        case ProviderSwitched():
            provider, other, reason = event.from_provider, event.to_provider, event.reason
        case PoolWaiting():
            provider, other, until, reason = (
                "*",
                None,
                timestamp(event.until),
                "every choice is cooling down",
            )
        case _:
            assert_never(event)
    db.execute(
        """
        INSERT INTO provider_events (kind, provider, other, role, until, reason, run_id, attempt, step, at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            event.kind,
            provider,
            other,
            event.role.value,
            until,
            reason,
            event.run_id,
            event.attempt,
            event.step,
            timestamp(event.at),
        ),
    )


def _run_started(db: sqlite3.Connection, event: RunStarted, owner: Owner) -> None:
    """A run started again under its id belongs to this process from now on."""
    db.execute(
        """
        INSERT INTO runs (id, title, ask, plan_path, repo, base_commit, attempts, steps, rounds, state, pid,
                          host, started_at, max_cost, max_tokens, learning)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET
            state = 'running', reason = '', finished_at = NULL, pid = excluded.pid, host = excluded.host
        """,
        (
            event.run_id,
            event.title,
            event.ask,
            event.plan_path,
            event.repo,
            event.base_commit,
            event.attempts,
            event.steps,
            event.rounds,
            owner.pid,
            owner.host,
            timestamp(event.at),
            None if event.max_cost is None else str(event.max_cost),
            event.max_tokens,
            event.learning,
        ),
    )


def _run_resumed(db: sqlite3.Connection, event: RunResumed, owner: Owner) -> None:
    """A resumed run is running again, in this process, under the budget the resume set."""
    updated = db.execute(
        """
        UPDATE runs SET state = 'running', reason = '', finished_at = NULL, pid = ?, host = ?,
            max_cost = ?, max_tokens = ?
        WHERE id = ?
        """,
        (
            owner.pid,
            owner.host,
            None if event.max_cost is None else str(event.max_cost),
            event.max_tokens,
            event.run_id,
        ),
    )
    require_one(updated, event.kind, f"run {event.run_id}", "run-started")
    db.execute(
        "INSERT INTO resumes (run_id, round, continued, kept, pid, host, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            event.run_id,
            event.round,
            json.dumps(list(event.continued)),
            json.dumps(list(event.kept)),
            owner.pid,
            owner.host,
            timestamp(event.at),
        ),
    )


def _plan_written(db: sqlite3.Connection, event: PlanWritten) -> None:
    db.execute(
        """
        INSERT INTO plans (path, title, ask, blueprint, task_kind, lessons, at) VALUES (?, ?, ?, ?, ?, ?, ?)
        """,
        (
            event.path,
            event.title,
            event.ask,
            event.blueprint,
            None if event.task_kind is None else event.task_kind.value,
            json.dumps(list(event.lessons)),
            timestamp(event.at),
        ),
    )


def _round_started(db: sqlite3.Connection, event: RoundStarted) -> None:
    db.execute(
        """
        INSERT INTO rounds (run_id, round, blueprint, plan_path, lessons, started_at)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (run_id, round) DO UPDATE SET
            blueprint = excluded.blueprint, plan_path = excluded.plan_path, lessons = excluded.lessons,
            passed = NULL, reason = '', started_at = excluded.started_at, finished_at = NULL
        """,
        (
            event.run_id,
            event.round,
            event.blueprint,
            event.plan_path,
            json.dumps(list(event.lessons)),
            timestamp(event.at),
        ),
    )


def _round_finished(db: sqlite3.Connection, event: RoundFinished) -> None:
    updated = db.execute(
        "UPDATE rounds SET passed = ?, reason = ?, finished_at = ? WHERE run_id = ? AND round = ?",
        (event.passed, event.reason, timestamp(event.at), event.run_id, event.round),
    )
    require_one(updated, event.kind, f"round {event.run_id}/{event.round}", "round-started")


def _lesson_noted(db: sqlite3.Connection, event: LessonNoted) -> None:
    db.execute(
        """
        INSERT INTO lesson_events (lesson, activity, run_id, round, attempt, blueprint, detail, at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            event.lesson,
            event.activity.value,
            event.run_id,
            event.round,
            event.attempt,
            event.blueprint,
            event.detail,
            timestamp(event.at),
        ),
    )


def _run_finished(db: sqlite3.Connection, event: RunFinished) -> None:
    updated = db.execute(
        "UPDATE runs SET state = ?, reason = ?, finished_at = ? WHERE id = ?",
        (event.state.value, event.reason, timestamp(event.at), event.run_id),
    )
    require_one(updated, event.kind, f"run {event.run_id}", "run-started")


def _small_agent_ran(db: sqlite3.Connection, event: SmallAgentRan) -> None:
    """No foreign keys: an agent run on files belongs to no run of the `runs` table."""
    db.execute(
        """
        INSERT INTO small_agent_runs
            (run_id, attempt, agent, branch, commit_sha, dropped, summary, report, at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            event.run_id,
            event.attempt,
            event.agent,
            event.branch,
            event.commit,
            event.dropped,
            event.summary,
            json.dumps(list(event.report)),
            timestamp(event.at),
        ),
    )
