"""Lesson files: written canonically, read strictly, and a malformed one named, skipped, never fatal."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings

from aifactory.blueprint.lessonfile import parse, read, render
from aifactory.blueprint.lessons import LessonBook, new_id
from aifactory.blueprint.store import packaged_defaults
from aifactory.domain.lesson import Lesson, LessonStatus, RegexSpec, Scope
from aifactory.errors import LessonFileError, NotFoundError
from tests.blueprint.lessons import lesson, lessons


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lessons)
def test_a_lesson_survives_being_written_and_read_back(held: Lesson) -> None:
    text = render(held)
    assert parse(text, Path(f"{held.id}.md")) == held
    assert render(parse(text, Path(f"{held.id}.md"))) == text


def test_the_file_is_a_toml_header_then_the_rule(tmp_path: Path) -> None:
    book = LessonBook(tmp_path)
    path = book.save(lesson(check=RegexSpec(pattern=r"open\(", message="use with")))
    text = path.read_text()
    assert text.startswith('+++\nid = "close-files"\nstatus = "proposed"\n')
    assert '\n[check]\nkind = "regex"\npattern = "open\\\\("\n' in text
    assert text.endswith("+++\n\nClose every file you open.\n")
    assert book.get("close-files") == lesson(check=RegexSpec(pattern=r"open\(", message="use with"))


def test_the_shipped_readme_example_is_a_valid_lesson(tmp_path: Path) -> None:
    readme = (packaged_defaults() / "lessons" / "README.md").read_text()
    example = re.search(r"```\n(\+\+\+\n.*?)```", readme, flags=re.DOTALL)
    assert example
    path = tmp_path / "read-files-chunks.md"
    path.write_text(example.group(1))
    held = read(path)
    assert held.status is LessonStatus.ACTIVE and held.check is not None and held.seen


def test_a_hand_written_file_with_comments_crlf_and_a_bom_reads(tmp_path: Path) -> None:
    path = tmp_path / "no-prints.md"
    lines = [
        "\ufeff+++",
        "id = 'no-prints'  # why",
        "created = 2026-05-01",
        "[scope]",
        "languages = ['python']",
    ]
    path.write_bytes("\r\n".join([*lines, "+++", "", "Log instead of printing.", ""]).encode())
    held = read(path)
    assert held.rule == "Log instead of printing." and held.scope == Scope(languages=("python",))


_VALID = render(lesson(check=RegexSpec(pattern="x", message="m")))


class Malformed(NamedTuple):
    name: str
    text: str
    field: str
    line: int | None
    fix: str


_MALFORMED = [
    ("no header", "Close every file.\n", "header", None, "does not start with a `+++` line"),
    ("unclosed", "+++\nid = 'close-files'\n\nClose files.\n", "header", None, "no closing `+++` line"),
    ("bad toml", _VALID.replace('status = "proposed"', "status = proposed"), "header", 3, "not valid TOML"),
    ("empty body", _VALID.replace("Close every file you open.", "  "), "rule", None, "the body is empty"),
    ("rule in header", _VALID.replace("status =", "rule = 'x'\nstatus ="), "rule", 3, "belongs in the body"),
    ("missing id", _VALID.replace('id = "close-files"\n', ""), "id", None, "add id = 'close-files'"),
    ("missing created", re.sub(r"created = .*\n", "", _VALID), "created", None, "e.g. created = "),
    ("id not the name", _VALID.replace('"close-files"', '"shut-files"'), "id", 2, "rename the file"),
    ("bad id", _VALID.replace('"close-files"', '"Close Files"'), "id", 2, "should match pattern"),
    ("bad status", _VALID.replace('"proposed"', '"maybe"'), "status", 3, "'proposed', 'active' or 'retired'"),
    ("bad regex", _VALID.replace('pattern = "x"', 'pattern = "(x"'), "check.pattern", None, "not a valid"),
    ("no kind", _VALID.replace('kind = "regex"\n', ""), "check.kind", None, '"ast-grep", "regex"'),
    ("bad kind", _VALID.replace('"regex"', '"grep"'), "check.kind", None, "'grep' is not a kind of check"),
    ("extra", _VALID.replace("[scope]\n", "[scope]\nfolders = []\n"), "scope.folders", None, "unknown field"),
    (
        "bad language",
        _VALID.replace("languages = []", "languages = ['cobol']"),
        "scope.languages[0]",
        8,
        "known:",
    ),
    ("negative", _VALID.replace("fired = 0", "fired = -2"), "counters.fired", None, "greater than or equal"),
]


@pytest.mark.parametrize("case", [Malformed(*case) for case in _MALFORMED], ids=[c[0] for c in _MALFORMED])
def test_a_malformed_file_names_the_file_the_field_and_the_fix(tmp_path: Path, case: Malformed) -> None:
    field, line, fix = case.field, case.line, case.fix
    path = tmp_path / "close-files.md"
    path.write_text(case.text)
    with pytest.raises(LessonFileError) as raised:
        read(path)
    error = raised.value
    assert error.path == path and error.field == field, case.name
    assert str(error).startswith(f"{path}:{line}: {field}: " if line else f"{path}")
    assert f"{field}: " in str(error) and fix in str(error), str(error)
    if line is not None:
        assert error.line == line


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "close-files.md"
    path.write_bytes(b"+++\nid = '\xff'\n")
    with pytest.raises(LessonFileError, match=r"close-files\.md: file: cannot be read .* UTF-8"):
        read(path)


def test_loading_a_folder_skips_malformed_files_and_reports_them(tmp_path: Path) -> None:
    book = LessonBook(tmp_path)
    book.save(lesson("close-files"))
    book.save(lesson("no-prints", "Log instead of printing."))
    (tmp_path / "broken.md").write_text(_VALID)
    (tmp_path / "README.md").write_text("# not a lesson\n")
    (tmp_path / "notes.txt").write_text("not a lesson either\n")
    (tmp_path / ".close-files.md.x1.tmp").write_text("a write in progress\n")
    shelf = book.load()
    assert [held.id for held in shelf.lessons] == ["close-files", "no-prints"]
    [problem] = shelf.problems
    assert problem.path == tmp_path / "broken.md" and problem.field == "id"
    assert book.ids() == ["broken", "close-files", "no-prints"]


def test_an_unknown_id_names_the_ids_held_that_are_near_it(tmp_path: Path) -> None:
    book = LessonBook(tmp_path / "lessons")
    with pytest.raises(NotFoundError, match="it holds no lessons yet"):
        book.get("close-files")
    book.save(lesson("close-files"))
    book.save(lesson("close-sockets"))
    with pytest.raises(NotFoundError, match=r"no lesson 'close' .*did you mean close-files, close-sockets\?"):
        book.get("close")
    with pytest.raises(NotFoundError, match=r"did you mean close-files\?"):
        book.get("clsoe-files")
    with pytest.raises(NotFoundError, match=r"`factory lessons` lists the 2 it holds"):
        book.get("../../etc/passwd")


def test_saving_replaces_the_file_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    book = LessonBook(tmp_path)
    path = book.save(lesson())
    path.chmod(0o664)
    book.save(lesson(status=LessonStatus.ACTIVE))
    assert book.get("close-files").status is LessonStatus.ACTIVE
    assert path.stat().st_mode & 0o777 == 0o664
    assert [p.name for p in tmp_path.iterdir()] == ["close-files.md"]


def test_a_new_id_is_a_short_slug_of_the_rule_unique_among_those_taken() -> None:
    rule = "Always open files with a context manager so they are closed on every path."
    assert new_id(rule, []) == "always-open-files-context-manager"
    assert new_id(rule, ["always-open-files-context-manager"]) == "always-open-files-context-manager-2"
    taken = ["always-open-files-context-manager", "always-open-files-context-manager-2"]
    assert new_id(rule, taken) == "always-open-files-context-manager-3"
    assert new_id("Readme.", []) == "readme-2"
    assert new_id("日本語だけ", []) == "lesson"
    assert new_id("x", ["lesson-x"]) == "lesson-x-2"
    long = new_id("Supercalifragilisticexpialidocious-antidisestablishmentarianism everywhere", [])
    assert long == "supercalifragilisticexpialidocious"
