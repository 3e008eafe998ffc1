"""Budgets decide from the spending the events report: pure decisions."""

from __future__ import annotations

from decimal import Decimal

from aifactory.domain.budget import Budget, Spending
from aifactory.domain.events import ModelCalled
from aifactory.domain.run import Role
from aifactory.domain.usage import Usage


def _call(run: str | None, attempt: str | None, tokens: int, cost: str | None) -> ModelCalled:
    usage = Usage(input_tokens=tokens, cost=None if cost is None else Decimal(cost))
    return ModelCalled(
        run_id=run, attempt=attempt, role=Role.EXECUTOR, provider="p", model="m", usage=usage, latency_ms=1
    )


def test_a_run_budget_counts_every_attempt_and_an_attempt_budget_only_its_own() -> None:
    spending = Spending(Budget(run_tokens=100, attempt_tokens=60))
    spending(_call("r", "a1", 50, None))
    spending(_call("r", "a2", 30, None))
    assert spending.exceeded("r", "a1") is None
    spending(_call("r", "a1", 10, None))
    reason = spending.exceeded("r", "a1")
    assert reason == "budget reached: attempt a1 has used 60 of 60 tokens (set by [run] attempt_max_tokens)"
    assert spending.exceeded("r", "a2") is None
    spending(_call("r", "a2", 20, None))
    assert spending.exceeded("r", "a2") == (
        "budget reached: the run has used 110 of 100 tokens (set by --max-tokens)"
    )


def test_cost_budgets_and_what_they_ignore() -> None:
    spending = Spending(Budget(run_cost=Decimal("0.10")))
    spending(_call(None, None, 10_000, "5.00"))  # planning: no run to charge
    spending(_call("other", "a1", 10, "9.00"))
    spending(_call("r", "a1", 10, "0.04"))
    assert spending.exceeded("r", "a1") is None
    assert spending.exceeded(None, None) is None
    spending(_call("r", "a1", 10, "0.06"))
    assert "the run has spent $0.1000 of $0.10 (set by --max-cost)" in (spending.exceeded("r", None) or "")


def test_what_a_resumed_run_spent_before_counts_against_its_budgets() -> None:
    spending = Spending(Budget(run_cost=Decimal("1.00"), attempt_tokens=100))
    spending.carry("r", Usage(input_tokens=90, cost=Decimal("0.95")), {"a1": Usage(input_tokens=90)})
    assert spending.exceeded("r", "a2") is None
    spending(_call("r", "a1", 10, "0.01"))
    assert spending.exceeded("r", "a2") is None
    assert spending.exceeded("r", "a1") == (
        "budget reached: attempt a1 has used 100 of 100 tokens (set by [run] attempt_max_tokens)"
    )
    spending(_call("r", "a2", 1, "0.04"))
    assert (
        spending.exceeded("r", "a2")
        == "budget reached: the run has spent $1.0000 of $1.00 (set by --max-cost)"
    )
