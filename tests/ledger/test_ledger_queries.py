"""Finding runs by a typed prefix, what may be cleaned, and exact money."""

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aifactory.domain.events import AttemptChanged, ModelCalled, RunFinished
from aifactory.domain.run import AttemptState, Role, RunState
from aifactory.domain.usage import Usage
from aifactory.errors import NotFoundError
from aifactory.ledger.queries import cleanable, list_runs, resolve_run, run_detail, usage_by_role
from aifactory.ledger.store import Ledger

StartRun = Callable[..., None]


def _call(run_id: str, cost: str | None) -> ModelCalled:
    usage = Usage(input_tokens=1, cost=None if cost is None else Decimal(cost))
    return ModelCalled(
        run_id=run_id, attempt="a1", role=Role.EXECUTOR, provider="p", model="m", usage=usage, latency_ms=1
    )


def _finish(ledger: Ledger, run_id: str) -> None:
    ledger.record(RunFinished(run_id=run_id, state=RunState.FAILED, reason="no attempt passed"))


@pytest.fixture
def three_runs(ledger: Ledger, start_run: StartRun) -> Ledger:
    start_run("fix-login-1a2b", at=datetime(2026, 3, 1, tzinfo=UTC))
    start_run("fix-login-3c4d", at=datetime(2026, 3, 2, tzinfo=UTC))
    start_run("add-report-9f9f", at=datetime(2026, 3, 3, tzinfo=UTC))
    return ledger


def test_runs_are_listed_newest_first_up_to_the_limit(three_runs: Ledger) -> None:
    assert [run.id for run in list_runs(three_runs)] == [
        "add-report-9f9f",
        "fix-login-3c4d",
        "fix-login-1a2b",
    ]
    assert [run.id for run in list_runs(three_runs, limit=1)] == ["add-report-9f9f"]


def test_a_run_is_found_by_its_id_or_a_prefix_only_it_has(three_runs: Ledger) -> None:
    assert resolve_run(three_runs, "fix-login-3c4d") == "fix-login-3c4d"
    assert resolve_run(three_runs, "add") == "add-report-9f9f"
    assert resolve_run(three_runs, "fix-login-1") == "fix-login-1a2b"


def test_an_exact_id_wins_over_longer_ids_it_prefixes(ledger: Ledger, start_run: StartRun) -> None:
    start_run("abc")
    start_run("abcd")
    assert resolve_run(ledger, "abc") == "abc"


def test_an_ambiguous_prefix_lists_the_runs_it_matches(three_runs: Ledger) -> None:
    with pytest.raises(NotFoundError, match=r"'fix' matches 2 runs \(fix-login-3c4d, fix-login-1a2b\)"):
        resolve_run(three_runs, "fix")


@pytest.mark.parametrize("ref", ["zzz", "", "fix_login"])
def test_a_ref_matching_no_run_points_to_factory_status(three_runs: Ledger, ref: str) -> None:
    with pytest.raises(NotFoundError, match="run `factory status` to list recent runs"):
        resolve_run(three_runs, ref)


def test_an_unknown_run_id_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFoundError, match="no run 'nope' in the ledger"):
        run_detail(ledger, "nope")
    with pytest.raises(NotFoundError, match="no run 'nope' in the ledger"):
        cleanable(ledger, "nope")


def test_decimal_cost_survives_the_round_trip_and_sums_exactly(ledger: Ledger, start_run: StartRun) -> None:
    start_run("r", "a1")
    for cost in ("0.1", "0.2", None, "0.000000123456789012345678"):
        ledger.record(_call("r", cost))
    assert run_detail(ledger, "r").usage.cost == Decimal("0.300000123456789012345678")
    assert run_detail(ledger, "r").attempts[0].usage.cost == Decimal("0.300000123456789012345678")


def test_cost_is_unknown_only_when_no_call_had_a_price(ledger: Ledger, start_run: StartRun) -> None:
    start_run("r", "a1")
    ledger.record(_call("r", None))
    ledger.record(_call("r", None))
    assert run_detail(ledger, "r").usage == Usage(input_tokens=2, cost=None)
    assert list_runs(ledger)[0].usage.cost is None
    assert usage_by_role(ledger, "r")[Role.EXECUTOR].cost is None


def test_cleanable_lists_uncleaned_attempts_of_finished_runs_kept_ones_included(
    ledger: Ledger, start_run: StartRun
) -> None:
    start_run("done", "a1", "a2", "a3")
    start_run("live", "a1")
    ledger.mark_kept("done", "a1")
    ledger.mark_cleaned("done", "a2")
    _finish(ledger, "done")
    assert [(a.run_id, a.name, a.kept) for a in cleanable(ledger, None)] == [
        ("done", "a1", True),
        ("done", "a3", False),
    ]


def test_cleanable_for_one_run_lists_its_attempts_whatever_its_state(
    ledger: Ledger, start_run: StartRun
) -> None:
    start_run("live", "a1", "a2")
    ledger.record(AttemptChanged(run_id="live", attempt="a1", state=AttemptState.EXECUTING))
    assert [a.name for a in cleanable(ledger, "live")] == ["a1", "a2"]
    assert cleanable(ledger, None) == []


def test_a_run_of_a_live_process_is_not_stale(ledger: Ledger, start_run: StartRun) -> None:
    start_run("live", "a1")
    assert (list_runs(ledger)[0].state, list_runs(ledger)[0].stale) == (RunState.RUNNING, False)
    assert run_detail(ledger, "live").stale is False


def test_a_prefix_matching_many_runs_lists_the_newest_few(ledger: Ledger, start_run: StartRun) -> None:
    for day in range(1, 13):
        start_run(f"run-{day:02}", at=datetime(2026, 3, day, tzinfo=UTC))
    with pytest.raises(NotFoundError, match=r"'run' matches 12 runs \(run-12, run-11, .*, run-03, …\)"):
        resolve_run(ledger, "run")
