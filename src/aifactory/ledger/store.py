"""The only code that writes the ledger: one short transaction per event, committed before it returns.

Committing each event at once is what makes the record truthful: a run killed at any moment
leaves everything it reported, and `factory status` in another process sees it while it happens.
WAL mode lets readers read while one writer writes; writers of several processes take turns
through SQLite's lock, waiting up to `BUSY_TIMEOUT_S` for it. `synchronous=NORMAL` survives a
killed process (not a power cut) without an fsync per event.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Literal, assert_never

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
from aifactory.domain.run import AttemptState
from aifactory.errors import NotFoundError, UserError
from aifactory.ledger.migrations import migrate

BUSY_TIMEOUT_S = 10.0
_WAL_RETRY_S = 0.02
_DAMAGED = {sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT}


def _timestamp(at: datetime) -> str:
    """ISO-8601 in UTC with fixed-width microseconds, so text order is time order."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch a new ledger to WAL, waiting for another process that opens it at the same moment.

    The switch needs the file to itself and SQLite's busy handler does not wait for it, so retry
    within the busy timeout; WAL persists in the file, so an existing ledger needs no lock at all.
    """
    if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(_WAL_RETRY_S)
        else:
            return


class Snapshot:
    """A consistent view for the read models: every query in one snapshot sees the same state."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        return self._conn.execute(sql, params).fetchall()

    def row(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Row | None:
        found: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
        return found


class Ledger:
    """`.factory/ledger.db`: an `EventSink` for the engine and the source of every read model.

    One connection per process, guarded by a lock, so a progress thread may read while the
    engine's thread records.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self.host = socket.gethostname()
        """This machine's name, as recorded with each run this process starts."""

    @classmethod
    def open(cls, path: Path) -> Ledger:
        """Open (creating if needed) the ledger at `path` and bring its schema up to date."""
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        try:
            _use_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn)
        except BaseException as error:
            conn.close()
            if isinstance(error, sqlite3.DatabaseError) and error.sqlite_errorcode in _DAMAGED:
                raise UserError(
                    f"{path} is not a readable ledger ({error}); move it aside to start a new one"
                ) from error
            raise
        return cls(conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """Read in one transaction with writes refused (`query_only`), so read models cannot write."""
        with self._lock:
            self._conn.execute("PRAGMA query_only = ON")
            self._conn.execute("BEGIN")
            try:
                yield Snapshot(self._conn)
            finally:
                self._conn.execute("ROLLBACK")
                self._conn.execute("PRAGMA query_only = OFF")

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """`BEGIN IMMEDIATE` takes the write lock up front, where waiting for it is still allowed."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def record(self, event: Event) -> None:
        """Write one event and commit it; events must arrive in the engine's order."""
        with self._writing() as db:
            match event:
                case RunStarted():
                    self._run_started(db, event)
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
                case RunFinished():
                    _run_finished(db, event)
                case _:
                    assert_never(event)

    def mark_kept(self, run_id: str, attempt: str) -> None:
        """Remember that the user keeps this attempt's branch, so cleaning leaves it alone."""
        self._set_flag("kept", run_id, attempt)

    def mark_cleaned(self, run_id: str, attempt: str) -> None:
        """Remember that this attempt's worktree and branch were removed."""
        self._set_flag("cleaned", run_id, attempt)

    def _set_flag(self, column: Literal["kept", "cleaned"], run_id: str, attempt: str) -> None:
        with self._writing() as db:
            sql = f"UPDATE attempts SET {column} = 1 WHERE run_id = ? AND name = ?"
            if db.execute(sql, (run_id, attempt)).rowcount == 0:
                known = [
                    row["name"] for row in db.execute("SELECT name FROM attempts WHERE run_id = ?", (run_id,))
                ]
                listed = ", ".join(known) if known else "none; run `factory status` to list runs"
                raise NotFoundError(f"run {run_id} has no attempt {attempt!r}; its attempts: {listed}")

    def _run_started(self, db: sqlite3.Connection, event: RunStarted) -> None:
        """A run started again under its id (a resume) belongs to this process from now on."""
        db.execute(
            """
            INSERT INTO runs (id, title, ask, plan_path, repo, base_commit, attempts, steps, state, pid, host,
                              started_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)
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
                self._pid,
                self.host,
                _timestamp(event.at),
            ),
        )


def _attempt_planned(db: sqlite3.Connection, event: AttemptPlanned) -> None:
    """Planning an attempt again (a resume) resets it to pending; its history stays."""
    db.execute(
        """
        INSERT INTO attempts (run_id, name, branch, worktree, state) VALUES (?, ?, ?, ?, 'pending')
        ON CONFLICT (run_id, name) DO UPDATE SET
            branch = excluded.branch, worktree = excluded.worktree, state = 'pending', reason = '',
            cleaned = 0, finished_at = NULL
        """,
        (event.run_id, event.attempt, event.branch, event.worktree),
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
        "INSERT INTO verdicts (run_id, attempt, source, passed, summary, at) VALUES (?, ?, ?, ?, ?, ?)",
        (event.run_id, event.attempt, verdict.source, verdict.passed, verdict.summary, _timestamp(event.at)),
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
