"""The bill: tokens, calls and cost of the recorded model calls, grouped one way, over a time window.

`factory usage` reads this. Costs are summed exactly (Decimal, in Python: SQLite would sum them as
floats) from what each call was charged when it was made. A call without a price is counted, not
guessed: a line's cost is the sum of what is known plus how many calls had no price, and it is None
only when no call of the line had one. A failed call records no tokens and needs no price.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from aifactory.ledger.store import Ledger

PLANNING = "(planning)"
"""The run of the calls made before any run (`factory plan`)."""
TOTAL = "(total)"
"""The key of the line summing the others: in parentheses, like `PLANNING`, so no name can be taken for it."""


class UsageKey(StrEnum):
    """What `factory usage --by` groups calls by."""

    PROVIDER = "provider"
    ROLE = "role"
    RUN = "run"
    MODEL = "model"
    DAY = "day"


_GROUPS: dict[UsageKey, tuple[str, str]] = {
    UsageKey.PROVIDER: ("provider", "key"),
    UsageKey.ROLE: ("role", "key"),
    UsageKey.RUN: (f"COALESCE(run_id, '{PLANNING}')", "MIN(at), key"),
    UsageKey.MODEL: ("provider || ':' || model", "key"),
    UsageKey.DAY: ("date(at, 'localtime')", "key"),
}
"""Per key, the SQL expression grouped on and the order of the lines (runs in the order they began)."""


class UsageLine(BaseModel):
    """The calls of one group, or of all of them."""

    model_config = ConfigDict(frozen=True)

    key: str
    calls: int = 0
    failed: int = 0
    input_tokens: int = 0
    """Every input token, cache reads and writes included (pydantic-ai's convention)."""
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    spent: Decimal = Decimal(0)
    """USD of the calls that had a price."""
    unpriced: int = 0
    """Calls that answered but had no price, so `spent` leaves them out."""

    @property
    def cost(self) -> Decimal | None:
        """What was spent, or None (unknown) when calls answered and none of them had a price."""
        answered = self.calls - self.failed
        return None if answered and self.unpriced == answered else self.spent

    def __add__(self, other: UsageLine) -> UsageLine:
        return UsageLine(
            key=self.key,
            calls=self.calls + other.calls,
            failed=self.failed + other.failed,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            spent=self.spent + other.spent,
            unpriced=self.unpriced + other.unpriced,
        )


class UsageReport(BaseModel):
    """The lines of one grouping over `[since, until)`, and their total."""

    model_config = ConfigDict(frozen=True)

    by: UsageKey
    since: datetime | None
    until: datetime | None
    lines: tuple[UsageLine, ...]
    total: UsageLine


def usage(
    ledger: Ledger, by: UsageKey, *, since: datetime | None = None, until: datetime | None = None
) -> UsageReport:
    """The calls made from `since` (inclusive) to `until` (exclusive), grouped `by`; days are local days."""
    group, order = _GROUPS[by]
    window = [("at >= ?", since), ("at < ?", until)]
    where = " AND ".join(["1", *(condition for condition, at in window if at is not None)])
    with ledger.snapshot() as db:
        rows = db.rows(
            f"""
            SELECT {group} AS key, COUNT(*) AS calls, SUM(error IS NOT NULL) AS failed,
                   SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
                   SUM(cache_read_tokens) AS cache_read_tokens, SUM(cache_write_tokens) AS cache_write_tokens,
                   SUM(cost IS NULL AND error IS NULL) AS unpriced, GROUP_CONCAT(cost, ' ') AS costs
            FROM model_calls WHERE {where}
            GROUP BY key ORDER BY {order}
            """,
            [_timestamp(at) for _, at in window if at is not None],
        )
    lines = tuple(
        UsageLine(
            key=row["key"],
            calls=row["calls"],
            failed=row["failed"],
            input_tokens=row["input_tokens"],
            output_tokens=row["output_tokens"],
            cache_read_tokens=row["cache_read_tokens"],
            cache_write_tokens=row["cache_write_tokens"],
            spent=sum((Decimal(cost) for cost in (row["costs"] or "").split()), Decimal(0)),
            unpriced=row["unpriced"],
        )
        for row in rows
    )
    return UsageReport(by=by, since=since, until=until, lines=lines, total=sum(lines, UsageLine(key=TOTAL)))


def _timestamp(at: datetime) -> str:
    """`at` as the ledger writes times: UTC, fixed width, so text order is time order."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")
