"""`factory usage`: the bill of real runs on the simulated model, grouped and windowed; a table, JSON, CSV."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aifactory.domain.events import ModelCalled
from aifactory.domain.run import Role
from aifactory.domain.usage import Usage
from aifactory.ledger.store import Ledger
from aifactory.testing.team import scripted_team
from tests.sim import SimProject, sim_project

_AUCKLAND = "Pacific/Auckland"
_LAST_SUMMER = datetime(2026, 1, 15, 12, 30, tzinfo=UTC)
"""01:30 on January 16 in Auckland (UTC+13 in summer): calls on another local day than their UTC one."""


@contextmanager
def _after_a_run(tmp_path: Path) -> Iterator[SimProject]:
    with sim_project(tmp_path, scripted_team(steps=2)) as sim:
        ran = sim.cli("run", "Write the notes", "--attempts", "2")
        assert ran.returncode == 0, ran.stderr
        yield sim


def _usage(sim: SimProject, *args: str, tz: str | None = None) -> subprocess.CompletedProcess[str]:
    return sim.cli("usage", *args, env={"TZ": tz} if tz else None)


def _json(sim: SimProject, *args: str, tz: str | None = None) -> dict[str, Any]:
    result = _usage(sim, "--json", *args, tz=tz)
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def _ledger(sim: SimProject, sql: str) -> list[sqlite3.Row]:
    with sqlite3.connect(sim.repo / ".factory" / "ledger.db") as db:
        db.row_factory = sqlite3.Row
        return db.execute(sql).fetchall()


def test_each_grouping_of_a_real_run_adds_up_to_what_the_ledger_recorded(tmp_path: Path) -> None:
    with _after_a_run(tmp_path) as sim:
        sums = "COUNT(*) AS calls, SUM(input_tokens) AS input, SUM(output_tokens) AS output"
        recorded = _ledger(sim, f"SELECT {sums} FROM model_calls")[0]
        cost = sum((Decimal(row["cost"]) for row in _ledger(sim, "SELECT cost FROM model_calls")), Decimal(0))
        (run_id,) = (row["id"] for row in _ledger(sim, "SELECT id FROM runs"))
        planning = _ledger(
            sim, "SELECT DISTINCT run_id FROM model_calls WHERE role IN ('planner', 'plan-reviewer')"
        )
        assert [row["run_id"] for row in planning] == [run_id], "planning an ask to run is the run's cost"
        expected = {
            "provider": ["sim", "sim-openai"],
            "model": ["sim-openai:gpt-6.1-sol", "sim:claude-sonnet-5-5"],
            "role": ["ask-verifier", "executor", "plan-reviewer", "plan-verifier", "planner"],
            "run": [run_id],
            "day": [datetime.now().astimezone().date().isoformat()],
        }
        for by, keys in expected.items():
            report = _json(sim, "--by", by)
            assert report["by"] == by
            assert [line["key"] for line in report["lines"]] == keys
            total = report["total"]
            assert (total["calls"], total["failed"], total["unpriced"]) == (recorded["calls"], 0, 0)
            assert (total["input_tokens"], total["output_tokens"]) == (recorded["input"], recorded["output"])
            assert Decimal(total["cost"]) == cost
            assert sum(line["calls"] for line in report["lines"]) == total["calls"]

        table = _usage(sim, "--by", "run")
        assert table.returncode == 0, table.stderr
        assert "model calls by run" in table.stdout
        assert run_id in table.stdout and "(planning)" not in table.stdout, "`run ASK` charges its planning"
        assert f"${cost:.4f}" in table.stdout.split("total")[-1]


def test_the_csv_reads_back_as_the_numbers_of_the_json(tmp_path: Path) -> None:
    with _after_a_run(tmp_path) as sim:
        report = _json(sim, "--by", "role")
        result = _usage(sim, "--by", "role", "--csv")
        assert result.returncode == 0, result.stderr
        rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
        assert [row["role"] for row in rows] == [line["key"] for line in report["lines"]] + ["(total)"]
        for row, line in zip(rows, [*report["lines"], report["total"]], strict=True):
            assert int(row["calls"]) == line["calls"] and int(row["failed_calls"]) == line["failed"]
            assert int(row["input_tokens"]) == line["input_tokens"]
            assert int(row["output_tokens"]) == line["output_tokens"]
            assert int(row["cache_read_tokens"]) == line["cache_read_tokens"]
            assert int(row["cache_write_tokens"]) == line["cache_write_tokens"]
            assert Decimal(row["cost_usd"]) == Decimal(line["cost"])
            assert int(row["unpriced_calls"]) == line["unpriced"]


def test_the_csv_is_rfc_4180_with_crlf_line_ends(tmp_path: Path) -> None:
    with _after_a_run(tmp_path) as sim:
        raw = subprocess.run(
            [sys.executable, "-m", "aifactory", "--repo", str(sim.repo), "usage", "--csv"],
            capture_output=True,
            check=False,
        )
        assert raw.returncode == 0, raw.stderr
        assert raw.stdout.startswith(b"provider,calls,failed_calls,")
        assert raw.stdout.count(b"\r\n") == 4 and b"\n" not in raw.stdout.replace(b"\r\n", b"")


def _earlier_calls(sim: SimProject) -> None:
    """Calls at 12:30, 12:31 and 12:32 UTC last summer, recorded by the ledger's own writer: one priced,
    one nobody priced, one failed."""
    calls = [
        Usage(input_tokens=1000, output_tokens=100, cost=Decimal("0.5")),
        Usage(input_tokens=2000, output_tokens=200),
        Usage(),
    ]
    with Ledger.open(sim.repo / ".factory" / "ledger.db") as ledger:
        for number, spent in enumerate(calls):
            ledger.record(
                ModelCalled(
                    at=_LAST_SUMMER + timedelta(minutes=number),
                    role=Role.PLANNER,
                    provider="sim",
                    model="claude-sonnet-5-5",
                    usage=spent,
                    latency_ms=10,
                    error="HTTP 529 overloaded_error" if number == 2 else None,
                )
            )


def test_since_and_until_read_dates_and_times_in_local_time(tmp_path: Path) -> None:
    with _after_a_run(tmp_path) as sim:
        _earlier_calls(sim)
        today = datetime.now(ZoneInfo(_AUCKLAND)).date().isoformat()

        by_day = _json(sim, "--by", "day", tz=_AUCKLAND)
        assert [line["key"] for line in by_day["lines"]] == ["2026-01-16", today]
        summer = by_day["lines"][0]
        assert (summer["calls"], summer["failed"], summer["unpriced"], summer["cost"]) == (3, 1, 1, "0.5")

        def calls(*window: str) -> int:
            total: int = _json(sim, *window, tz=_AUCKLAND)["total"]["calls"]
            return total

        everything = by_day["total"]["calls"]
        assert calls("--until", "2026-01-15") == 0
        assert calls("--until", "2026-01-16") == 3
        assert calls("--since", "2026-01-16", "--until", "2026-01-16T01:31") == 1
        assert calls("--since", "2026-01-16T01:32") == everything - 2
        assert calls("--since", "2026-01-15T12:31+00:00", "--until", "2026-01-17") == 2
        assert calls("--since", today) == everything - 3

        empty = _usage(sim, "--until", "2026-01-15", tz=_AUCKLAND)
        assert empty.returncode == 0 and "No model calls recorded in that window." in empty.stdout


def test_a_line_with_calls_nobody_priced_shows_the_known_sum_and_how_many_were_left_out(
    tmp_path: Path,
) -> None:
    with _after_a_run(tmp_path) as sim:
        _earlier_calls(sim)
        only_unpriced = _usage(sim, "--since", "2026-01-15T12:31Z", "--until", "2026-01-15T12:31:30Z")
        assert only_unpriced.returncode == 0, only_unpriced.stderr
        assert re.search(r"^sim +1 +0 .* unknown +1$", only_unpriced.stdout, flags=re.MULTILINE)

        table = _usage(sim, "--by", "provider")
        assert re.search(r"^sim +\d+ +1 .* \$\d+\.\d{4} +1$", table.stdout, flags=re.MULTILINE)
        assert re.search(r"^sim-openai +2 +0 .* \$\d+\.\d{4} +0$", table.stdout, flags=re.MULTILINE)
        assert "1 call(s) had no price" in table.stdout
        assert '[prices."PROVIDER:MODEL"]' in table.stdout

        priced = _usage(sim, "--since", "2026-02-01")
        assert "unpriced" not in priced.stdout and "no price" not in priced.stdout


def test_a_bad_date_names_its_flag_and_exits_2(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team()) as sim:
        for flag, value in (("--since", "2026-13-01"), ("--until", "last tuesday")):
            result = _usage(sim, flag, value)
            assert result.returncode == 2
            assert f"{flag} {value!r} is not a date: write YYYY-MM-DD" in result.stderr
            assert "Traceback" not in result.stderr
        backwards = _usage(sim, "--since", "2026-03-02", "--until", "2026-03-01")
        assert backwards.returncode == 2 and "is not before --until" in backwards.stderr
        both = _usage(sim, "--json", "--csv")
        assert both.returncode == 2 and "--json and --csv" in both.stderr


def test_a_bad_price_in_the_config_names_file_line_and_key_and_exits_2(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team()) as sim:
        config = sim.repo / ".factory" / "config.toml"
        text = config.read_text()
        config.write_text(text + '[prices."sim:claude-sonnet-5-5"]\ninput = -3\noutput = 15\n')
        line = len(text.splitlines()) + 2
        result = _usage(sim)
        assert result.returncode == 2
        assert f'config.toml:{line}: [prices."sim:claude-sonnet-5-5"] input: ' in result.stderr
        assert "greater than or equal to 0" in result.stderr
