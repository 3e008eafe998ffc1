"""How an attempt's events become rows: the attempt, its steps, its model and tool calls, its verdicts.

Called by `records.write_event`, inside the ledger's transaction.
"""

from __future__ import annotations

import sqlite3
from typing import assert_never

from aifactory.domain.events import (
    AgentToolCalled,
    AttemptChanged,
    AttemptPlanned,
    ModelCalled,
    StepFinished,
    StepStarted,
    VerdictReached,
)
from aifactory.domain.run import AttemptState
from aifactory.ledger.columns import require_one, timestamp


def write_attempt_event(
    db: sqlite3.Connection,
    event: AttemptPlanned
    | AttemptChanged
    | StepStarted
    | StepFinished
    | AgentToolCalled
    | ModelCalled
    | VerdictReached,
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
        case AgentToolCalled():
            _tool_called(db, event)
        case ModelCalled():
            _model_called(db, event)
        case VerdictReached():
            _verdict_reached(db, event)
        case _:
            assert_never(event)


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
    at = timestamp(event.at)
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
    require_one(updated, event.kind, f"attempt {event.run_id}/{event.attempt}", "attempt-planned")


def _step_started(db: sqlite3.Connection, event: StepStarted) -> None:
    """A step started again (a retry or a resume) loses the outcome of its earlier try."""
    db.execute(
        """
        INSERT INTO steps (run_id, attempt, idx, title, state, started_at) VALUES (?, ?, ?, ?, 'running', ?)
        ON CONFLICT (run_id, attempt, idx) DO UPDATE SET
            title = excluded.title, state = 'running', commit_sha = NULL, summary = '', reason = '',
            started_at = excluded.started_at, finished_at = NULL
        """,
        (event.run_id, event.attempt, event.index, event.title, timestamp(event.at)),
    )


def _step_finished(db: sqlite3.Connection, event: StepFinished) -> None:
    db.execute(
        """
        INSERT INTO steps
            (run_id, attempt, idx, state, commit_sha, summary, reason, tool_calls, refusals, executor,
             finished_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (run_id, attempt, idx) DO UPDATE SET
            state = excluded.state, commit_sha = excluded.commit_sha, summary = excluded.summary,
            reason = excluded.reason, tool_calls = excluded.tool_calls, refusals = excluded.refusals,
            executor = excluded.executor, finished_at = excluded.finished_at
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
            event.executor,
            timestamp(event.at),
        ),
    )


def _tool_called(db: sqlite3.Connection, event: AgentToolCalled) -> None:
    """Kept like a model call, without foreign keys: the record of what an agent did stays whole."""
    db.execute(
        """
        INSERT INTO tool_calls (run_id, attempt, step, agent, tool, target, ok, at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            event.run_id,
            event.attempt,
            event.step,
            event.agent,
            event.tool,
            event.target,
            event.ok,
            timestamp(event.at),
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
            timestamp(event.at),
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
            timestamp(event.at),
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
