"""Read models of the provider pool: which providers are cooling down, and which roles switched.

Cooldowns are read from the ledger, not kept in memory, because a second run in another process and
a run started after a crash must respect a limit the first one hit.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from aifactory.ledger.store import Ledger


class Cooling(BaseModel):
    model_config = ConfigDict(frozen=True)

    provider: str
    until: datetime
    reason: str


def cooling(ledger: Ledger, now: datetime | None = None) -> dict[str, Cooling]:
    """Every provider cooling down at `now`, with its latest reset time and why."""
    moment = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    with ledger.snapshot() as db:
        rows = db.rows(
            """
            SELECT provider, until, reason FROM provider_events e
            WHERE kind = 'provider-cooled' AND until > ?
              AND until = (SELECT MAX(until) FROM provider_events
                           WHERE kind = 'provider-cooled' AND provider = e.provider)
            """,
            (moment,),
        )
    return {
        row["provider"]: Cooling(
            provider=row["provider"], until=datetime.fromisoformat(row["until"]), reason=row["reason"]
        )
        for row in rows
    }


class Switch(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: str
    from_provider: str
    to_provider: str
    reason: str
    attempt: str | None
    step: int | None
    at: datetime


def switches(ledger: Ledger, run_id: str) -> list[Switch]:
    """A run's failovers, oldest first: who did which part of the work when a provider hit a limit."""
    with ledger.snapshot() as db:
        rows = db.rows(
            "SELECT * FROM provider_events WHERE kind = 'provider-switched' AND run_id = ? ORDER BY id",
            (run_id,),
        )
    return [
        Switch(
            role=row["role"],
            from_provider=row["provider"],
            to_provider=row["other"],
            reason=row["reason"],
            attempt=row["attempt"],
            step=row["step"],
            at=datetime.fromisoformat(row["at"]),
        )
        for row in rows
    ]
