"""A real ledger file in a fresh `.factory/` for every test, and a quick way to start runs in it."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aifactory.domain.events import AttemptPlanned, RunStarted
from aifactory.ledger.store import Ledger


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "repo" / ".factory" / "ledger.db"


@pytest.fixture
def ledger(ledger_path: Path) -> Iterator[Ledger]:
    with Ledger.open(ledger_path) as opened:
        yield opened


@pytest.fixture
def start_run(ledger: Ledger) -> Callable[..., None]:
    """Record a run and its planned attempts, as the engine does before creating worktrees."""

    def start(run_id: str, *attempts: str, at: datetime = datetime(2026, 3, 1, tzinfo=UTC)) -> None:
        ledger.record(
            RunStarted(
                at=at,
                run_id=run_id,
                title=f"title of {run_id}",
                ask="an ask",
                plan_path="plans/p-plan.md",
                repo="/repo",
                base_commit="abc123",
                attempts=len(attempts),
                steps=1,
            )
        )
        for name in attempts:
            ledger.record(
                AttemptPlanned(
                    run_id=run_id, attempt=name, branch=f"factory/{run_id}/{name}", worktree=f"/wt/{name}"
                )
            )

    return start
