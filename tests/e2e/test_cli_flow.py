"""A user's whole session with the `factory` command on a repository, model simulated."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from aifactory.domain import planfile
from aifactory.testing.team import scripted_team, step_file
from tests.sim import sim_project
from tests.support import git


def _plan_path(output: str) -> Path:
    found = re.search(r"(\S+-plan\.md)", output)
    assert found, output
    return Path(found.group(1))


def test_init_writes_config_blueprint_and_keeps_the_ledger_out_of_git(git_repo: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aifactory", "--repo", str(git_repo), "init"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    factory = git_repo / ".factory"
    assert "[roles.ask-verifier]" in (factory / "config.toml").read_text()
    assert sorted(p.name for p in (factory / "blueprint" / "roles").iterdir()) == [
        "ask-verifier.md",
        "distiller.md",
        "executor.md",
        "plan-reviewer.md",
        "plan-verifier.md",
        "planner.md",
    ]
    assert "+++" in (factory / "blueprint" / "lessons" / "README.md").read_text()
    (factory / "ledger.db").write_text("x")
    (factory / "ledger.db-wal").write_text("x")
    (factory / "blueprint" / "lessons" / ".lock").write_text("")
    status = git(git_repo, "status", "--porcelain", "--untracked-files=all")
    assert ".factory/config.toml" in status and ".factory/blueprint/lessons/README.md" in status
    assert "ledger.db" not in status and ".lock" not in status


def test_init_outside_a_repository_refuses_and_says_why(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aifactory", "--repo", str(tmp_path), "init"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "is not inside a git repository: run `git init`" in result.stderr
    assert not (tmp_path / ".factory").exists()


def test_open_questions_go_into_the_plan_and_answering_them_in_the_file_completes_it(tmp_path: Path) -> None:
    team = scripted_team(steps=2, questions=["Which output format?", "Should empty input be an error?"])
    with sim_project(tmp_path, team) as sim:
        first = sim.cli("plan", "Write two notes")
        assert first.returncode == 0, first.stderr
        assert "2 open question(s)" in first.stdout
        path = sim.repo / _plan_path(first.stdout)
        plan = planfile.parse(path.read_text())
        assert [q.text for q in plan.open_questions] == [
            "Which output format?",
            "Should empty input be an error?",
        ]
        assert not plan.steps

        refused = sim.cli("run", str(path))
        assert refused.returncode == 2
        assert "2 open question(s)" in refused.stderr and "factory plan --answer" in refused.stderr

        text = path.read_text()
        for placeholder in re.findall(r"^_Open question:.*$", text, flags=re.MULTILINE):
            text = text.replace(placeholder, "Plain text.", 1)
        path.write_text(text)
        second = sim.cli("plan", "--answer", str(path))
        assert second.returncode == 0, second.stderr
        assert "plan ready" in second.stdout
        done = planfile.parse(path.read_text())
        assert [q.answer for q in done.questions] == ["Plain text.", "Plain text."]
        assert [s.title for s in done.steps] == ["Write note 1", "Write note 2"]
        planner_prompt = sim.requests_for("submit_plan")[-1]
        assert "Q: Which output format?\nA: Plain text." in planner_prompt


def test_a_run_commits_every_step_and_the_inspection_commands_show_it(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=3)) as sim:
        planned = sim.cli("plan", "Write three notes", "--no-interactive")
        path = _plan_path(planned.stdout)
        result = sim.cli("run", str(path), "--attempts", "2")
        assert result.returncode == 0, result.stdout + result.stderr
        run_id = re.search(r"run (\S+): 2 attempt", result.stdout)
        assert run_id, result.stdout
        run = run_id.group(1)
        for attempt in ("a1", "a2"):
            branch = f"factory/{run}/{attempt}"
            log = git(sim.repo, "log", "--format=%s%n%b", f"main..{branch}")
            for number in (1, 2, 3):
                assert f"step {number}/3: Write note {number}" in log
            assert f"Factory-Attempt: {attempt}" in log
            assert git(sim.repo, "show", f"{branch}:{step_file(2)}") == f"note 2 written by {attempt}\n"

        status = sim.cli("status")
        assert run in status.stdout and "2/2" in status.stdout
        show = sim.cli("show", run[:8])
        assert show.returncode == 0, show.stderr
        assert "plan-verifier: pass" in show.stdout and "step 3" in show.stdout
        assert "by role: executor" in show.stdout and "ask-verifier" in show.stdout
        assert "by sim:claude-sonnet-5-5" in show.stdout, "who carried out each step"
        assert "sim: write_file notes/step-3.txt" in show.stdout, "and the built-in agent's tool calls"
        diff = sim.cli("diff", run, "a1", "--stat")
        assert diff.returncode == 0 and "notes/step-3.txt" in diff.stdout
        assert sim.cli("diff", run, "a9").returncode == 2


def test_merge_checks_first_and_clean_keeps_what_was_kept(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=1)) as sim:
        path = _plan_path(sim.cli("plan", "One note", "--no-interactive").stdout)
        run = re.search(r"run (\S+): ", sim.cli("run", str(path), "-n", "3").stdout)
        assert run
        run_id = run.group(1)

        (sim.repo / "README.md").write_text("changed but not committed\n")
        dirty = sim.cli("merge", run_id, "a1")
        assert dirty.returncode == 2 and "uncommitted changes (README.md)" in dirty.stderr
        git(sim.repo, "checkout", "README.md")

        (sim.repo / "notes").mkdir()
        (sim.repo / step_file(1)).write_text("a different note on main\n")
        git(sim.repo, "add", "-A")
        git(sim.repo, "commit", "-qm", "conflicting note")
        head = git(sim.repo, "rev-parse", "HEAD")
        conflict = sim.cli("merge", run_id, "a1")
        assert conflict.returncode == 2
        assert "conflicts with main in: notes/step-1.txt" in conflict.stderr
        assert git(sim.repo, "rev-parse", "HEAD") == head
        assert git(sim.repo, "status", "--porcelain") == ""

        git(sim.repo, "reset", "-q", "--hard", "HEAD~1")
        merged = sim.cli("merge", run_id, "a2")
        assert merged.returncode == 0, merged.stderr
        assert (sim.repo / step_file(1)).read_text() == "note 1 written by a2\n"
        assert sim.cli("keep", run_id, "a3").returncode == 0

        cleaned = sim.cli("clean")
        assert cleaned.returncode == 0, cleaned.stderr
        assert f"removed branch factory/{run_id}/a1" in cleaned.stdout
        remaining = git(sim.repo, "branch", "--list", "factory/*", "--format=%(refname:short)").split()
        assert remaining == [f"factory/{run_id}/a2", f"factory/{run_id}/a3"]
        assert not (tmp_path / "worktrees" / run_id / "a1").exists()
        assert "nothing to clean" in sim.cli("clean").stdout


def test_a_run_where_no_attempt_passes_exits_non_zero_and_says_why(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=1), test="exit 3") as sim:
        result = sim.cli("run", "Write a note", "--no-interactive", "-n", "1")
    assert result.returncode == 1
    assert "no attempt passed" in result.stdout
    assert "`exit 3` failed with exit code 3" in result.stdout
