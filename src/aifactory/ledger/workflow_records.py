"""How a workflow run's events become rows of `workflow_runs` and `workflow_steps`.

A step instance's row is written when it starts and updated when it ends, so a killed run leaves
its running steps marked `running`: a resume redoes exactly those and the ones never started.
"""

from __future__ import annotations

import json
import sqlite3
from typing import assert_never

from aifactory.domain.events import WorkflowFinished, WorkflowStarted, WorkflowStepChanged
from aifactory.domain.workflow import WorkflowState, WorkflowStepState
from aifactory.ledger.columns import require_one, timestamp


def write_workflow_event(
    db: sqlite3.Connection,
    event: WorkflowStarted | WorkflowStepChanged | WorkflowFinished,
    *,
    pid: int,
    host: str,
) -> None:
    match event:
        case WorkflowStarted():
            _started(db, event, pid, host)
        case WorkflowStepChanged():
            _step_changed(db, event)
        case WorkflowFinished():
            cursor = db.execute(
                "UPDATE workflow_runs SET state = ?, reason = ?, finished_at = ? WHERE id = ?",
                (event.state.value, event.reason, timestamp(event.at), event.run_id),
            )
            require_one(cursor, "workflow-finished", f"workflow run {event.run_id}", "workflow-started")
        case _:
            assert_never(event)


def _started(db: sqlite3.Connection, event: WorkflowStarted, pid: int, host: str) -> None:
    if event.resumed:
        cursor = db.execute(
            "UPDATE workflow_runs SET state = ?, reason = '', pid = ?, host = ?, finished_at = NULL "
            "WHERE id = ?",
            (WorkflowState.RUNNING.value, pid, host, event.run_id),
        )
        require_one(cursor, "a resumed workflow-started", f"workflow run {event.run_id}", "workflow-started")
        return
    db.execute(
        "INSERT INTO workflow_runs (id, workflow, file, inputs, branch, worktree, base_commit, state, "
        "pid, host, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            event.run_id,
            event.workflow,
            event.file,
            json.dumps(event.inputs),
            event.branch,
            event.worktree,
            event.base_commit,
            WorkflowState.RUNNING.value,
            pid,
            host,
            timestamp(event.at),
        ),
    )


def _step_changed(db: sqlite3.Connection, event: WorkflowStepChanged) -> None:
    at = timestamp(event.at)
    started = at if event.state is WorkflowStepState.RUNNING else None
    finished = None if event.state is WorkflowStepState.RUNNING else at
    db.execute(
        "INSERT INTO workflow_steps (run_id, key, step, kind, item, state, outputs, reason, commit_sha, "
        "started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (run_id, key) DO UPDATE SET state = excluded.state, outputs = excluded.outputs, "
        "reason = excluded.reason, commit_sha = excluded.commit_sha, "
        "started_at = coalesce(excluded.started_at, workflow_steps.started_at), "
        "finished_at = excluded.finished_at",
        (
            event.run_id,
            event.key,
            event.step,
            event.step_kind,
            event.item,
            event.state.value,
            json.dumps(event.outputs),
            event.reason,
            event.commit,
            started,
            finished,
        ),
    )
