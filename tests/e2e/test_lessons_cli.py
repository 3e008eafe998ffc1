"""`factory lessons`: a user reviewing what the factory learned, through the real command."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from aifactory.blueprint.lessons import LessonBook
from aifactory.domain.events import Event, LessonActivity, LessonNoted
from aifactory.domain.lesson import Counters, LessonStatus, RegexSpec, Scope
from aifactory.service import lessons
from aifactory.service.project import open_project, session
from tests.blueprint.lessons import lesson
from tests.support import git

# An editor for tests: `python EDITOR_SCRIPT OLD NEW FILE` replaces OLD with NEW in FILE, like a person would.
EDITOR_SCRIPT = """
import pathlib, sys
old, new, path = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
path.write_text(path.read_text().replace(old, new))
"""

PROPOSED = lesson(
    "close-files",
    "Open files with a context manager so they are closed on every path.",
    scope=Scope(languages=("python",)),
    check=RegexSpec(pattern=r"open\(", message="open files with `with`"),
    counters=Counters(injected=3, fired=1, flagged=2),
)
ACTIVE = lesson("no-prints", "Log with the logging module; never print.", status=LessonStatus.ACTIVE)


def _factory(repo: Path, *args: str, editor: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in {"VISUAL", "EDITOR"}}
    if editor is not None:
        env["EDITOR"] = editor
    return subprocess.run(
        [sys.executable, "-m", "aifactory", "--repo", str(repo), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**env, "COLUMNS": "200"},
    )


def _editor(tmp_path: Path, old: str, new: str) -> str:
    script = tmp_path / "editor.py"
    script.write_text(EDITOR_SCRIPT)
    return shlex.join([sys.executable, str(script), old, new])


@pytest.fixture
def repo(git_repo: Path) -> Path:
    """A repository with `factory init` done and two lessons committed: one proposed, one active."""
    assert _factory(git_repo, "init").returncode == 0
    book = LessonBook(git_repo / ".factory" / "blueprint" / "lessons")
    book.save(PROPOSED)
    book.save(ACTIVE)
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "factory and lessons")
    return git_repo


def _lesson_file(repo: Path, lesson_id: str) -> Path:
    return repo / ".factory" / "blueprint" / "lessons" / f"{lesson_id}.md"


def _listed(repo: Path, *args: str) -> dict[str, dict[str, object]]:
    result = _factory(repo, "lessons", "--json", *args)
    assert result.returncode == 0, result.stderr
    return {held["id"]: held for held in json.loads(result.stdout)}


def test_the_list_shows_rule_scope_check_and_counters_and_filters_by_status(repo: Path) -> None:
    result = _factory(repo, "lessons")
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "close-files" in line)
    for cell in ("proposed", "Open files with a context manager", "python", "regex", "3/1/2"):
        assert cell in row
    assert "no-prints" in result.stdout and "README" not in result.stdout

    assert list(_listed(repo, "--status", "active")) == ["no-prints"]
    everything = _listed(repo)
    assert list(everything) == ["close-files", "no-prints"]
    assert everything["close-files"]["counters"] == {"injected": 3, "fired": 1, "flagged": 2}
    assert _factory(repo, "lessons", "--status", "retired").stdout.startswith("No retired lessons.")
    assert _factory(repo, "lessons", "--status", "gone").returncode == 2


def test_a_malformed_file_is_a_warning_naming_file_and_field_and_the_rest_still_lists(repo: Path) -> None:
    broken = _lesson_file(repo, "broken")
    broken.write_text(_lesson_file(repo, "no-prints").read_text().replace('"no-prints"', '"broken"', 1))
    broken.write_text(broken.read_text().replace('status = "active"', 'status = "on"'))
    result = _factory(repo, "lessons", "--json")
    assert result.returncode == 0
    assert sorted(held["id"] for held in json.loads(result.stdout)) == ["close-files", "no-prints"]
    assert f"warning: {broken}:3: status: Input should be 'proposed', 'active' or 'retired'" in result.stderr
    refused = _factory(repo, "lessons", "accept", "broken")
    assert refused.returncode == 2 and f"error: {broken}:3: status:" in refused.stderr


def test_show_prints_the_whole_lesson_and_an_unknown_id_names_the_near_ones(repo: Path) -> None:
    shown = _factory(repo, "lessons", "show", "close-files")
    assert shown.returncode == 0, shown.stderr
    assert "close-files  proposed" in shown.stdout and "check: regex (error)" in shown.stdout
    assert "injected 3 · fired 1 · flagged 2" in shown.stdout
    missing = _factory(repo, "lessons", "show", "close")
    assert missing.returncode == 2
    assert "no lesson 'close'" in missing.stderr and "did you mean close-files?" in missing.stderr


def test_accepting_a_proposed_lesson_makes_it_active_from_now_in_a_change_git_shows(repo: Path) -> None:
    result = _factory(repo, "lessons", "accept", "close-files")
    assert result.returncode == 0, result.stderr
    assert "accepted close-files: active since 20" in result.stdout
    held = _listed(repo)["close-files"]
    assert held["status"] == "active" and isinstance(held["activated"], str)
    shown = _factory(repo, "lessons", "show", "close-files").stdout
    assert "close-files  active" in shown and f"activated {held['activated'][:10]}" in shown
    diff = git(repo, "diff", "--", ".factory/blueprint/lessons/")
    assert '-status = "proposed"' in diff and '+status = "active"' in diff and "+activated = " in diff
    again = _factory(repo, "lessons", "accept", "close-files")
    assert again.returncode == 0 and "close-files is already active" in again.stdout


def test_rejecting_retires_the_lesson_and_removes_its_check(repo: Path) -> None:
    result = _factory(repo, "lessons", "reject", "close-files")
    assert result.returncode == 0, result.stderr
    held = _listed(repo)["close-files"]
    assert (held["status"], held["check"], held["retirement"]) == ("retired", None, "rejected by the user")
    assert "rejected by the user" in _factory(repo, "lessons", "--status", "retired").stdout


def test_retiring_keeps_the_check_which_still_enforces(repo: Path) -> None:
    _factory(repo, "lessons", "accept", "close-files")
    result = _factory(repo, "lessons", "retire", "close-files", "no-prints")
    assert result.returncode == 0, result.stderr
    assert "retired close-files: its rule leaves the prompts; its check still runs" in result.stdout
    held = _listed(repo)
    assert held["close-files"]["status"] == "retired" and held["close-files"]["check"] is not None
    assert held["no-prints"]["retirement"] == "retired by the user"


def test_one_unknown_id_changes_none_of_the_others(repo: Path) -> None:
    result = _factory(repo, "lessons", "accept", "close-files", "no-such-lesson")
    assert result.returncode == 2 and "no lesson 'no-such-lesson'" in result.stderr
    assert git(repo, "status", "--porcelain") == ""


def test_edit_opens_the_editor_and_keeps_a_valid_result(repo: Path, tmp_path: Path) -> None:
    editor = _editor(tmp_path, "never print.", "never print to stdout.")
    result = _factory(repo, "lessons", "edit", "no-prints", editor=editor)
    assert result.returncode == 0, result.stderr
    assert "edited no-prints: Log with the logging module; never print to stdout." in result.stdout
    assert _listed(repo)["no-prints"]["rule"] == "Log with the logging module; never print to stdout."
    assert "+Log with the logging module; never print to stdout." in git(repo, "diff")


def test_an_edit_that_breaks_the_file_is_refused_and_the_file_restored(repo: Path, tmp_path: Path) -> None:
    path = _lesson_file(repo, "close-files")
    before = path.read_bytes()
    editor = _editor(tmp_path, 'pattern = "open\\\\("', 'pattern = "open("')
    result = _factory(repo, "lessons", "edit", "close-files", editor=editor)
    assert result.returncode == 2
    assert f"{path}:" in result.stderr and "check.pattern: not a valid regular expression" in result.stderr
    assert "the edit was not kept" in result.stderr
    assert path.read_bytes() == before


def test_edit_repairs_a_malformed_file(repo: Path, tmp_path: Path) -> None:
    path = _lesson_file(repo, "no-prints")
    path.write_text(path.read_text().replace('status = "active"', 'status = "on"'))
    result = _factory(repo, "lessons", "edit", "no-prints", editor=_editor(tmp_path, '"on"', '"active"'))
    assert result.returncode == 0, result.stderr
    assert _listed(repo)["no-prints"]["status"] == "active"


def test_edit_without_an_editor_says_to_set_one_or_pass_the_rule(repo: Path) -> None:
    result = _factory(repo, "lessons", "edit", "no-prints")
    assert result.returncode == 2
    assert "set EDITOR (or VISUAL)" in result.stderr and "--rule TEXT" in result.stderr
    failing = _factory(repo, "lessons", "edit", "no-prints", editor="false")
    assert failing.returncode == 2 and "exited with code 1" in failing.stderr
    assert git(repo, "status", "--porcelain") == ""


def test_edit_with_rule_replaces_the_rule_without_an_editor(repo: Path) -> None:
    result = _factory(repo, "lessons", "edit", "no-prints", "--rule", "  Use the logging module.  ")
    assert result.returncode == 0, result.stderr
    assert _listed(repo)["no-prints"]["rule"] == "Use the logging module."
    assert _factory(repo, "lessons", "edit", "no-prints", "--rule", " ").returncode == 2


async def test_every_change_is_an_event_with_the_blueprint_version_it_made(repo: Path) -> None:
    events: list[Event] = []
    project = await open_project(repo)
    with session(project, events.append) as current:
        await lessons.accept(current, ["close-files", "no-prints"])
        await lessons.retire(current, ["close-files"])
        await lessons.reject(current, ["no-prints"])
        await lessons.set_rule(current, "close-files", "Close files with `with`.")
    noted = [event for event in events if isinstance(event, LessonNoted)]
    assert [(event.lesson, event.activity) for event in noted] == [
        ("close-files", LessonActivity.ACTIVATED),
        ("close-files", LessonActivity.RETIRED),
        ("no-prints", LessonActivity.REJECTED),
        ("close-files", LessonActivity.EDITED),
    ]
    assert all(event.blueprint and len(event.blueprint) == 12 for event in noted)
    assert len({event.blueprint for event in noted}) == 4
