"""Read models of workflow runs: what a resume continues from and what `factory workflow` reports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aifactory.domain.workflow import WorkflowState, WorkflowStepState
from aifactory.errors import NotFoundError
from aifactory.ledger.queries import alive
from aifactory.ledger.store import Ledger, Snapshot


@dataclass(frozen=True)
class WorkflowStepRow:
    key: str
    step: str
    kind: str
    item: str | None
    state: WorkflowStepState
    outputs: dict[str, Any]
    reason: str
    commit: str | None


@dataclass(frozen=True)
class WorkflowRunRow:
    id: str
    workflow: str
    file: str
    inputs: dict[str, Any]
    branch: str
    worktree: str
    base_commit: str
    state: WorkflowState
    reason: str
    pid: int
    host: str
    started_at: datetime
    steps: tuple[WorkflowStepRow, ...]
    stale: bool
    """It says running, but its process on this host is gone (killed); on another host we cannot tell."""
    live: bool
    """It says running and its process is alive on this host."""


def workflow_run(ledger: Ledger, ref: str) -> WorkflowRunRow:
    """The workflow run `ref` names (its id or a unique prefix), with every step instance recorded."""
    with ledger.snapshot() as snap:
        found = snap.rows("SELECT * FROM workflow_runs WHERE id LIKE ? ORDER BY started_at", (f"{ref}%",))
        exact = [row for row in found if row["id"] == ref]
        if exact:
            found = exact
        if len(found) != 1:
            problem = "no workflow run matches" if not found else "more than one workflow run matches"
            raise NotFoundError(f"{problem} {ref!r}; `factory workflow runs` lists them")
        return _run(snap, found[0], ledger.host)


def recent_workflow_runs(ledger: Ledger, limit: int = 20) -> list[WorkflowRunRow]:
    with ledger.snapshot() as snap:
        rows = snap.rows("SELECT * FROM workflow_runs ORDER BY started_at DESC LIMIT ?", (limit,))
        return [_run(snap, row, ledger.host) for row in rows]


def _run(snap: Snapshot, row: Any, host: str) -> WorkflowRunRow:
    here = row["state"] == WorkflowState.RUNNING and row["host"] == host
    up = here and alive(row["pid"])
    steps = snap.rows("SELECT * FROM workflow_steps WHERE run_id = ? ORDER BY started_at, key", (row["id"],))
    return WorkflowRunRow(
        id=row["id"],
        workflow=row["workflow"],
        file=row["file"],
        inputs=json.loads(row["inputs"]),
        branch=row["branch"],
        worktree=row["worktree"],
        base_commit=row["base_commit"],
        state=WorkflowState(row["state"]),
        reason=row["reason"],
        pid=row["pid"],
        host=row["host"],
        started_at=datetime.fromisoformat(row["started_at"]),
        stale=here and not up,
        live=up,
        steps=tuple(
            WorkflowStepRow(
                key=step["key"],
                step=step["step"],
                kind=step["kind"],
                item=step["item"],
                state=WorkflowStepState(step["state"]),
                outputs=json.loads(step["outputs"]),
                reason=step["reason"],
                commit=step["commit_sha"],
            )
            for step in steps
        ),
    )
