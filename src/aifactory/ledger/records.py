"""How each event becomes rows: one function per event kind, called inside the ledger's transaction."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import assert_never

from aifactory.domain.events import (
    AttemptChanged,
    AttemptPlanned,
    Event,
    LessonNoted,
    ModelCalled,
    PlanWritten,
    PoolWaiting,
    ProviderCooled,
    ProviderSwitched,
    RoundFinished,
    RoundStarted,
    RunFinished,
    RunStarted,
    StepFinished,
    StepStarted,
    VerdictReached,
)
from aifactory.domain.run import AttemptState


@dataclass(frozen=True)
class Owner:
    """The process that records a run, so `factory status` can tell a live run from a dead one."""

    pid: int
    host: str


def _timestamp(at: datetime) -> str:
    """ISO-8601 in UTC with fixed-width microseconds, so text order is time order."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def write_event(db: sqlite3.Connection, event: Event, *, owner: Owner) -> None:
    match event:
        case RunStarted():
            _run_started(db, event, owner)
        case ProviderCooled() | ProviderSwitched() | PoolWaiting():
            _provider_event(db, event)
        case PlanWritten() | RoundStarted() | RoundFinished() | LessonNoted() | RunFinished():
            _write_run_event(db, event)
        case _:
            _write_attempt_event(db, event)


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


def _write_attempt_event(
    db: sqlite3.Connection,
    event: AttemptPlanned | AttemptChanged | StepStarted | StepFinished | ModelCalled | VerdictReached,
) -> None:
    match event:
        case AttemptPlanned():
            _attempt_planned(db, event)
        case AttemptChanged():
            _attempt_changed(db, event)
        case StepStarted():
            _step_started(db, event)
        case StepFinished():
            _step_finished(db, event)
        case ModelCalled():
            _model_called(db, event)
        case VerdictReached():
            _verdict_reached(db, event)
        case _:
            assert_never(event)


def _provider_event(db: sqlite3.Connection, event: ProviderCooled | ProviderSwitched | PoolWaiting) -> None:
    """Cooldowns, switches and waits in one table: the pool reads cooldowns back from it."""
    other: str | None = None
    until: str | None = None
    match event:
        case ProviderCooled():
            provider, until, reason = event.provider, _timestamp(event.until), event.reason
        case ProviderSwitched():
            provider, other, reason = event.from_provider, event.to_provider, event.reason
        case PoolWaiting():
            provider, other, until, reason = (
                "*",
                None,
                _timestamp(event.until),
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
            _timestamp(event.at),
        ),
    )


def _run_started(db: sqlite3.Connection, event: RunStarted, owner: Owner) -> None:
    """A run started again under its id (a resume) belongs to this process from now on."""
    db.execute(
        """
        INSERT INTO runs (id, title, ask, plan_path, repo, base_commit, attempts, steps, rounds, state, pid,
                          host, started_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)
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
            _timestamp(event.at),
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
            _timestamp(event.at),
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
            _timestamp(event.at),
        ),
    )


def _round_finished(db: sqlite3.Connection, event: RoundFinished) -> None:
    updated = db.execute(
        "UPDATE rounds SET passed = ?, reason = ?, finished_at = ? WHERE run_id = ? AND round = ?",
        (event.passed, event.reason, _timestamp(event.at), event.run_id, event.round),
    )
    _require_one(updated, event.kind, f"round {event.run_id}/{event.round}", "round-started")


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
            _timestamp(event.at),
        ),
    )


def _attempt_planned(db: sqlite3.Connection, event: AttemptPlanned) -> None:
    """Planning an attempt again (a resume) resets it to pending; its history stays."""
    db.execute(
        """
        INSERT INTO attempts (run_id, name, branch, worktree, state, round, blueprint)
        VALUES (?, ?, ?, ?, 'pending', ?, ?)
        ON CONFLICT (run_id, name) DO UPDATE SET
            branch = excluded.branch, worktree = excluded.worktree, state = 'pending', reason = '',
            cleaned = 0, finished_at = NULL, round = excluded.round, blueprint = excluded.blueprint
        """,
        (event.run_id, event.attempt, event.branch, event.worktree, event.round, event.blueprint),
    )


def _attempt_changed(db: sqlite3.Connection, event: AttemptChanged) -> None:
    at = _timestamp(event.at)
    updated = db.execute(
        """
        UPDATE attempts SET state = ?, reason = ?,
            started_at = COALESCE(started_at, ?),
            finished_at = ?
        WHERE run_id = ? AND name = ?
        """,
        (
            event.state.value,
            event.reason,
            None if event.state is AttemptState.PENDING else at,
            at if event.state.finished else None,
            event.run_id,
            event.attempt,
        ),
    )
    _require_one(updated, event.kind, f"attempt {event.run_id}/{event.attempt}", "attempt-planned")


def _step_started(db: sqlite3.Connection, event: StepStarted) -> None:
    """A step started again (a retry or a resume) loses the outcome of its earlier try."""
    db.execute(
        """
        INSERT INTO steps (run_id, attempt, idx, title, state, started_at) VALUES (?, ?, ?, ?, 'running', ?)
        ON CONFLICT (run_id, attempt, idx) DO UPDATE SET
            title = excluded.title, state = 'running', commit_sha = NULL, summary = '', reason = '',
            started_at = excluded.started_at, finished_at = NULL
        """,
        (event.run_id, event.attempt, event.index, event.title, _timestamp(event.at)),
    )


def _step_finished(db: sqlite3.Connection, event: StepFinished) -> None:
    db.execute(
        """
        INSERT INTO steps
            (run_id, attempt, idx, state, commit_sha, summary, reason, tool_calls, refusals, finished_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (run_id, attempt, idx) DO UPDATE SET
            state = excluded.state, commit_sha = excluded.commit_sha, summary = excluded.summary,
            reason = excluded.reason, tool_calls = excluded.tool_calls, refusals = excluded.refusals,
            finished_at = excluded.finished_at
        """,
        (
            event.run_id,
            event.attempt,
            event.index,
            event.state.value,
            event.commit,
            event.summary,
            event.reason,
            event.tool_calls,
            event.refusals,
            _timestamp(event.at),
        ),
    )


def _model_called(db: sqlite3.Connection, event: ModelCalled) -> None:
    """No foreign keys here: a call is money spent and is kept even if it precedes its run's record."""
    usage = event.usage
    db.execute(
        """
        INSERT INTO model_calls (run_id, attempt, step, role, provider, model, input_tokens, output_tokens,
                                 cache_read_tokens, cache_write_tokens, cost, latency_ms, error, at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            event.run_id,
            event.attempt,
            event.step,
            event.role.value,
            event.provider,
            event.model,
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_tokens,
            usage.cache_write_tokens,
            None if usage.cost is None else str(usage.cost),
            event.latency_ms,
            event.error,
            _timestamp(event.at),
        ),
    )


def _verdict_reached(db: sqlite3.Connection, event: VerdictReached) -> None:
    verdict = event.verdict
    inserted = db.execute(
        """
        INSERT INTO verdicts (run_id, attempt, source, passed, summary, at, blueprint)
        VALUES (?, ?, ?, ?, ?, ?,
                (SELECT blueprint FROM attempts WHERE run_id = ? AND name = ?))
        """,
        (
            event.run_id,
            event.attempt,
            verdict.source,
            verdict.passed,
            verdict.summary,
            _timestamp(event.at),
            event.run_id,
            event.attempt,
        ),
    )
    db.executemany(
        """
        INSERT INTO findings (verdict_id, run_id, attempt, source, severity, file, line, what, why)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            (
                inserted.lastrowid,
                event.run_id,
                event.attempt,
                verdict.source,
                f.severity.value,
                f.file,
                f.line,
                f.what,
                f.why,
            )
            for f in verdict.findings
        ],
    )


def _run_finished(db: sqlite3.Connection, event: RunFinished) -> None:
    updated = db.execute(
        "UPDATE runs SET state = ?, reason = ?, finished_at = ? WHERE id = ?",
        (event.state.value, event.reason, _timestamp(event.at), event.run_id),
    )
    _require_one(updated, event.kind, f"run {event.run_id}", "run-started")


def _require_one(cursor: sqlite3.Cursor, kind: str, subject: str, first: str) -> None:
    """An update that found nothing means the engine emitted events out of order: a bug, said loudly."""
    if cursor.rowcount != 1:
        raise ValueError(f"{kind} for unknown {subject}: the engine must emit {first} first")
