"""The step kinds that call models: a `role` answers with lines a later step fans out over, a `run`
plans and runs an ask and merges its best attempt, an `agent` commits its change in the workflow's
worktree. The simulated model plays every part; git, SQLite and the CLI are real."""

from __future__ import annotations

import json
import shlex
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from aifactory.testing.scenario import Answer, SimRequest, call_tool
from aifactory.testing.scenarios import offers_tool
from aifactory.testing.team import scripted_team
from tests.sim import SimProject, sim_project
from tests.support import git


def _query(sim: SimProject, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(sim.repo / ".factory" / "ledger.db")) as db:
        return db.execute(sql).fetchall()


def _write_flow(sim: SimProject, name: str, text: str) -> None:
    folder = sim.repo / ".factory" / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.toml").write_text(text)


def test_a_role_step_answers_with_lines_a_later_step_fans_out_over(tmp_path: Path) -> None:
    team = scripted_team().first(
        offers_tool("submit_answer"), call_tool("submit_answer", text="red\n\nblue\n")
    )
    flow = """
[[steps]]
id = "colours"
kind = "role"
role = "planner"
prompt = "Name two colours, one per line."

[[steps]]
id = "paint"
kind = "shell"
for_each = "steps.colours.outputs.lines"
command = "echo {{ item }} > {{ item }}.txt"
"""
    with sim_project(tmp_path, team) as sim:
        _write_flow(sim, "paint", flow)

        ran = sim.cli("workflow", "run", "paint")

        assert ran.returncode == 0, ran.stdout + ran.stderr
        [(branch,)] = _query(sim, "select branch from workflow_runs")
        assert git(sim.repo, "show", f"{branch}:red.txt") == "red\n"
        assert git(sim.repo, "show", f"{branch}:blue.txt") == "blue\n"
        [(outputs, commit)] = _query(
            sim, "select outputs, commit_sha from workflow_steps where key = 'colours'"
        )
        assert json.loads(str(outputs))["lines"] == ["red", "blue"]
        assert commit is None, "a role step writes nothing, so it commits nothing"
        assert "Name two colours, one per line." in sim.requests_for("submit_answer")[0]


def test_a_run_step_plans_and_runs_its_ask_and_merges_the_passing_attempt(tmp_path: Path) -> None:
    flow = """
[inputs.topic]
type = "text"

[[steps]]
id = "notes"
kind = "run"
ask = "Write the notes about {{ inputs.topic }}"

[[steps]]
id = "count"
kind = "shell"
needs = ["notes"]
command = "ls notes | wc -l > count.txt"
"""
    with sim_project(tmp_path, scripted_team(steps=2)) as sim:
        _write_flow(sim, "notes", flow)

        ran = sim.cli("workflow", "run", "notes", "--input", "topic=ledgers")

        assert ran.returncode == 0, ran.stdout + ran.stderr
        [(branch,)] = _query(sim, "select branch from workflow_runs")
        assert git(sim.repo, "show", f"{branch}:notes/step-2.txt") == "note 2 written by a1\n"
        assert git(sim.repo, "show", f"{branch}:count.txt").strip() == "2"
        [(outputs,)] = _query(sim, "select outputs from workflow_steps where key = 'notes'")
        made = json.loads(str(outputs))
        assert _query(sim, "select state from runs") == [("passed",)]
        [(run_id,)] = _query(sim, "select id from runs")
        assert made["run_id"] == run_id and made["branch"] == f"factory/{run_id}/a1"
        assert "Write the notes about ledgers" in sim.requests_for("submit_plan")[0]


def _documents(request: SimRequest) -> Answer:
    """The doc-writer: writes a page naming the files it was given, then reports."""
    if request.turns_since_user() == 0:
        return call_tool("write_file", path="docs/calc.md", content="# calc\n\n`add(a, b)` adds.\n")
    return call_tool("agent_done", summary="Documented calc.", notes=["docs/calc.md: the calc module"])


def test_an_agent_step_commits_its_change_in_the_workflows_worktree(tmp_path: Path) -> None:
    flow = """
[[steps]]
id = "code"
kind = "shell"
command = "mkdir -p lib && printf 'def add(a, b):\\n    return a + b\\n' > lib/calc.py"

[[steps]]
id = "docs"
kind = "agent"
agent = "doc-writer"
needs = ["code"]
files = ["lib/*.py"]
"""
    team = scripted_team().first(offers_tool("agent_done"), _documents)
    with sim_project(tmp_path, team) as sim:
        _write_flow(sim, "documented", flow)
        assert sim.cli("workflow", "validate", "documented").returncode == 0

        ran = sim.cli("workflow", "run", "documented")

        assert ran.returncode == 0, ran.stdout + ran.stderr
        [(run_id, branch)] = _query(sim, "select id, branch from workflow_runs")
        assert git(sim.repo, "show", f"{branch}:docs/calc.md").startswith("# calc")
        subjects = git(sim.repo, "log", "--format=%s", str(branch)).splitlines()
        assert subjects[:2] == ["agent: doc-writer", f"workflow {run_id}: code (shell)"]
        message = git(sim.repo, "log", "-1", "--format=%B", str(branch))
        assert f"Factory-Run: {run_id}" in message and "Factory-Attempt: docs" in message
        [(outputs, commit)] = _query(sim, "select outputs, commit_sha from workflow_steps where key = 'docs'")
        assert json.loads(str(outputs))["report"] == "docs/calc.md: the calc module"
        assert commit == git(sim.repo, "rev-parse", str(branch)).strip()
        assert _query(sim, "select run_id, attempt, agent from small_agent_runs") == [
            (run_id, "docs", "doc-writer")
        ]
        assert "- lib/calc.py" in sim.requests_for("agent_done")[0]


def test_an_agent_step_whose_files_match_nothing_fails_and_says_so(tmp_path: Path) -> None:
    flow = '[[steps]]\nid = "docs"\nkind = "agent"\nagent = "doc-writer"\nfiles = ["lib/*.py"]\n'
    with sim_project(tmp_path, scripted_team().first(offers_tool("agent_done"), _documents)) as sim:
        _write_flow(sim, "nothing", flow)

        ran = sim.cli("workflow", "run", "nothing")

        assert ran.returncode == 1
        [(reason,)] = _query(sim, "select reason from workflow_steps where key = 'docs'")
        assert reason == "files: 'lib/*.py' matches no file in the step's worktree"


def _breaks(request: SimRequest) -> Answer:
    """A sweeper whose "tidying" changes what the code does."""
    if request.turns_since_user() == 0:
        return call_tool("write_file", path="src/app.py", content="def hello():\n    return 'bye'\n")
    return call_tool("agent_done", summary="Swept src/app.py.")


def test_an_agent_step_whose_change_is_dropped_fails_and_skips_its_dependents(tmp_path: Path) -> None:
    flow = """
[[steps]]
id = "sweep"
kind = "agent"
agent = "style-sweeper"
files = ["src/*.py"]

[[steps]]
id = "after"
kind = "shell"
needs = ["sweep"]
command = "true"
"""
    test = shlex.join(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, 'src'); import app; assert app.hello() == 'hello'",
        ]
    )
    team = scripted_team().first(offers_tool("agent_done"), _breaks)
    with sim_project(tmp_path, team, test=test) as sim:
        _write_flow(sim, "sweep", flow)

        ran = sim.cli("workflow", "run", "sweep")

        assert ran.returncode == 1
        states = dict(_query(sim, "select key, state from workflow_steps"))
        assert states == {"sweep": "failed", "after": "skipped"}
        [(reason,)] = _query(sim, "select reason from workflow_steps where key = 'sweep'")
        assert str(reason).startswith("agent style-sweeper's change was dropped: ")
        [(branch,)] = _query(sim, "select branch from workflow_runs")
        assert git(sim.repo, "show", f"{branch}:src/app.py") == "def hello():\n    return 'hello'\n"
