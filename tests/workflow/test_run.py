"""`factory workflow run`: steps start when their needs are met, in parallel, each recorded in the
ledger; a failing step stops only the steps that depend on it. Real git, SQLite and subprocesses."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from aifactory.testing.team import scripted_team
from tests.sim import SimProject, sim_project
from tests.support import git

FLOW = """
[inputs.names]
type = "list"

[[steps]]
id = "slow_a"
kind = "shell"
workspace = "own"
command = "date +%s.%N > a.start; sleep 1; date +%s.%N > a.end"

[[steps]]
id = "slow_b"
kind = "shell"
workspace = "own"
command = "date +%s.%N > b.start; sleep 1; date +%s.%N > b.end"

[[steps]]
id = "after"
kind = "shell"
needs = ["slow_a", "slow_b"]
command = "date +%s.%N > after.start; ls"

[[steps]]
id = "greet"
kind = "shell"
for_each = "inputs.names"
workspace = "own"
command = "echo hello {{ item }} > hello-{{ item }}.txt; echo {{ item }}"

[[steps]]
id = "broken"
kind = "shell"
command = "echo nope; exit 3"

[[steps]]
id = "after_broken"
kind = "shell"
command = "echo {{ steps.broken.outputs.stdout }}"
"""


def _query(sim: SimProject, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(sim.repo / ".factory" / "ledger.db")) as db:
        return db.execute(sql).fetchall()


def _write_flow(sim: SimProject, name: str, text: str) -> None:
    folder = sim.repo / ".factory" / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.toml").write_text(text)


def test_independent_steps_overlap_dependents_wait_and_a_failure_stops_only_its_dependents(
    tmp_path: Path,
) -> None:
    with sim_project(tmp_path, scripted_team()) as sim:
        _write_flow(sim, "demo", FLOW)
        assert sim.cli("workflow", "validate", "demo").returncode == 0

        ran = sim.cli("workflow", "run", "demo", "--input", "names=ann", "--input", "names=bob")

        assert ran.returncode == 1, ran.stdout + ran.stderr
        [(run_id, state, branch, reason)] = _query(sim, "select id, state, branch, reason from workflow_runs")
        assert state == "failed"
        assert "broken" in str(reason)
        assert "after_broken" in str(reason)
        steps = dict(_query(sim, "select key, state from workflow_steps"))
        assert steps == {
            "slow_a": "done",
            "slow_b": "done",
            "after": "done",
            "greet[0]": "done",
            "greet[1]": "done",
            "broken": "failed",
            "after_broken": "skipped",
        }
        [(why,)] = _query(sim, "select reason from workflow_steps where key = 'broken'")
        assert "exited with 3" in str(why)
        tree = Path(str(_query(sim, "select worktree from workflow_runs")[0][0]))
        a_start, a_end = (float((tree / n).read_text()) for n in ("a.start", "a.end"))
        b_start, b_end = (float((tree / n).read_text()) for n in ("b.start", "b.end"))
        assert a_start < b_end and b_start < a_end, "the two independent steps ran at the same time"
        assert float((tree / "after.start").read_text()) >= max(a_end, b_end), "the dependent step waited"
        assert (tree / "hello-ann.txt").read_text() == "hello ann\n"
        files = git(sim.repo, "ls-tree", "-r", "--name-only", str(branch)).split()
        assert {"a.end", "b.end", "after.start", "hello-ann.txt", "hello-bob.txt"} <= set(files)
        subjects = git(sim.repo, "log", "--format=%s", str(branch)).splitlines()
        assert f"workflow {run_id}: after (shell)" in subjects
        assert f"workflow {run_id}: greet[1] (shell)" in subjects
        [(outputs,)] = _query(sim, "select outputs from workflow_steps where key = 'greet[0]'")
        assert '"lines": ["ann"]' in str(outputs)


def test_run_refuses_an_invalid_workflow_and_a_missing_input(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team()) as sim:
        _write_flow(sim, "loop", '[[steps]]\nid = "a"\nkind = "shell"\ncommand = "true"\nneeds = ["a"]\n')
        _write_flow(
            sim,
            "needs",
            (
                '[inputs.doc]\ntype = "file"\n\n'
                '[[steps]]\nid = "a"\nkind = "shell"\ncommand = "cat {{ inputs.doc }}"\n'
            ),
        )

        invalid = sim.cli("workflow", "run", "loop")
        assert invalid.returncode == 2
        assert "loop.toml:5: cycle: a → a" in invalid.stderr
        missing = sim.cli("workflow", "run", "needs")
        assert missing.returncode == 2
        assert (
            "missing input 'doc' of workflow needs: pass --input doc=VALUE (@path for a file)"
            in missing.stderr
        )
        assert "Traceback" not in invalid.stderr + missing.stderr
        assert _query(sim, "select count(*) from workflow_runs") == [(0,)]
