"""The schema grows by appending named migrations; each is applied once, whole or not at all."""

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from aifactory.ledger.migrations import MIGRATIONS, migrate
from aifactory.ledger.store import Ledger


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(tmp_path / "ledger.db", isolation_level=None)
    yield connection
    connection.close()


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _applied(conn: sqlite3.Connection) -> list[str]:
    return [name for (name,) in conn.execute("SELECT name FROM migrations ORDER BY rowid")]


def test_a_new_ledger_gets_every_migration_once(conn: sqlite3.Connection) -> None:
    assert migrate(conn) == [name for name, _ in MIGRATIONS]
    assert {"runs", "attempts", "steps", "model_calls", "verdicts", "findings", "migrations"} <= _tables(conn)
    assert migrate(conn) == []
    assert _applied(conn) == [name for name, _ in MIGRATIONS]


def test_opening_a_ledger_again_applies_nothing(tmp_path: Path) -> None:
    path = tmp_path / ".factory" / "ledger.db"
    Ledger.open(path).close()
    with Ledger.open(path):
        pass
    with sqlite3.connect(path) as conn:
        assert _applied(conn) == [name for name, _ in MIGRATIONS]


def test_an_appended_migration_is_the_only_one_applied_to_an_existing_ledger(
    conn: sqlite3.Connection,
) -> None:
    migrate(conn)
    appended = (*MIGRATIONS, ("m999_lessons", "CREATE TABLE lessons (id TEXT PRIMARY KEY);"))
    assert migrate(conn, appended) == ["m999_lessons"]
    assert "lessons" in _tables(conn)


def test_a_failing_migration_leaves_no_trace_and_keeps_the_ones_before_it(conn: sqlite3.Connection) -> None:
    broken = (
        *MIGRATIONS,
        ("m998_half", "CREATE TABLE half (id INTEGER);\nINSERT INTO nowhere VALUES (1);"),
    )
    with pytest.raises(sqlite3.OperationalError, match="no such table: nowhere"):
        migrate(conn, broken)
    assert "half" not in _tables(conn)
    assert _applied(conn) == [name for name, _ in MIGRATIONS]
    assert not conn.in_transaction


def test_a_migration_ending_in_an_unfinished_statement_is_refused(conn: sqlite3.Connection) -> None:
    with pytest.raises(ValueError, match="unfinished statement"):
        migrate(conn, [("m001_oops", "CREATE TABLE a (id INTEGER);\nCREATE TABLE b (id INTEGER)")])
    assert _tables(conn) == set()
