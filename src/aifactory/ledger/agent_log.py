"""Read model of what the executor's agents did inside each step: their tool calls, in order.

Kept apart from `queries.py` (which reads them in with each step) because every agent kind, the
built-in one included, records its calls the same way, so `factory show` lists them uniformly.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from aifactory.ledger.store import Snapshot


class ToolUse(BaseModel):
    """One tool call: which agent made it, the tool, what it acted on, and whether it succeeded."""

    model_config = ConfigDict(frozen=True)

    agent: str
    tool: str
    target: str
    ok: bool
    at: datetime


def tool_uses(db: Snapshot, run_id: str) -> dict[tuple[str, int], list[ToolUse]]:
    """A run's tool calls by (attempt, step), oldest first; a step carried out twice lists both tries."""
    found: dict[tuple[str, int], list[ToolUse]] = defaultdict(list)
    for row in db.rows("SELECT * FROM tool_calls WHERE run_id = ? ORDER BY id", (run_id,)):
        found[(row["attempt"], row["step"])].append(
            ToolUse(agent=row["agent"], tool=row["tool"], target=row["target"], ok=row["ok"], at=row["at"])
        )
    return found
