"""`factory usage`: what the model calls cost, from the ledger, over a window of local dates or times."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from aifactory.errors import UserError
from aifactory.ledger.store import Ledger
from aifactory.ledger.usage import UsageKey, UsageReport, usage
from aifactory.service.project import Project


def usage_report(
    project: Project, by: UsageKey, *, since: str | None = None, until: str | None = None
) -> UsageReport:
    """Calls from `since` to `until` as given on the command line (`--since`, `--until`), grouped `by`."""
    start = None if since is None else _when(since, flag="--since")
    end = None if until is None else _when(until, flag="--until", end_of_day=True)
    if start is not None and end is not None and start >= end:
        raise UserError(f"--since {since} is not before --until {until}: the window holds no time")
    with Ledger.open(project.ledger_path) as ledger:
        return usage(ledger, by, since=start, until=end)


def _when(text: str, *, flag: str, end_of_day: bool = False) -> datetime:
    """A moment given as `YYYY-MM-DD` or an ISO datetime, in local time unless it names an offset.

    A date means its first moment; as the end of a window (`end_of_day`), the first moment of the next
    day, so `--until 2026-03-31` includes all of March 31.
    """
    value = text.strip()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        return datetime.combine(day + timedelta(days=1) if end_of_day else day, time()).astimezone()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(
            f"{flag} {text!r} is not a date: write YYYY-MM-DD (e.g. 2026-03-01) or an ISO datetime "
            "(e.g. 2026-03-01T09:30), read in local time"
        ) from None
    return moment if moment.tzinfo is not None else moment.astimezone()
