"""Small agents' runs as `factory show` lists them under each attempt: an agent's commit, or why its
change was dropped (`records.py` writes the rows)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from aifactory.ledger.store import Snapshot


class AgentRunDetail(BaseModel):
    """One small agent's run as recorded."""

    model_config = ConfigDict(frozen=True)

    agent: str
    branch: str
    commit: str | None
    dropped: str | None
    summary: str
    report: tuple[str, ...]
    at: datetime


def agent_runs(db: Snapshot, run_id: str) -> dict[str | None, list[AgentRunDetail]]:
    """A run's small-agent runs by attempt, oldest first."""
    found: dict[str | None, list[AgentRunDetail]] = defaultdict(list)
    for row in db.rows("SELECT * FROM small_agent_runs WHERE run_id = ? ORDER BY id", (run_id,)):
        found[row["attempt"]].append(
            AgentRunDetail(
                agent=row["agent"],
                branch=row["branch"],
                commit=row["commit_sha"],
                dropped=row["dropped"],
                summary=row["summary"],
                report=tuple(json.loads(row["report"])),
                at=row["at"],
            )
        )
    return found
