"""Read models of learning: is the factory getting better, and which lessons did it.

`factory stats` reads these. Per blueprint version: how often the first round passed, how many
rounds a passing run took, what a passing attempt cost. Per lesson: how often plans carried it,
how often its check fired, and how many findings on its topic came before and after it became
active (a lesson that works makes the second number small).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from aifactory.ledger.store import Ledger


class _ReadModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class VersionStats(_ReadModel):
    """Runs whose first round used this blueprint version."""

    blueprint: str
    first_seen: datetime
    runs: int
    first_round_passed: int
    passed_runs: int
    rounds_to_pass: float | None
    """Mean rounds a passing run took, or None when no run passed."""
    passing_attempts: int
    tokens: int
    cost: Decimal | None
    """All model spending of those runs; per passing attempt is `tokens / passing_attempts`."""

    @property
    def first_round_pass_rate(self) -> float:
        return self.first_round_passed / self.runs if self.runs else 0.0

    @property
    def tokens_per_pass(self) -> float | None:
        return self.tokens / self.passing_attempts if self.passing_attempts else None

    @property
    def cost_per_pass(self) -> Decimal | None:
        if self.cost is None or not self.passing_attempts:
            return None
        return self.cost / self.passing_attempts


class LessonStats(_ReadModel):
    lesson: str
    injected: int
    fired: int
    findings_before: int
    """Findings on its topic up to its activation: the one it came from and sightings while proposed."""
    findings_after: int
    """Findings on its topic after it became active: what it failed to prevent."""
    activated: datetime | None


def version_stats(ledger: Ledger) -> list[VersionStats]:
    """Oldest version first, so the rows read as a learning curve."""
    with ledger.snapshot() as db:
        runs = db.rows(
            """
            SELECT r.id, r.state, r.started_at, first.blueprint, first.passed AS first_passed,
                   (SELECT MAX(round) FROM rounds WHERE run_id = r.id) AS rounds_taken
            FROM runs r JOIN rounds first ON first.run_id = r.id AND first.round = 1
            ORDER BY r.started_at
            """
        )
        passing = {
            row["run_id"]: row["n"]
            for row in db.rows(
                "SELECT run_id, COUNT(*) AS n FROM attempts WHERE state = 'passed' GROUP BY run_id"
            )
        }
        spent = {
            row["run_id"]: row
            for row in db.rows(
                """
                SELECT run_id, SUM(input_tokens + output_tokens) AS tokens,
                       COUNT(cost) AS priced, COUNT(*) AS calls, GROUP_CONCAT(cost, ' ') AS costs
                FROM model_calls WHERE run_id IS NOT NULL GROUP BY run_id
                """
            )
        }
    grouped: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for row in runs:
        grouped[row["blueprint"]].append(row)
    return [_version(version, rows, passing, spent) for version, rows in grouped.items()]


def _version(
    version: str, rows: list[sqlite3.Row], passing: dict[str, int], spent: dict[str, sqlite3.Row]
) -> VersionStats:
    passed_rounds = [row["rounds_taken"] for row in rows if row["state"] == "passed"]
    tokens, cost, priced = 0, Decimal(0), True
    for row in rows:
        usage = spent.get(row["id"])
        if usage is None:
            continue
        tokens += usage["tokens"] or 0
        priced = priced and usage["priced"] == usage["calls"]
        cost += sum((Decimal(c) for c in (usage["costs"] or "").split()), Decimal(0))
    return VersionStats(
        blueprint=version,
        first_seen=datetime.fromisoformat(rows[0]["started_at"]),
        runs=len(rows),
        first_round_passed=sum(1 for row in rows if row["first_passed"]),
        passed_runs=len(passed_rounds),
        rounds_to_pass=sum(passed_rounds) / len(passed_rounds) if passed_rounds else None,
        passing_attempts=sum(passing.get(row["id"], 0) for row in rows),
        tokens=tokens,
        cost=cost if priced else None,
    )


def lesson_stats(ledger: Ledger) -> list[LessonStats]:
    """Every lesson the ledger has heard of, from its events; topic findings are the lesson's origin
    and the sightings that strengthened it, split at its activation."""
    with ledger.snapshot() as db:
        rows = db.rows(
            """
            SELECT lesson,
                   SUM(activity = 'injected') AS injected,
                   SUM(activity = 'fired') AS fired_events,
                   MIN(CASE WHEN activity = 'activated' THEN at END) AS activated
            FROM lesson_events GROUP BY lesson ORDER BY MIN(at)
            """
        )
        fired = {
            row["lesson"]: row["n"]
            for row in db.rows(
                "SELECT lesson, SUM(CAST(detail AS INTEGER)) AS n FROM lesson_events "
                "WHERE activity = 'fired' GROUP BY lesson"
            )
        }
        # A finding belongs to the moment its round started, not to when it was distilled: the second
        # attempt of the round that taught a lesson did not have the lesson either.
        topic = db.rows(
            """
            SELECT e.lesson, COALESCE(r.started_at, e.at) AS at
            FROM lesson_events e LEFT JOIN rounds r ON r.run_id = e.run_id AND r.round = e.round
            WHERE e.activity IN ('proposed', 'strengthened', 'merged')
            """
        )
    found: dict[str, list[str]] = defaultdict(list)
    for row in topic:
        found[row["lesson"]].append(row["at"])
    result = []
    for row in rows:
        activated = row["activated"]
        times = found.get(row["lesson"], [])
        before = sum(1 for at in times if activated is None or at <= activated)
        result.append(
            LessonStats(
                lesson=row["lesson"],
                injected=row["injected"] or 0,
                fired=fired.get(row["lesson"]) or 0,
                findings_before=before,
                findings_after=len(times) - before,
                activated=None if activated is None else datetime.fromisoformat(activated),
            )
        )
    return result


def plans_since_carried(ledger: Ledger, lesson: str, since: datetime) -> int:
    """Plans written since `lesson` was last carried by one (or since `since`, if later)."""
    with ledger.snapshot() as db:
        rows = db.rows(
            """
            SELECT COUNT(*) AS n FROM plans
            WHERE at > MAX(?, COALESCE(
                (SELECT MAX(at) FROM lesson_events WHERE lesson = ? AND activity = 'injected'), ''))
            """,
            (since.astimezone(UTC).isoformat(timespec="microseconds"), lesson),
        )
    return int(rows[0]["n"])


class FirstRun(_ReadModel):
    """The earliest run of an ask, and how its first round went: what a replay compares with."""

    run_id: str
    ask: str
    plan_path: str
    blueprint: str
    first_round_passed: bool | None
    started_at: datetime


def first_runs(ledger: Ledger, *, limit: int) -> list[FirstRun]:
    """One row per distinct ask, its earliest run; the asks most recently run again come first."""
    with ledger.snapshot() as db:
        rows = db.rows(
            """
            SELECT r.id, r.ask, r.plan_path, r.started_at, first.blueprint, first.passed,
                   MAX(r.started_at) OVER (PARTITION BY r.ask) AS latest,
                   ROW_NUMBER() OVER (PARTITION BY r.ask ORDER BY r.started_at) AS nth
            FROM runs r JOIN rounds first ON first.run_id = r.id AND first.round = 1
            """
        )
    earliest = sorted((row for row in rows if row["nth"] == 1), key=lambda row: row["latest"], reverse=True)
    return [
        FirstRun(
            run_id=row["id"],
            ask=row["ask"],
            plan_path=row["plan_path"],
            blueprint=row["blueprint"],
            first_round_passed=None if row["passed"] is None else bool(row["passed"]),
            started_at=datetime.fromisoformat(row["started_at"]),
        )
        for row in earliest[:limit]
    ]
