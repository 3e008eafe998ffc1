"""Ctrl-C during a run: attempts stop, their commits stay, and the ledger says interrupted."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from aifactory.testing.team import scripted_team
from tests.sim import sim_project
from tests.support import git


def _committed_steps(ledger: Path) -> int:
    if not ledger.exists():
        return 0
    with sqlite3.connect(ledger) as db:
        try:
            return db.execute("select count(*) from steps where state = 'committed'").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def test_ctrl_c_stops_the_attempts_keeps_their_commits_and_records_the_interruption(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=6), latency=0.15) as sim:
        plan = sim.cli("plan", "Write six notes", "--no-interactive")
        assert plan.returncode == 0, plan.stderr
        path = next((sim.repo / "plans").glob("*-plan.md"))
        ledger = sim.repo / ".factory" / "ledger.db"
        process = subprocess.Popen(
            [sys.executable, "-m", "aifactory", "--repo", str(sim.repo), "run", str(path), "-n", "2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **sim.env},
        )
        deadline = time.monotonic() + 60
        while _committed_steps(ledger) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)

    assert process.returncode == 130, out + err
    assert "interrupted" in err
    assert "Traceback" not in err
    with sqlite3.connect(ledger) as db:
        run_state = db.execute("select state from runs").fetchone()[0]
        attempts = db.execute("select name, state from attempts").fetchall()
        steps = db.execute(
            "select attempt, idx, state, commit_sha from steps order by attempt, idx"
        ).fetchall()
    assert run_state == "interrupted"
    assert {state for _, state in attempts} == {"interrupted"}
    committed = [(a, sha) for a, _, state, sha in steps if state == "committed"]
    assert 2 <= len(committed) < 12
    assert any(state == "interrupted" for _, _, state, _ in steps)
    for attempt, sha in committed:
        branch = git(sim.repo, "branch", "--contains", sha, "--format=%(refname:short)").split()
        assert branch == [next(b for b in branch if b.endswith(f"/{attempt}"))]
