"""Bad input gets a clear error naming the file, field or flag and the fix; nothing half-done."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aifactory.testing.team import scripted_team
from tests.sim import KEY, sim_project
from tests.support import git


def _factory(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aifactory", "--repo", str(repo), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_repository_without_commits_is_refused_with_the_command_to_fix_it(tmp_path: Path) -> None:
    repo = tmp_path / "empty"
    repo.mkdir()
    git(repo, "init", "-q")
    assert _factory(repo, "init").returncode == 0
    (repo / "plans").mkdir()
    (repo / "plans" / "x-plan.md").write_text("# X\n\n## Ask\n\nDo x.\n\n## Task list\n\n### Step 1: Do x\n")
    result = _factory(repo, "run", "plans/x-plan.md")
    assert result.returncode == 2
    assert (
        "has no commits yet: commit something first, e.g. `git commit --allow-empty -m init`" in result.stderr
    )


def test_commands_before_init_say_to_run_init(git_repo: Path) -> None:
    result = _factory(git_repo, "status")
    assert result.returncode == 2
    assert "has no .factory/config.toml: run `factory init`" in result.stderr


def test_an_invalid_config_names_file_line_and_key(git_repo: Path) -> None:
    _factory(git_repo, "init")
    config = git_repo / ".factory" / "config.toml"
    config.write_text(config.read_text().replace("max_parallel = 4", "max_parallel = 'four'"))
    result = _factory(git_repo, "status")
    assert result.returncode == 2
    line = next(
        n for n, text in enumerate(config.read_text().splitlines(), 1) if text.startswith("max_parallel")
    )
    assert f"config.toml:{line}: [run] max_parallel: Input should be a valid integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_malformed_plan_file_names_its_line(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team()) as sim:
        plan = sim.repo / "plans" / "bad-plan.md"
        plan.parent.mkdir()
        plan.write_text("# Bad\n\n## Ask\n\nDo it.\n\n## Steps to take\n\n- one\n")
        result = sim.cli("run", str(plan))
        missing = sim.cli("run", "plans/nothing-plan.md")
    assert result.returncode == 2
    assert "bad-plan.md:7: unknown section" in result.stderr
    assert missing.returncode == 2 and f"no plan file at {sim.repo}/plans/nothing-plan.md" in missing.stderr


def test_a_missing_key_variable_is_named_with_the_role_that_needs_it(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team()) as sim:
        result = sim.cli("plan", "Write notes", env={"FACTORY_TEST_KEY": ""})
    assert result.returncode == 2
    assert "environment variable FACTORY_TEST_KEY is not set" in result.stderr
    assert "for role planner ([roles.planner] model)" in result.stderr


def test_uncommitted_changes_are_named_as_not_included(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=1)) as sim:
        (sim.repo / "src" / "app.py").write_text("def hello():\n    return 'hi'\n")
        result = sim.cli("run", "Write a note", "--no-interactive", "-n", "1")
    assert result.returncode == 0, result.stderr
    assert "1 uncommitted change(s) are not included (src/app.py): attempts branch from HEAD" in result.stderr


def test_the_api_key_never_reaches_files_output_or_commands(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=1), test="env") as sim:
        result = sim.cli("run", "Write a note", "--no-interactive", "-n", "1")
        assert result.returncode == 0, result.stderr
        assert any(KEY in r.headers.get("authorization", "") for r in sim.claude.requests)
    assert KEY not in result.stdout + result.stderr
    for path in (sim.repo / ".factory").rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    for path in (sim.repo / "plans").rglob("*"):
        assert KEY not in path.read_text()
    log = next((sim.repo / ".factory" / "logs").rglob("test.log")).read_text()
    assert "PATH=" in log and "FACTORY_TEST_KEY" not in log
