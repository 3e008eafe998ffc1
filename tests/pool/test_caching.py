"""Prompt caching pays only if the cacheable prefix is the same bytes in every attempt of a run."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from aifactory.testing.team import scripted_team
from tests.engine.runs import plan_and_run
from tests.sim import sim_project


def test_the_cached_prefix_is_byte_identical_across_attempts_and_is_read_from_the_cache(
    tmp_path: Path,
) -> None:
    with sim_project(tmp_path, scripted_team(steps=1), run={"attempts": 2, "max_parallel": 1}) as sim:
        finished = plan_and_run(sim, attempts=2)
        executor = [
            r for r in sim.claude.requests if r.sim.offers("step_done") and r.sim.turns_since_user() == 0
        ]
    prefixes = {json.dumps([r.body["tools"], r.body["system"]], sort_keys=True) for r in executor}
    assert len(executor) == 2
    assert len(prefixes) == 1, "tools and system prompt must not differ between attempts"
    assert "cache_control" in next(iter(prefixes))
    with sqlite3.connect(sim.repo / ".factory" / "ledger.db") as db:
        query = "select attempt, sum(cache_read_tokens) from model_calls where role = ? group by attempt"
        read = db.execute(query, ("executor",)).fetchall()
    assert dict(read)["a2"] > 0, f"attempt a2 read nothing from the cache: {read} ({finished.outcome.reason})"
