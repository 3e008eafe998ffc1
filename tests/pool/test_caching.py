"""Prompt caching pays only if the cacheable prefix is the same bytes in every attempt of a run."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aifactory.testing.endpoint import RecordedRequest
from aifactory.testing.team import attempt_of, scripted_team, step_of
from aifactory.testing.tokens import count_tokens
from aifactory.testing.wire_anthropic import MAX_BREAKPOINTS, AnthropicWire
from tests.engine.runs import plan_and_run
from tests.sim import sim_project


def _cached_prefix(body: Mapping[str, Any]) -> str:
    """Tools, system and the messages up to the last block marked for caching, as the provider reads them."""
    messages: list[dict[str, Any]] = []
    for message in body["messages"]:
        blocks = message["content"] if isinstance(message["content"], list) else []
        marked = [i for i, block in enumerate(blocks) if "cache_control" in block]
        if marked:
            messages.append({**message, "content": blocks[: marked[-1] + 1]})
    return json.dumps([body["tools"], body["system"], messages], sort_keys=True)


def _first_turns(requests: list[RecordedRequest]) -> dict[tuple[str, int], RecordedRequest]:
    """Each step's first executor request, by attempt and step."""
    return {
        (attempt_of(r.sim), step_of(r.sim)): r
        for r in requests
        if r.sim.offers("step_done") and r.sim.turns_since_user() == 0
    }


def _cached_tokens(body: Mapping[str, Any]) -> int:
    """The tokens of the prefix up to the request's last cache breakpoint, as the fake counts them."""
    segments = AnthropicWire().segments(body)
    last = max(i for i, segment in enumerate(segments, start=1) if segment.breakpoint)
    return count_tokens(sum(len(segment.text) for segment in segments[:last]))


def test_the_cached_prefix_holds_the_plan_is_byte_identical_across_attempts_and_is_read_from_the_cache(
    tmp_path: Path,
) -> None:
    with sim_project(tmp_path, scripted_team(steps=2), run={"attempts": 2, "max_parallel": 1}) as sim:
        finished = plan_and_run(sim, attempts=2)
        requests = sim.claude.requests
        [plan_file] = asyncio.run(sim.project()).plans_dir.glob("*-plan.md")
        plan = plan_file.read_text(encoding="utf-8")
    first_turns = _first_turns(requests)
    assert sorted(first_turns) == [("a1", 1), ("a1", 2), ("a2", 1), ("a2", 2)]
    prefixes = {_cached_prefix(r.body) for r in first_turns.values()}
    assert len(prefixes) == 1, "tools, system prompt and plan must not differ between steps and attempts"
    [prefix] = prefixes
    assert json.dumps(plan.strip())[1:-1] in prefix, "the plan is inside the cached prefix"
    assert "Your step" not in prefix and "(Attempt" not in prefix, "what changes per step stays outside"
    assert all(prefix.count("cache_control") <= MAX_BREAKPOINTS for prefix in prefixes)

    with sqlite3.connect(sim.repo / ".factory" / "ledger.db") as db:
        query = (
            "select attempt, step, cache_read_tokens, cache_write_tokens from model_calls"
            " where role = 'executor' order by id"
        )
        calls = db.execute(query).fetchall()
    first_call = {}
    for attempt, step, read, written in calls:
        first_call.setdefault((attempt, step), (read, written))
    whole_prefix = _cached_tokens(first_turns[("a2", 1)].body)
    assert first_call[("a1", 1)] == (0, whole_prefix), "the first request writes the prefix"
    assert first_call[("a1", 2)] == (whole_prefix, 0), "the next step reads it, plan included"
    assert first_call[("a2", 1)] == (whole_prefix, 0), (
        f"attempt a2 did not read the whole prefix from the cache: {calls} ({finished.outcome.reason})"
    )
