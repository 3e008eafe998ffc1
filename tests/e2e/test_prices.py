"""A price in the configuration sets what the calls made after it cost, as the ledger records them."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from aifactory.testing.team import scripted_team
from tests.sim import sim_project

_OVERRIDE = (
    '[prices."sim:claude-sonnet-5-5"]\ninput = 1000\noutput = 2000\ncache_write = 3000\ncache_read = 100\n'
)


def _calls(repo: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(repo / ".factory" / "ledger.db") as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM model_calls ORDER BY id").fetchall()


def _at_override(call: sqlite3.Row) -> Decimal:
    uncached = call["input_tokens"] - call["cache_read_tokens"] - call["cache_write_tokens"]
    cents = uncached * 1000 + call["output_tokens"] * 2000
    cents += call["cache_write_tokens"] * 3000 + call["cache_read_tokens"] * 100
    return Decimal(cents) / 1_000_000


def test_a_price_in_the_config_sets_the_cost_of_new_calls_and_leaves_recorded_ones(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team()) as sim:
        assert sim.cli("plan", "Write the notes").returncode == 0
        shipped = [dict(call) for call in _calls(sim.repo)]
        assert shipped and all(call["cost"] is not None for call in shipped)

        config = sim.repo / ".factory" / "config.toml"
        config.write_text(config.read_text() + _OVERRIDE)
        planned = sim.cli("plan", "Write the notes again")
        assert planned.returncode == 0, planned.stderr

        calls = _calls(sim.repo)
        assert [dict(call) for call in calls[: len(shipped)]] == shipped
        new = calls[len(shipped) :]
        assert new and {call["provider"] for call in new} == {"sim"}
        for call in new:
            assert Decimal(call["cost"]) == _at_override(call)
