"""`factory workflow resume RUN` after a `factory workflow run` killed with SIGKILL mid-step: done
steps are not redone, the interrupted one runs again from its workspace's last commit."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from aifactory.testing.team import scripted_team
from tests.sim import SimProject, sim_project


def _query(sim: SimProject, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(sim.repo / ".factory" / "ledger.db")) as db:
        return db.execute(sql).fetchall()


def _states(sim: SimProject) -> dict[object, object]:
    """Each step's state, or nothing while the run is still creating (and migrating) its ledger."""
    if not (sim.repo / ".factory" / "ledger.db").exists():
        return {}
    if not _query(sim, "select 1 from sqlite_master where name = 'workflow_steps'"):
        return {}
    return dict(_query(sim, "select key, state from workflow_steps"))


def _listed(table: str, run_id: str) -> list[str]:
    """The cells of `run_id`'s row in `factory workflow runs`."""
    row = next(line for line in table.splitlines() if line.strip().startswith(run_id))
    return re.split(r"\s{2,}", row.strip())


def _flow(count: Path, go: Path) -> str:
    """Two steps: the first counts its runs, the second waits for `go` after writing a partial file."""
    return f"""
[[steps]]
id = "first"
kind = "shell"
command = "echo once >> {count}; echo first > first.txt"

[[steps]]
id = "second"
kind = "shell"
needs = ["first"]
command = "echo partial > partial.txt; while [ ! -f {go} ]; do sleep 0.1; done; echo second > second.txt"
"""


def _start_until_second_runs(sim: SimProject, flow: str) -> subprocess.Popen[bytes]:
    """`factory workflow run twice` in the background, returned once its second step is running."""
    folder = sim.repo / ".factory" / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "twice.toml").write_text(flow)
    process = subprocess.Popen(
        [sys.executable, "-m", "aifactory", "--repo", str(sim.repo), "workflow", "run", "twice"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **sim.env},
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while _states(sim).get("second") != "running":
        if time.monotonic() > deadline:
            os.killpg(process.pid, 9)
            raise AssertionError("timed out waiting for the second step to start")
        time.sleep(0.05)
    return process


def test_a_killed_workflow_run_resumes_without_redoing_done_steps(tmp_path: Path) -> None:
    count, go = tmp_path / "first-ran", tmp_path / "go"
    with sim_project(tmp_path, scripted_team()) as sim:
        process = _start_until_second_runs(sim, _flow(count, go))
        os.killpg(process.pid, 9)
        process.wait()
        [(run_id,)] = _query(sim, "select id from workflow_runs")
        assert _states(sim) == {"first": "done", "second": "running"}
        listed = sim.cli("workflow", "runs")
        assert _listed(listed.stdout, str(run_id))[:4] == [
            str(run_id),
            "twice",
            "running (process gone)",
            "1/2",
        ]
        go.write_text("")

        resumed = sim.cli("workflow", "resume", str(run_id))

        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert count.read_text() == "once\n", "the done step was not run again"
        assert _states(sim) == {"first": "done", "second": "done"}
        assert _query(sim, "select state from workflow_runs") == [("passed",)]
        [(branch,)] = _query(sim, "select branch from workflow_runs")
        subjects = subprocess.run(
            ["git", "log", "--format=%s", str(branch)],
            cwd=sim.repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        assert subjects[:2] == [f"workflow {run_id}: second (shell)", f"workflow {run_id}: first (shell)"]


def test_resume_refuses_a_run_whose_process_is_alive_and_runs_lists_it(tmp_path: Path) -> None:
    count, go = tmp_path / "first-ran", tmp_path / "go"
    with sim_project(tmp_path, scripted_team()) as sim:
        process = _start_until_second_runs(sim, _flow(count, go))
        try:
            [(run_id, pid)] = _query(sim, "select id, pid from workflow_runs")

            refused = sim.cli("workflow", "resume", str(run_id))
            listed = sim.cli("workflow", "runs")
        finally:
            go.write_text("")
            process.wait(timeout=60)

        assert refused.returncode == 2
        assert f"workflow run {run_id} is still running in process {pid}" in refused.stderr
        assert _listed(listed.stdout, str(run_id))[:4] == [str(run_id), "twice", "running", "1/2"]
        assert _states(sim) == {"first": "done", "second": "done"}
        assert count.read_text() == "once\n"
        assert _listed(sim.cli("workflow", "runs").stdout, str(run_id))[2:4] == ["passed", "2/2"]
