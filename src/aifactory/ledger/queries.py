"""Read models of the ledger: what `factory status`, `show` and `clean` and the dashboard see.

Everything here reads through `Ledger.snapshot()`, which refuses writes and gives each function one
consistent view, even while runs in other processes keep recording.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from aifactory.domain.run import AttemptState, Role, RunState, StepState
from aifactory.domain.usage import Usage
from aifactory.domain.verdict import Finding, Verdict
from aifactory.errors import NotFoundError
from aifactory.ledger.agent_log import ToolUse, tool_uses
from aifactory.ledger.small_agents import AgentRunDetail, agent_runs
from aifactory.ledger.store import Ledger, Snapshot

_MAX_CANDIDATES = 10


class _ReadModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class StepDetail(_ReadModel):
    index: int
    title: str
    state: StepState
    commit: str | None
    summary: str
    reason: str
    tool_calls: int
    refusals: int
    started_at: datetime | None
    finished_at: datetime | None
    executor: str = ""
    """Who carried the step out (`NAME:MODEL`), and the tool calls its agents made, oldest first."""
    tools: tuple[ToolUse, ...] = ()


class AttemptDetail(_ReadModel):
    """One attempt as recorded; `elapsed` runs up to now while the attempt is unfinished."""

    run_id: str
    name: str
    round: int
    blueprint: str
    branch: str
    worktree: str
    state: AttemptState
    reason: str
    kept: bool
    cleaned: bool
    started_at: datetime | None
    finished_at: datetime | None
    elapsed: timedelta | None
    steps: tuple[StepDetail, ...]
    verdicts: tuple[Verdict, ...]
    usage: Usage
    model_calls: int
    agents: tuple[AgentRunDetail, ...] = ()
    """Small agents run after the steps, before verification, in order."""


class RunSummary(_ReadModel):
    """One line of `factory status`; `stale` means it says running but its process is gone."""

    id: str
    title: str
    state: RunState
    started_at: datetime
    finished_at: datetime | None
    attempts: int
    """Attempts started so far, across rounds."""
    passed: int
    rounds: int
    usage: Usage
    stale: bool
    resumes: int = 0
    """How many times `factory resume` took the run up again."""


class RoundDetail(_ReadModel):
    number: int
    blueprint: str
    plan_path: str
    lessons: tuple[str, ...]
    passed: bool | None
    reason: str


class ResumeDetail(_ReadModel):
    """One `factory resume`: the round taken up again, the attempts continued and those kept."""

    round: int
    continued: tuple[str, ...]
    kept: tuple[str, ...]
    pid: int
    host: str
    at: datetime


class RunDetail(_ReadModel):
    """A whole run; `usage` counts every call carrying the run id, planning calls included."""

    id: str
    title: str
    ask: str
    plan_path: str
    repo: str
    base_commit: str
    planned_attempts: int
    planned_steps: int
    planned_rounds: int
    state: RunState
    reason: str
    pid: int
    host: str
    started_at: datetime
    finished_at: datetime | None
    stale: bool
    rounds: tuple[RoundDetail, ...]
    attempts: tuple[AttemptDetail, ...]
    usage: Usage
    model_calls: int
    max_cost: Decimal | None = None
    max_tokens: int | None = None
    """The run's budget as last set (by `factory run`, or by the latest resume)."""
    learning: bool = True
    resumes: tuple[ResumeDetail, ...] = ()


def list_runs(ledger: Ledger, limit: int = 20) -> list[RunSummary]:
    """The latest runs, newest first."""
    with ledger.snapshot() as db:
        runs = db.rows(
            """
            SELECT r.*,
                (SELECT COUNT(*) FROM attempts a WHERE a.run_id = r.id AND a.state = 'passed') AS passed,
                (SELECT COUNT(*) FROM attempts a WHERE a.run_id = r.id) AS tried,
                (SELECT COUNT(*) FROM rounds x WHERE x.run_id = r.id) AS rounds_run,
                (SELECT COUNT(*) FROM resumes x WHERE x.run_id = r.id) AS resumed
            FROM runs r ORDER BY r.started_at DESC, r.id LIMIT ?
            """,
            (limit,),
        )
        latest = "SELECT id FROM runs ORDER BY started_at DESC, id LIMIT ?"
        calls = _group(db.rows(f"SELECT * FROM model_calls WHERE run_id IN ({latest})", (limit,)), "run_id")
    return [
        RunSummary(
            id=run["id"],
            title=run["title"],
            state=run["state"],
            started_at=run["started_at"],
            finished_at=run["finished_at"],
            attempts=run["tried"],
            passed=run["passed"],
            rounds=run["rounds_run"],
            usage=_total(calls.get(run["id"], [])),
            stale=_stale(run, ledger.host),
            resumes=run["resumed"],
        )
        for run in runs
    ]


def resolve_run(ledger: Ledger, ref: str) -> str:
    """The id of the run named by `ref`: its exact id or a prefix that only it starts with."""
    with ledger.snapshot() as db:
        if db.row("SELECT 1 FROM runs WHERE id = ?", (ref,)) is not None:
            return ref
        found = db.rows(
            "SELECT id FROM runs WHERE substr(id, 1, ?) = ? ORDER BY started_at DESC", (len(ref), ref)
        )
    matches = [row["id"] for row in found] if ref else []
    if len(matches) == 1:
        return str(matches[0])
    if not matches:
        raise NotFoundError(f"no run matches {ref!r}; run `factory status` to list recent runs")
    listed = ", ".join(matches[:_MAX_CANDIDATES]) + (", …" if len(matches) > _MAX_CANDIDATES else "")
    raise NotFoundError(f"{ref!r} matches {len(matches)} runs ({listed}); give more of the run id")


def run_detail(ledger: Ledger, run_id: str) -> RunDetail:
    """Everything recorded about one run; `run_id` is exact (see `resolve_run`)."""
    now = datetime.now(UTC)
    with ledger.snapshot() as db:
        run = _run_row(db, run_id)
        attempts = _attempts(db, run_id, now)
        calls = db.rows("SELECT * FROM model_calls WHERE run_id = ?", (run_id,))
        rounds = db.rows("SELECT * FROM rounds WHERE run_id = ? ORDER BY round", (run_id,))
        resumes = db.rows("SELECT * FROM resumes WHERE run_id = ? ORDER BY id", (run_id,))
    return RunDetail(
        id=run["id"],
        title=run["title"],
        ask=run["ask"],
        plan_path=run["plan_path"],
        repo=run["repo"],
        base_commit=run["base_commit"],
        planned_attempts=run["attempts"],
        planned_steps=run["steps"],
        planned_rounds=run["rounds"],
        state=run["state"],
        reason=run["reason"],
        pid=run["pid"],
        host=run["host"],
        started_at=run["started_at"],
        finished_at=run["finished_at"],
        stale=_stale(run, ledger.host),
        rounds=tuple(
            RoundDetail(
                number=row["round"],
                blueprint=row["blueprint"],
                plan_path=row["plan_path"],
                lessons=tuple(json.loads(row["lessons"])),
                passed=None if row["passed"] is None else bool(row["passed"]),
                reason=row["reason"],
            )
            for row in rounds
        ),
        attempts=tuple(attempts),
        usage=_total(calls),
        model_calls=len(calls),
        max_cost=None if run["max_cost"] is None else Decimal(run["max_cost"]),
        max_tokens=run["max_tokens"],
        learning=bool(run["learning"]),
        resumes=tuple(
            ResumeDetail(
                round=row["round"],
                continued=tuple(json.loads(row["continued"])),
                kept=tuple(json.loads(row["kept"])),
                pid=row["pid"],
                host=row["host"],
                at=row["at"],
            )
            for row in resumes
        ),
    )


def cleanable(ledger: Ledger, run_id: str | None) -> list[AttemptDetail]:
    """Attempts whose worktree and branch may still exist, oldest run first; kept ones included.

    Without a run id: attempts of runs that are over, finished or stale (their process is gone).
    With one: that run's attempts whatever its state; check `run_detail` before cleaning a live run.
    """
    now = datetime.now(UTC)
    with ledger.snapshot() as db:
        if run_id is None:
            candidates = db.rows(
                """
                SELECT * FROM runs WHERE id IN (SELECT run_id FROM attempts WHERE cleaned = 0)
                ORDER BY started_at, id
                """
            )
            over = [
                run["id"]
                for run in candidates
                if run["state"] != RunState.RUNNING or _stale(run, ledger.host)
            ]
        else:
            over = [_run_row(db, run_id)["id"]]
        return [attempt for run in over for attempt in _attempts(db, run, now) if not attempt.cleaned]


def usage_by_role(ledger: Ledger, run_id: str) -> dict[Role, Usage]:
    """What each role spent on a run; roles that made no call are absent."""
    with ledger.snapshot() as db:
        calls = _group(db.rows("SELECT * FROM model_calls WHERE run_id = ? ORDER BY id", (run_id,)), "role")
    return {Role(role): _total(rows) for role, rows in calls.items()}


def _run_row(db: Snapshot, run_id: str) -> sqlite3.Row:
    run = db.row("SELECT * FROM runs WHERE id = ?", (run_id,))
    if run is None:
        raise NotFoundError(f"no run {run_id!r} in the ledger; run `factory status` to list recent runs")
    return run


def _attempts(db: Snapshot, run_id: str, now: datetime) -> list[AttemptDetail]:
    """A run's attempts in the order they were planned, each with its steps, verdicts and calls."""
    steps = _group(db.rows("SELECT * FROM steps WHERE run_id = ? ORDER BY idx", (run_id,)), "attempt")
    calls = _group(db.rows("SELECT * FROM model_calls WHERE run_id = ? ORDER BY id", (run_id,)), "attempt")
    verdicts = _verdicts(db, run_id)
    tools = tool_uses(db, run_id)
    agents = agent_runs(db, run_id)
    details = []
    for row in db.rows("SELECT * FROM attempts WHERE run_id = ? ORDER BY rowid", (run_id,)):
        name = row["name"]
        started, finished = _time(row["started_at"]), _time(row["finished_at"])
        details.append(
            AttemptDetail(
                run_id=run_id,
                name=name,
                round=row["round"],
                blueprint=row["blueprint"],
                branch=row["branch"],
                worktree=row["worktree"],
                state=row["state"],
                reason=row["reason"],
                kept=row["kept"],
                cleaned=row["cleaned"],
                started_at=started,
                finished_at=finished,
                elapsed=None if started is None else (finished or now) - started,
                steps=tuple(_step(step, tools.get((name, step["idx"]), [])) for step in steps.get(name, [])),
                verdicts=tuple(verdicts.get(name, [])),
                usage=_total(calls.get(name, [])),
                model_calls=len(calls.get(name, [])),
                agents=tuple(agents.get(name, [])),
            )
        )
    return details


def _step(row: sqlite3.Row, tools: list[ToolUse]) -> StepDetail:
    return StepDetail(
        index=row["idx"],
        title=row["title"],
        state=row["state"],
        commit=row["commit_sha"],
        summary=row["summary"],
        reason=row["reason"],
        tool_calls=row["tool_calls"],
        refusals=row["refusals"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        executor=row["executor"],
        tools=tuple(tools),
    )


def _verdicts(db: Snapshot, run_id: str) -> dict[str, list[Verdict]]:
    """A run's verdicts by attempt, in the order they were reached, each with its findings."""
    findings: dict[int, list[Finding]] = defaultdict(list)
    for row in db.rows("SELECT * FROM findings WHERE run_id = ? ORDER BY id", (run_id,)):
        findings[row["verdict_id"]].append(
            Finding(
                severity=row["severity"], file=row["file"], line=row["line"], what=row["what"], why=row["why"]
            )
        )
    verdicts: dict[str, list[Verdict]] = defaultdict(list)
    for row in db.rows("SELECT * FROM verdicts WHERE run_id = ? ORDER BY id", (run_id,)):
        verdicts[row["attempt"]].append(
            Verdict(
                source=row["source"],
                passed=row["passed"],
                summary=row["summary"],
                findings=tuple(findings[row["id"]]),
            )
        )
    return verdicts


def _group(rows: list[sqlite3.Row], column: str) -> dict[str, list[sqlite3.Row]]:
    groups: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for row in rows:
        groups[row[column]].append(row)
    return groups


def _total(calls: list[sqlite3.Row]) -> Usage:
    """Sum in Python with `Usage.__add__`: exact Decimal cost, None only when no call had a price."""
    total = Usage()
    for call in calls:
        total += Usage(
            input_tokens=call["input_tokens"],
            output_tokens=call["output_tokens"],
            cache_read_tokens=call["cache_read_tokens"],
            cache_write_tokens=call["cache_write_tokens"],
            cost=None if call["cost"] is None else Decimal(call["cost"]),
        )
    return total


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _stale(run: sqlite3.Row, host: str) -> bool:
    """Running on this host, but its process is gone; on another host we cannot tell, so not stale."""
    return run["state"] == RunState.RUNNING and run["host"] == host and not alive(run["pid"])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # the process exists but belongs to another user
    return True
