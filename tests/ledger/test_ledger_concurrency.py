"""Several processes and threads share one ledger; a killed process leaves a truthful record."""

import multiprocessing
import sqlite3
import threading
import time
from decimal import Decimal
from multiprocessing.synchronize import Barrier
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path

from aifactory.domain.events import (
    AttemptChanged,
    AttemptPlanned,
    ModelCalled,
    RunFinished,
    RunStarted,
    StepStarted,
)
from aifactory.domain.run import AttemptState, Role, RunState, StepState
from aifactory.domain.usage import Usage
from aifactory.ledger.migrations import MIGRATIONS
from aifactory.ledger.queries import cleanable, list_runs, run_detail
from aifactory.ledger.store import Ledger

SPAWN = multiprocessing.get_context("spawn")


def _start(ledger: Ledger, run_id: str) -> None:
    ledger.record(
        RunStarted(
            run_id=run_id,
            title=run_id,
            ask="an ask",
            plan_path="plans/p-plan.md",
            repo="/repo",
            base_commit="abc123",
            attempts=1,
            steps=1,
        )
    )
    ledger.record(AttemptPlanned(run_id=run_id, attempt="a1", branch=f"factory/{run_id}/a1", worktree="/wt"))
    ledger.record(AttemptChanged(run_id=run_id, attempt="a1", state=AttemptState.EXECUTING))
    ledger.record(StepStarted(run_id=run_id, attempt="a1", index=1, total=1, title="Write it"))


def _call(run_id: str, index: int) -> ModelCalled:
    return ModelCalled(
        run_id=run_id,
        attempt="a1",
        step=index,
        role=Role.EXECUTOR,
        provider="p",
        model="m",
        usage=Usage(input_tokens=10, cost=Decimal("0.01")),
        latency_ms=1,
    )


def _write_a_run(path: str, run_id: str, calls: int, barrier: Barrier) -> None:
    """Both processes open the (new) ledger at the same moment, then write as fast as they can."""
    barrier.wait(timeout=60)
    with Ledger.open(Path(path)) as ledger:
        _start(ledger, run_id)
        for index in range(calls):
            ledger.record(_call(run_id, index))
        ledger.record(RunFinished(run_id=run_id, state=RunState.PASSED))


def _write_until_killed(path: str, ready: ProcessEvent) -> None:
    with Ledger.open(Path(path)) as ledger:
        _start(ledger, "killed")
        index = 0
        while True:
            ledger.record(_call("killed", index))
            index += 1
            if index == 20:
                ready.set()


def test_two_processes_writing_one_new_ledger_at_once_lose_nothing(ledger_path: Path) -> None:
    barrier = SPAWN.Barrier(2)
    writers = [
        SPAWN.Process(target=_write_a_run, args=(str(ledger_path), run_id, 150, barrier))
        for run_id in ("r1", "r2")
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=60)
    assert [writer.exitcode for writer in writers] == [0, 0]
    with Ledger.open(ledger_path) as ledger:
        for run_id in ("r1", "r2"):
            run = run_detail(ledger, run_id)
            assert (run.state, run.model_calls) == (RunState.PASSED, 150)
            assert run.usage == Usage(input_tokens=1500, cost=Decimal("1.50"))
    with sqlite3.connect(ledger_path) as conn:
        assert conn.execute("SELECT name FROM migrations").fetchall() == [(name,) for name, _ in MIGRATIONS]


def test_a_killed_run_keeps_every_event_recorded_before_the_kill_and_shows_stale(
    ledger: Ledger, ledger_path: Path
) -> None:
    ready = SPAWN.Event()
    writer = SPAWN.Process(target=_write_until_killed, args=(str(ledger_path), ready))
    writer.start()
    assert ready.wait(timeout=60)
    writer.kill()
    writer.join(timeout=60)
    run = run_detail(ledger, "killed")
    assert (run.state, run.stale, list_runs(ledger)[0].stale) == (RunState.RUNNING, True, True)
    (attempt,) = run.attempts
    assert (attempt.state, attempt.steps[0].state) == (AttemptState.EXECUTING, StepState.RUNNING)
    assert attempt.model_calls >= 20
    assert [(a.run_id, a.name) for a in cleanable(ledger, None)] == [("killed", "a1")]
    with sqlite3.connect(ledger_path) as conn:
        steps = [step for (step,) in conn.execute("SELECT step FROM model_calls ORDER BY id")]
        assert steps == list(range(attempt.model_calls))
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_the_ledger_is_in_wal_mode(ledger: Ledger, ledger_path: Path) -> None:
    with sqlite3.connect(ledger_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_reading_while_another_connection_writes_sees_what_was_committed(
    ledger: Ledger, ledger_path: Path
) -> None:
    _start(ledger, "committed")
    writer = sqlite3.connect(ledger_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE runs SET state = 'passed'")
    assert [(run.id, run.state) for run in list_runs(ledger)] == [("committed", RunState.RUNNING)]
    writer.execute("COMMIT")
    writer.close()
    assert list_runs(ledger)[0].state is RunState.PASSED


def test_recording_waits_for_another_writer_instead_of_failing(ledger: Ledger, ledger_path: Path) -> None:
    _start(ledger, "r")
    writer = sqlite3.connect(ledger_path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, writer.execute, args=("COMMIT",))
    release.start()
    began = time.monotonic()
    ledger.record(RunFinished(run_id="r", state=RunState.FAILED))
    assert time.monotonic() - began >= 0.2
    release.join()
    writer.close()
    assert run_detail(ledger, "r").state is RunState.FAILED


def test_a_progress_thread_reads_while_the_engine_thread_records(ledger: Ledger) -> None:
    _start(ledger, "r")
    failures: list[BaseException] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                run_detail(ledger, "r")
                list_runs(ledger)
            except BaseException as error:  # the assertion below reports it
                failures.append(error)
                return

    watcher = threading.Thread(target=watch)
    watcher.start()
    for index in range(200):
        ledger.record(_call("r", index))
    done.set()
    watcher.join()
    assert failures == []
    assert run_detail(ledger, "r").model_calls == 200
