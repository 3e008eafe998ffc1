"""Two `factory run` processes on one repository share its ledger, so a cooldown one run records holds
for the other: a provider that said "not now" is not asked again by anyone until its reset."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from aifactory.testing import FaultsWhen, HttpError
from aifactory.testing.team import scripted_team
from tests.pool.seats import Choices, Seat, choices, executor_step
from tests.support import git


def _factory(project: Choices, ask: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "aifactory", "--repo", str(project.sim.repo), "run", ask, "--no-interactive"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **project.sim.env, "COLUMNS": "200"},
    )


def _cooled(project: Choices) -> bool:
    """Whether the ledger holds a cooldown yet; read-only, so polling never creates or locks it."""
    ledger = project.sim.repo / ".factory" / "ledger.db"
    try:
        with sqlite3.connect(f"{ledger.as_uri()}?mode=ro", uri=True) as db:
            return bool(db.execute("select 1 from provider_events where kind = 'provider-cooled'").fetchall())
    except sqlite3.OperationalError:
        return False


def _wait_for_a_cooldown(project: Choices, run: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not _cooled(project):
        assert run.poll() is None, run.communicate()
        assert time.monotonic() < deadline, "the first run never hit the limit"
        time.sleep(0.05)


def _finish(run: subprocess.Popen[str]) -> str:
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, out + err
    found = re.search(r"run (\S+): 1 attempt", out)
    assert found, out
    return found.group(1)


def test_a_second_run_started_during_the_first_skips_the_provider_the_first_found_cooling(
    tmp_path: Path,
) -> None:
    limited = FaultsWhen(scripted_team(steps=2), executor_step, HttpError(429, headers={"retry-after": "30"}))
    # The backup answers slowly, so the first run is still working when the second one starts.
    backup = Seat("openai", scripted_team(steps=2), latency=0.15)
    with choices(tmp_path, Seat("anthropic", limited), backup, run={"attempts": 1}) as project:
        first_run = _factory(project, "Write the notes")
        _wait_for_a_cooldown(project, first_run)
        second_run = _factory(project, "Write more notes")
        assert first_run.poll() is None, "both runs are going at once"
        runs = [_finish(first_run), _finish(second_run)]

    refused = [r.sim for r in project.first.requests if executor_step(r.sim)]
    assert len(refused) == 1, "one 429 in all: the second run read the cooldown from the ledger"
    assert not [r for r in project.first.requests if "Write more notes" in r.sim.prompt]
    for run in runs:
        subjects = git(project.sim.repo, "log", "--reverse", "--format=%s", f"main..factory/{run}/a1")
        assert subjects.splitlines() == ["step 1/2: Write note 1", "step 2/2: Write note 2"]
    ledger = project.sim.repo / ".factory" / "ledger.db"
    with sqlite3.connect(ledger) as db:
        second = db.execute(
            "select distinct provider, error is null from model_calls where run_id = ?", (runs[1],)
        ).fetchall()
        states = db.execute("select state from runs where id in (?, ?)", runs).fetchall()
    assert second == [("second", 1)], (
        "the second run did all its work on the second choice, without a failure"
    )
    assert states == [("passed",), ("passed",)]
