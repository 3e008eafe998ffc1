"""`factory check`: the lessons' checks as a linter, as a pre-commit hook or CI would run it."""

from __future__ import annotations

import json
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aifactory.blueprint.lessons import LessonBook
from aifactory.domain.lesson import AstGrepSpec, Lesson, LessonStatus, RegexSpec
from aifactory.domain.verdict import Severity
from aifactory.testing.team import scripted_team
from tests.sim import SimProject, sim_project
from tests.support import git

NOW = datetime(2026, 11, 1, tzinfo=UTC)
CODE = "def load(path):\n    with open(path) as handle:\n        return handle.read()\n"


def _lessons(sim: SimProject) -> LessonBook:
    return LessonBook(sim.repo / ".factory" / "blueprint" / "lessons")


@pytest.fixture
def sim(tmp_path: Path) -> SimProject:
    with sim_project(tmp_path, scripted_team(), files={"src/io.py": CODE, "README.md": "# x\n"}) as project:
        _lessons(project).save(
            Lesson(
                id="stream-files",
                rule="Read files as a stream.",
                status=LessonStatus.ACTIVE,
                check=AstGrepSpec(
                    language="python", rule={"pattern": "$F.read()"}, message="reads a whole file"
                ),
                created=NOW,
                activated=NOW,
            )
        )
        _lessons(project).save(
            Lesson(
                id="no-todo",
                rule="Leave no TODO behind.",
                status=LessonStatus.ACTIVE,
                check=RegexSpec(pattern=r"TODO", message="a TODO is left", severity=Severity.WARNING),
                created=NOW,
                activated=NOW,
            )
        )
        yield project


def test_findings_print_like_a_linter_and_a_blocking_one_fails(sim: SimProject) -> None:
    result = sim.cli("check")
    assert result.returncode == 1, result.stderr
    assert "src/io.py:3:16  stream-files  reads a whole file" in result.stdout


def test_json_output_is_for_scripts(sim: SimProject) -> None:
    result = sim.cli("check", "--json")
    data = json.loads(result.stdout)
    assert data["passed"] is False
    assert data["findings"] == [
        {
            "path": "src/io.py",
            "line": 3,
            "column": 16,
            "lesson": "stream-files",
            "message": "reads a whole file",
            "severity": "error",
        }
    ]


def test_a_diff_checks_only_the_lines_added_since_the_ref(sim: SimProject) -> None:
    (sim.repo / "src" / "io.py").write_text(CODE + "# TODO: speed up\n", encoding="utf-8")
    result = sim.cli("check", "--diff", "HEAD", "--json")
    data = json.loads(result.stdout)
    assert [(f["lesson"], f["line"]) for f in data["findings"]] == [("no-todo", 4)]
    assert result.returncode == 0, "a warning does not block"


def test_paths_limit_the_check_and_a_clean_file_passes(sim: SimProject) -> None:
    (sim.repo / "src" / "clean.py").write_text("def ok():\n    return 1\n", encoding="utf-8")
    git(sim.repo, "add", "src/clean.py")
    result = sim.cli("check", "src/clean.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 finding(s) from 2 lesson check(s) in 1 file(s)" in result.stdout


def test_a_proposed_lessons_check_does_not_run_until_accepted(sim: SimProject) -> None:
    lesson = _lessons(sim).get("stream-files")
    _lessons(sim).save(lesson.model_copy(update={"status": LessonStatus.PROPOSED}))
    assert sim.cli("check").returncode == 0
    assert sim.cli("lessons", "accept", "stream-files").returncode == 0
    assert sim.cli("check").returncode == 1


def test_all_adds_the_projects_own_commands(tmp_path: Path) -> None:
    failing = f"{shlex.quote(sys.executable)} -c 'raise SystemExit(3)'"
    with sim_project(tmp_path, scripted_team(), test=failing) as sim:
        result = sim.cli("check", "--all")
        assert result.returncode == 1
        assert "failed" in result.stdout
        assert sim.cli("check").returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--diff", "no-such-ref"], "--diff no-such-ref: not a commit"),
        (["/etc/hostname"], "is outside the repository"),
        (["missing.py"], "missing.py: no such file or folder"),
        (["--on", "nothing"], "write RUN/ATTEMPT"),
    ],
)
def test_bad_input_is_named_with_how_to_fix_it(sim: SimProject, args: list[str], message: str) -> None:
    result = sim.cli("check", *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_a_broken_rule_names_the_lesson(sim: SimProject) -> None:
    broken = AstGrepSpec(language="python", rule={"kind": "no_such_kind"}, message="m")
    lesson = _lessons(sim).get("stream-files")
    _lessons(sim).save(lesson.model_copy(update={"check": broken}))
    result = sim.cli("check")
    assert result.returncode == 2
    assert "stream-files" in result.stderr
