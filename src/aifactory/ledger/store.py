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
from pathlib import Path
from types import TracebackType
from typing import Literal

from aifactory.domain.events import Event
from aifactory.errors import NotFoundError, UserError
from aifactory.ledger.migrations import migrate
from aifactory.ledger.records import Owner, write_event

BUSY_TIMEOUT_S = 10.0
_WAL_RETRY_S = 0.02
_DAMAGED = {sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT}


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
            write_event(db, event, owner=Owner(pid=self._pid, host=self.host))

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
