"""`factory agent`: small agents on files or on an attempt, each change one commit, or dropped.

The simulated team answers each shipped agent's prompt (`aifactory.testing.agent_team`), so these
runs go through the real prompts, tools, checks, git and ledger.
"""

from __future__ import annotations

import json
import shlex
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from aifactory.testing.agent_team import DOC_FILE, written_test_of
from aifactory.testing.scenario import SimRequest, call_tool
from aifactory.testing.team import scripted_team, step_file
from tests.sim import SimProject, sim_project
from tests.support import git

CODE = "def hello():\n    # print('debugging hello')\n    return 'hello'\n"
SWEPT = "def hello():\n    return 'hello'\n"
TEST = shlex.join(
    [sys.executable, "-c", "import sys; sys.path.insert(0, 'src'); import app; assert app.hello() == 'hello'"]
)
PYTEST = shlex.join([sys.executable, "-B", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"])
POLLING = "import time\n\n\ndef wait_for(ready):\n    while not ready():\n        time.sleep(0.5)\n"
LIBRARIAN = """
[[librarian.replacements]]
description = "time.sleep polling"
use = "`backoff.pause(0.5)` from the team's backoff library"
language = "python"
rule = { pattern = "time.sleep($SECONDS)" }
"""


def _configure(sim: SimProject, text: str) -> None:
    config = sim.repo / ".factory" / "config.toml"
    config.write_text(config.read_text(encoding="utf-8") + text, encoding="utf-8")
    git(sim.repo, "commit", "-qam", "configure the small agents")


def _committed_branch(stdout: str) -> str:
    return next(line.split()[-1] for line in stdout.splitlines() if line.startswith("committed"))


def _ran_a_run(sim: SimProject) -> str:
    """Plan and run the scripted team's notes with one attempt; the run's id."""
    planned = sim.cli("plan", "--no-interactive", "Write the notes")
    assert planned.returncode == 0, planned.stderr
    plan = next((sim.repo / "plans").glob("*-plan.md"))
    result = sim.cli("run", str(plan), "--attempts", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    branch = next(b.strip(" *+") for b in git(sim.repo, "branch", "--list", "factory/*").splitlines())
    return branch.split("/")[1]


def _agent_rows(sim: SimProject) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(sim.repo / ".factory" / "ledger.db")) as db:
        return db.execute(
            "select run_id, attempt, agent, commit_sha, report from small_agent_runs"
        ).fetchall()


def test_the_sweeper_commits_its_sweep_on_a_new_branch_and_leaves_the_working_tree_alone(
    tmp_path: Path,
) -> None:
    with sim_project(tmp_path, scripted_team(), files={"src/app.py": CODE}, test=TEST) as sim:
        result = sim.cli("agent", "run", "style-sweeper", "--files", "src/app.py")
        assert result.returncode == 0, result.stderr
        assert "src/app.py: removed commented-out code" in result.stdout
        branch = _committed_branch(result.stdout)
        assert branch.startswith("factory/agent/style-sweeper-")
        assert git(sim.repo, "show", f"{branch}:src/app.py") == SWEPT
        message = git(sim.repo, "log", "-1", "--format=%B", branch)
        assert message.startswith("agent: style-sweeper")
        assert "Factory-Agent: style-sweeper" in message
        assert (sim.repo / "src/app.py").read_text() == CODE
        prompt = sim.requests_for("agent_done")[0]
        assert "# The team's style rules" in prompt and "- src/app.py" in prompt


def _breaks_hello(request: SimRequest) -> bool:
    return request.offers("agent_done") and not request.find_results("write_file")


def test_a_sweep_that_breaks_the_tests_is_dropped_with_the_reason(tmp_path: Path) -> None:
    broken = call_tool("write_file", path="src/app.py", content="def hello():\n    return 'bye'\n")
    team = scripted_team().first(_breaks_hello, broken)
    with sim_project(tmp_path, team, files={"src/app.py": CODE}, test=TEST) as sim:
        result = sim.cli("agent", "run", "style-sweeper", "--files", "src/app.py")
        assert result.returncode == 1
        assert "dropped:" in result.stdout and "failed with exit code 1" in result.stdout
        assert "factory/agent/" not in git(sim.repo, "branch", "--list")


def test_bad_input_names_the_fix(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(), files={"src/app.py": CODE}) as sim:
        unknown = sim.cli("agent", "run", "stylist", "--files", "src/app.py")
        assert unknown.returncode == 2
        assert "no agent named 'stylist'" in unknown.stderr and "style-sweeper" in unknown.stderr
        both = sim.cli("agent", "run", "style-sweeper", "--on", "x/a1", "--files", "src/app.py")
        assert both.returncode == 2 and "--on and --files" in both.stderr
        missing = sim.cli("agent", "run", "style-sweeper", "--on", "no-such-run/a1")
        assert missing.returncode == 2, missing.stderr
        listed = sim.cli("agent", "list")
        assert (
            "librarian" in listed.stdout and "test-writer" in listed.stdout and "doc-writer" in listed.stdout
        )


def test_the_librarian_replaces_what_its_ast_grep_rule_finds_and_reports_each_replacement(
    tmp_path: Path,
) -> None:
    with sim_project(tmp_path, scripted_team(), files={"src/poll.py": POLLING}) as sim:
        _configure(sim, LIBRARIAN)
        result = sim.cli("agent", "run", "librarian", "--files", "src/poll.py")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "src/poll.py:6: time.sleep(0.5) → backoff.pause(0.5)" in result.stdout
        branch = _committed_branch(result.stdout)
        replaced = git(sim.repo, "show", f"{branch}:src/poll.py")
        assert "backoff.pause(0.5)" in replaced and "time.sleep" not in replaced
        message = git(sim.repo, "log", "-1", "--format=%B", branch)
        assert message.startswith("agent: librarian")
        assert "- src/poll.py:6: time.sleep(0.5) → backoff.pause(0.5)" in message
        prompt = sim.requests_for("agent_done")[0]
        assert "- src/poll.py:6: `time.sleep(0.5)`" in prompt, "ast-grep's candidate reached the prompt"
        [(_, _, agent, commit, report)] = _agent_rows(sim)
        assert (agent, commit) == ("librarian", git(sim.repo, "rev-parse", branch).strip())
        assert json.loads(str(report)) == ["src/poll.py:6: time.sleep(0.5) → backoff.pause(0.5)"]


def test_the_test_writer_and_doc_writer_write_for_what_an_attempt_changed(tmp_path: Path) -> None:
    files = {"src/app.py": SWEPT, "tests/test_app.py": "def test_nothing_yet() -> None:\n    pass\n"}
    with sim_project(tmp_path, scripted_team(steps=2), files=files, test=PYTEST) as sim:
        run_id = _ran_a_run(sim)
        branch = f"factory/{run_id}/a1"
        for agent in ("test-writer", "doc-writer"):
            result = sim.cli("agent", "run", agent, "--on", f"{run_id}/a1")
            assert result.returncode == 0, result.stdout + result.stderr
            assert f"on {branch}" in result.stdout
        subjects = git(sim.repo, "log", "--format=%s", "-2", branch).splitlines()
        assert subjects == ["agent: doc-writer", "agent: test-writer"]
        tests = [written_test_of(step_file(k)) for k in (1, 2)]
        for path in tests:
            assert "is_in_place" in git(sim.repo, "show", f"{branch}:{path}")
        docs = git(sim.repo, "show", f"{branch}:{DOC_FILE}")
        assert f"`{step_file(1)}`" in docs and f"`{step_file(2)}`" in docs
        assert "+++ b/notes/step-1.txt" in sim.requests_for("agent_done")[0], "the agent saw the run's diff"
        shown = sim.cli("show", run_id)
        assert "agent test-writer" in shown.stdout and "agent doc-writer" in shown.stdout, shown.stdout
        assert f"{tests[0]}: tests {step_file(1)}" in shown.stdout


def test_enabled_agents_run_in_each_attempt_after_its_steps_and_before_verification(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team()) as sim:
        _configure(sim, '[small_agents]\nafter_execution = ["style-sweeper", "doc-writer"]\n')
        run_id = _ran_a_run(sim)
        branch = f"factory/{run_id}/a1"
        subjects = git(sim.repo, "log", "--reverse", "--format=%s", f"HEAD..{branch}").splitlines()
        assert subjects[-1] == "agent: doc-writer", "the sweeper found nothing to sweep in the notes"
        assert all(subject.startswith("step ") for subject in subjects[:-1])
        verifier_prompts = sim.requests_for("submit_plan_verdict")
        assert verifier_prompts and DOC_FILE in verifier_prompts[0]
        shown = sim.cli("show", run_id)
        assert "agent style-sweeper" in shown.stdout and "agent doc-writer" in shown.stdout, shown.stdout


def test_unknown_agents_in_after_execution_stop_the_run_before_it_starts(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team()) as sim:
        _configure(sim, '[small_agents]\nafter_execution = ["style-sweper"]\n')
        planned = sim.cli("plan", "--no-interactive", "Write the notes")
        assert planned.returncode == 0, planned.stderr
        plan = next((sim.repo / "plans").glob("*-plan.md"))
        result = sim.cli("run", str(plan), "--attempts", "1")
        assert result.returncode == 2, result.stdout + result.stderr
        assert "[small_agents] after_execution" in result.stderr and "'style-sweper'" in result.stderr
        assert "style-sweeper" in result.stderr.replace("'style-sweper'", "")
        assert not sim.requests_for("step_done"), "no step ran"
