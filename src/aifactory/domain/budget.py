"""Budgets: how much a run, and each of its attempts, may spend before new work stops.

Spending is summed from the `ModelCalled` events as they happen; the pool asks before every
request whether the caller's run or attempt may still spend, so a budget stops work at the next
model request, cleanly, with a reason that names the limit and the flag or key that set it.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from aifactory.domain.events import Event, ModelCalled
from aifactory.domain.usage import Usage


@dataclass(frozen=True)
class Budget:
    """Limits in USD and tokens (input + output); None is no limit."""

    run_cost: Decimal | None = None
    run_tokens: int | None = None
    attempt_cost: Decimal | None = None
    attempt_tokens: int | None = None


@dataclass
class Spending:
    """Running totals per run and per attempt, fed by the event bus."""

    budget: Budget
    _runs: dict[str, Usage] = field(default_factory=lambda: defaultdict(Usage))
    _attempts: dict[tuple[str, str], Usage] = field(default_factory=lambda: defaultdict(Usage))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: Event) -> None:
        if not isinstance(event, ModelCalled) or event.run_id is None:
            return
        with self._lock:
            self._runs[event.run_id] += event.usage
            if event.attempt is not None:
                self._attempts[(event.run_id, event.attempt)] += event.usage

    def carry(self, run_id: str, spent: Usage, attempts: Mapping[str, Usage]) -> None:
        """Count what a run and its attempts spent before this process took the run up (a resume)."""
        with self._lock:
            self._runs[run_id] += spent
            for attempt, usage in attempts.items():
                self._attempts[(run_id, attempt)] += usage

    def exceeded(self, run_id: str | None, attempt: str | None) -> str | None:
        """Why no more may be spent for this run or attempt, or None while the budget allows it."""
        if run_id is None:
            return None
        with self._lock:
            run = self._runs.get(run_id, Usage())
            spent = self._attempts.get((run_id, attempt), Usage()) if attempt else None
        budget = self.budget
        reason = _over(run, budget.run_cost, budget.run_tokens, "the run", ("--max-cost", "--max-tokens"))
        if reason is None and spent is not None:
            settings = ("[run] attempt_max_cost", "[run] attempt_max_tokens")
            reason = _over(spent, budget.attempt_cost, budget.attempt_tokens, f"attempt {attempt}", settings)
        return reason


def _over(
    usage: Usage, cost: Decimal | None, tokens: int | None, whose: str, settings: tuple[str, str]
) -> str | None:
    if cost is not None and usage.cost is not None and usage.cost >= cost:
        return f"budget reached: {whose} has spent ${usage.cost:.4f} of ${cost} (set by {settings[0]})"
    if tokens is not None and usage.total_tokens >= tokens:
        return (
            f"budget reached: {whose} has used {usage.total_tokens} of {tokens} tokens (set by {settings[1]})"
        )
    return None
