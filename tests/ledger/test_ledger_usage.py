"""The bill from the ledger: grouped every way, windowed in time, exact, honest about what has no price."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from aifactory.domain.events import ModelCalled
from aifactory.domain.run import Role
from aifactory.domain.usage import Usage
from aifactory.ledger.store import Ledger
from aifactory.ledger.usage import PLANNING, TOTAL, UsageKey, UsageLine, usage

_DAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _call(
    *,
    provider: str = "anthropic",
    model: str = "claude-sonnet-5-5",
    role: Role = Role.EXECUTOR,
    run_id: str | None = "fix-login-1a2b",
    at: datetime = _DAY,
    cost: str | None = "0.01",
    error: str | None = None,
    tokens: int = 1000,
) -> ModelCalled:
    spent = Usage(
        input_tokens=tokens,
        output_tokens=tokens // 10,
        cache_read_tokens=tokens // 2,
        cache_write_tokens=tokens // 4,
        cost=None if cost is None else Decimal(cost),
    )
    return ModelCalled(
        at=at,
        run_id=run_id,
        role=role,
        provider=provider,
        model=model,
        usage=Usage() if error else spent,
        latency_ms=5,
        error=error,
    )


@pytest.fixture
def billed(ledger: Ledger) -> Ledger:
    """Planning, two runs, two providers, a self-hosted model nobody priced, and a failed call."""
    calls = [
        _call(role=Role.PLANNER, run_id=None, at=_DAY - timedelta(days=2), cost="0.1"),
        _call(run_id="fix-login-1a2b", cost="0.2"),
        _call(run_id="fix-login-1a2b", cost="0.000000123456789012345678"),
        _call(run_id="fix-login-1a2b", role=Role.ASK_VERIFIER, provider="openai", model="gpt-6.1-sol"),
        _call(
            run_id="add-report-9f9f",
            provider="ollama",
            model="qwen3-coder",
            cost=None,
            at=_DAY + timedelta(1),
        ),
        _call(run_id="add-report-9f9f", error="HTTP 529 overloaded_error", at=_DAY + timedelta(days=1)),
    ]
    for call in calls:
        ledger.record(call)
    return ledger


def _keys(lines: tuple[UsageLine, ...]) -> list[str]:
    return [line.key for line in lines]


def test_every_grouping_adds_up_to_the_same_total(billed: Ledger) -> None:
    totals = {by: usage(billed, by).total for by in UsageKey}
    assert len(set(totals.values())) == 1
    total = totals[UsageKey.PROVIDER]
    assert total.key == TOTAL
    assert (total.calls, total.failed, total.unpriced) == (6, 1, 1)
    assert (total.input_tokens, total.output_tokens) == (5000, 500)
    assert (total.cache_read_tokens, total.cache_write_tokens) == (2500, 1250)
    assert total.cost == Decimal("0.310000123456789012345678")


def test_lines_by_each_key(billed: Ledger) -> None:
    assert _keys(usage(billed, UsageKey.PROVIDER).lines) == ["anthropic", "ollama", "openai"]
    assert _keys(usage(billed, UsageKey.ROLE).lines) == ["ask-verifier", "executor", "planner"]
    assert _keys(usage(billed, UsageKey.MODEL).lines) == [
        "anthropic:claude-sonnet-5-5",
        "ollama:qwen3-coder",
        "openai:gpt-6.1-sol",
    ]
    days = [(_DAY + timedelta(days=n)).astimezone().date().isoformat() for n in (-2, 0, 1)]
    assert _keys(usage(billed, UsageKey.DAY).lines) == days


def test_planning_calls_count_under_a_run_of_their_own_and_runs_come_in_the_order_they_began(
    billed: Ledger,
) -> None:
    lines = usage(billed, UsageKey.RUN).lines
    assert _keys(lines) == [PLANNING, "fix-login-1a2b", "add-report-9f9f"]
    assert lines[0].calls == 1 and lines[0].cost == Decimal("0.1")


def test_a_cost_is_the_known_sum_with_the_unpriced_calls_counted_and_unknown_only_when_nothing_was_priced(
    billed: Ledger,
) -> None:
    by_run = {line.key: line for line in usage(billed, UsageKey.RUN).lines}
    assert by_run["add-report-9f9f"].cost is None
    assert (by_run["add-report-9f9f"].unpriced, by_run["add-report-9f9f"].failed) == (1, 1)
    by_provider = {line.key: line for line in usage(billed, UsageKey.PROVIDER).lines}
    assert by_provider["ollama"].cost is None
    assert by_provider["anthropic"].cost == Decimal("0.300000123456789012345678")
    assert by_provider["anthropic"].failed == 1 and by_provider["anthropic"].unpriced == 0


def test_a_group_of_failed_calls_only_cost_nothing_rather_than_an_unknown_amount(ledger: Ledger) -> None:
    ledger.record(_call(error="HTTP 500"))
    assert usage(ledger, UsageKey.PROVIDER).lines[0].cost == 0


def test_the_window_includes_its_start_and_excludes_its_end(billed: Ledger) -> None:
    at_day = usage(billed, UsageKey.RUN, since=_DAY, until=_DAY + timedelta(days=1))
    assert _keys(at_day.lines) == ["fix-login-1a2b"]
    assert at_day.total.calls == 3
    assert _keys(usage(billed, UsageKey.RUN, since=_DAY + timedelta(microseconds=1)).lines) == [
        "add-report-9f9f"
    ]
    assert _keys(usage(billed, UsageKey.RUN, until=_DAY).lines) == [PLANNING]


def test_a_window_given_in_another_zone_means_the_same_moment(billed: Ledger) -> None:
    tokyo = _DAY.astimezone(timezone(timedelta(hours=9)))
    assert tokyo.hour == 21
    assert usage(billed, UsageKey.RUN, since=tokyo).total.calls == 5


def test_no_calls_make_an_empty_report_that_costs_nothing(ledger: Ledger) -> None:
    report = usage(ledger, UsageKey.DAY)
    assert report.lines == ()
    assert report.total.calls == 0 and report.total.cost == 0
