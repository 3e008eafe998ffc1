"""The ledger's schema, as an append-only list of named migrations.

A ledger written by any earlier version of the factory is brought up to date by applying the
migrations it has not seen, in order. Never edit or reorder a migration that has shipped: append a
new one. Each migration runs in its own `BEGIN IMMEDIATE` transaction that re-checks whether it was
applied, so two processes opening a new ledger at once cannot both apply it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

Migration = tuple[str, str]
"""A migration's unique name and its SQL script (statements separated by `;`)."""

_INITIAL = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    ask TEXT NOT NULL,
    plan_path TEXT NOT NULL,
    repo TEXT NOT NULL,
    base_commit TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX runs_by_start ON runs (started_at);

CREATE TABLE attempts (
    run_id TEXT NOT NULL REFERENCES runs (id),
    name TEXT NOT NULL,
    branch TEXT NOT NULL,
    worktree TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    kept INTEGER NOT NULL DEFAULT 0,
    cleaned INTEGER NOT NULL DEFAULT 0,
    started_at TEXT,
    finished_at TEXT,
    PRIMARY KEY (run_id, name)
);

CREATE TABLE steps (
    run_id TEXT NOT NULL,
    attempt TEXT NOT NULL,
    idx INTEGER NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    commit_sha TEXT,
    summary TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    tool_calls INTEGER NOT NULL DEFAULT 0,
    refusals INTEGER NOT NULL DEFAULT 0,
    started_at TEXT,
    finished_at TEXT,
    PRIMARY KEY (run_id, attempt, idx),
    FOREIGN KEY (run_id, attempt) REFERENCES attempts (run_id, name)
);

CREATE TABLE model_calls (
    id INTEGER PRIMARY KEY,
    run_id TEXT,
    attempt TEXT,
    step INTEGER,
    role TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    cost TEXT,
    latency_ms INTEGER NOT NULL,
    error TEXT,
    at TEXT NOT NULL
);
CREATE INDEX model_calls_by_attempt ON model_calls (run_id, attempt);

CREATE TABLE verdicts (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    attempt TEXT NOT NULL,
    source TEXT NOT NULL,
    passed INTEGER NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    FOREIGN KEY (run_id, attempt) REFERENCES attempts (run_id, name)
);
CREATE INDEX verdicts_by_attempt ON verdicts (run_id, attempt);

CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    verdict_id INTEGER NOT NULL REFERENCES verdicts (id),
    run_id TEXT NOT NULL,
    attempt TEXT NOT NULL,
    source TEXT NOT NULL,
    severity TEXT NOT NULL,
    file TEXT,
    line INTEGER,
    what TEXT NOT NULL,
    why TEXT NOT NULL
);
CREATE INDEX findings_by_verdict ON findings (verdict_id);
CREATE INDEX findings_by_attempt ON findings (run_id, attempt);
"""

_ROUNDS_AND_LESSONS = """
ALTER TABLE runs ADD COLUMN rounds INTEGER NOT NULL DEFAULT 1;
ALTER TABLE attempts ADD COLUMN round INTEGER NOT NULL DEFAULT 1;
ALTER TABLE attempts ADD COLUMN blueprint TEXT NOT NULL DEFAULT '';
ALTER TABLE verdicts ADD COLUMN blueprint TEXT NOT NULL DEFAULT '';

CREATE TABLE plans (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    title TEXT NOT NULL,
    ask TEXT NOT NULL,
    blueprint TEXT NOT NULL,
    task_kind TEXT,
    lessons TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX plans_by_path ON plans (path, at);

CREATE TABLE rounds (
    run_id TEXT NOT NULL REFERENCES runs (id),
    round INTEGER NOT NULL,
    blueprint TEXT NOT NULL,
    plan_path TEXT NOT NULL,
    lessons TEXT NOT NULL,
    passed INTEGER,
    reason TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL,
    finished_at TEXT,
    PRIMARY KEY (run_id, round)
);

CREATE TABLE lesson_events (
    id INTEGER PRIMARY KEY,
    lesson TEXT NOT NULL,
    activity TEXT NOT NULL,
    run_id TEXT,
    round INTEGER,
    attempt TEXT,
    blueprint TEXT,
    detail TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL
);
CREATE INDEX lesson_events_by_lesson ON lesson_events (lesson, at);
CREATE INDEX lesson_events_by_run ON lesson_events (run_id);
"""

_PROVIDER_EVENTS = """
CREATE TABLE provider_events (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    provider TEXT NOT NULL,
    other TEXT,
    role TEXT NOT NULL,
    until TEXT,
    reason TEXT NOT NULL DEFAULT '',
    run_id TEXT,
    attempt TEXT,
    step INTEGER,
    at TEXT NOT NULL
);
CREATE INDEX provider_events_by_provider ON provider_events (provider, kind, until);
CREATE INDEX provider_events_by_run ON provider_events (run_id);
"""

_RESUMES = """
ALTER TABLE runs ADD COLUMN max_cost TEXT;
ALTER TABLE runs ADD COLUMN max_tokens INTEGER;
ALTER TABLE runs ADD COLUMN learning INTEGER NOT NULL DEFAULT 1;

CREATE TABLE resumes (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs (id),
    round INTEGER NOT NULL,
    continued TEXT NOT NULL,
    kept TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX resumes_by_run ON resumes (run_id);
"""

_AGENT_LOG = """
ALTER TABLE steps ADD COLUMN executor TEXT NOT NULL DEFAULT '';

CREATE TABLE tool_calls (
    id INTEGER PRIMARY KEY,
    run_id TEXT,
    attempt TEXT,
    step INTEGER,
    agent TEXT NOT NULL,
    tool TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    ok INTEGER NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX tool_calls_by_step ON tool_calls (run_id, attempt, step);
"""

_SMALL_AGENTS = """
CREATE TABLE small_agent_runs (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    attempt TEXT,
    agent TEXT NOT NULL,
    branch TEXT NOT NULL DEFAULT '',
    commit_sha TEXT,
    dropped TEXT,
    summary TEXT NOT NULL DEFAULT '',
    report TEXT NOT NULL DEFAULT '[]',
    at TEXT NOT NULL
);
CREATE INDEX small_agent_runs_by_attempt ON small_agent_runs (run_id, attempt);
"""

_WORKFLOWS = """
CREATE TABLE workflow_runs (
    id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    file TEXT NOT NULL,
    inputs TEXT NOT NULL,
    branch TEXT NOT NULL,
    worktree TEXT NOT NULL,
    base_commit TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX workflow_runs_by_start ON workflow_runs (started_at);

CREATE TABLE workflow_steps (
    run_id TEXT NOT NULL REFERENCES workflow_runs (id),
    key TEXT NOT NULL,
    step TEXT NOT NULL,
    kind TEXT NOT NULL,
    item TEXT,
    state TEXT NOT NULL,
    outputs TEXT NOT NULL DEFAULT '{}',
    reason TEXT NOT NULL DEFAULT '',
    commit_sha TEXT,
    started_at TEXT,
    finished_at TEXT,
    PRIMARY KEY (run_id, key)
);
"""

MIGRATIONS: tuple[Migration, ...] = (
    ("m001_initial", _INITIAL),
    ("m002_rounds_and_lessons", _ROUNDS_AND_LESSONS),
    ("m003_provider_events", _PROVIDER_EVENTS),
    ("m004_resumes", _RESUMES),
    ("m005_agent_log", _AGENT_LOG),
    ("m006_workflows", _WORKFLOWS),
    ("m007_small_agents", _SMALL_AGENTS),
)
"""Every migration ever shipped, oldest first. Append only."""


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> list[str]:
    """Apply the migrations `conn` has not seen, each in its own transaction; return their names.

    `conn` must be in autocommit mode (`isolation_level=None`) so the transactions here are the
    only ones. A ledger that is up to date is only read, so opening it never waits for a writer.
    """
    if not [name for name, _ in migrations if name not in _applied(conn)]:
        return []
    applied: list[str] = []
    for name, script in migrations:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            if name not in _applied(conn):
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO migrations (name, applied_at) VALUES (?, ?)",
                    (name, datetime.now(UTC).isoformat(timespec="microseconds")),
                )
                applied.append(name)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return applied


def _applied(conn: sqlite3.Connection) -> set[str]:
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'")
    if exists.fetchone() is None:
        return set()
    return {name for (name,) in conn.execute("SELECT name FROM migrations")}


def _statements(script: str) -> Iterator[str]:
    """Split a script into statements; `executescript` would commit the enclosing transaction."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""
    if pending.strip():
        raise ValueError(f"migration ends in an unfinished statement: {pending.strip()[:60]!r}")
