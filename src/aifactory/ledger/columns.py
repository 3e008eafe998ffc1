"""How values are written into the ledger's columns, the same way by every writer."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime


def timestamp(at: datetime) -> str:
    """ISO-8601 in UTC with fixed-width microseconds, so text order is time order."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def require_one(cursor: sqlite3.Cursor, kind: str, subject: str, first: str) -> None:
    """An update that found nothing means the engine emitted events out of order: a bug, said loudly."""
    if cursor.rowcount != 1:
        raise ValueError(f"{kind} for unknown {subject}: the engine must emit {first} first")
