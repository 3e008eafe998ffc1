"""Scanning real repositories and trees with each kind of check."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aifactory.checks.base import CheckTarget
from aifactory.checks.scan import IN_PROCESS_FILES, LessonChecks, ScanReport, compile_checks, scan
from aifactory.checks.sources import CommitTreeSource, DiffSource, Source, TreeSource
from aifactory.checks.worker import scan_files
from aifactory.domain.lesson import AstGrepSpec, CheckSpec, CommandSpec, RegexSpec
from aifactory.domain.verdict import Severity
from aifactory.errors import CheckError
from aifactory.workspace.process import scrubbed_env
from tests.checks.conftest import commit, write
from tests.support import git

READ = AstGrepSpec(language="python", rule={"pattern": "$F.read()"}, message="read files in a with block")
TODO = RegexSpec(pattern=r"\bTODO\b", paths=("shop/*",), message="no TODO in shop code")


async def _scan(
    checks: list[tuple[str, CheckSpec]], source: Source, *, workers: int = 0, time_limit: float = 30
) -> ScanReport:
    return await scan(checks, source, workers=workers, command_timeout=time_limit, env=scrubbed_env())


def _places(report: ScanReport) -> list[tuple[str, str, int, int]]:
    return [(hit.lesson, hit.path, hit.line, hit.column) for hit in report.hits]


async def test_on_a_diff_only_matches_starting_on_added_lines_count(shop: Path) -> None:
    git(shop, "switch", "-q", "-c", "topic")
    head = commit(
        shop,
        {
            "shop/io.py": "def load(f):\n    return f.read()\n\n\n"
            "def peek(g):\n    return g.read()  # TODO\n",
            "docs/notes.md": "TODO outside shop\n",
        },
    )
    checks: list[tuple[str, CheckSpec]] = [("close-files", READ), ("no-todo", TODO)]
    on_diff = await _scan(checks, DiffSource(shop, "base", head))
    assert _places(on_diff) == [("close-files", "shop/io.py", 6, 12), ("no-todo", "shop/io.py", 6, 24)]
    assert on_diff.counts == {"close-files": 1, "no-todo": 1}
    on_tree = await _scan(checks, TreeSource(shop))
    assert [place[1:3] for place in _places(on_tree)] == [
        ("shop/io.py", 2),
        ("shop/io.py", 6),
        ("shop/io.py", 6),
    ]


async def test_a_working_tree_diff_checks_uncommitted_and_untracked_files(shop: Path) -> None:
    write(shop, {"shop/new.py": "def f(h):\n    return h.read()\n"})
    report = await _scan([("close-files", READ)], DiffSource(shop, "base"))
    assert _places(report) == [("close-files", "shop/new.py", 2, 12)]
    assert not report.verdict().passed


async def test_a_commit_tree_counts_every_line_of_every_file(shop: Path) -> None:
    write(shop, {"shop/io.py": "nothing to see\n"})
    report = await _scan([("close-files", READ)], CommitTreeSource(shop, "base"))
    assert _places(report) == [("close-files", "shop/io.py", 2, 12)]
    assert report.files == 2


async def test_regex_checks_match_once_per_line_within_their_globs(tmp_path: Path) -> None:
    write(tmp_path, {"shop/a.py": "x = 1  # TODO TODO\nok\r\nTODO: later\n", "docs/b.md": "TODO\n"})
    report = await _scan([("no-todo", TODO)], TreeSource(tmp_path))
    assert _places(report) == [("no-todo", "shop/a.py", 1, 10), ("no-todo", "shop/a.py", 3, 1)]


async def test_ast_grep_rules_use_relations_and_keep_their_severity(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": "with open(p) as f:\n    pass\nh = open(q)\n"})
    loose = AstGrepSpec(
        language="python",
        rule={"pattern": "open($$$ARGS)", "not": {"inside": {"kind": "with_statement", "stopBy": "end"}}},
        message="open files in a with block",
        severity=Severity.WARNING,
    )
    report = await _scan([("with-open", loose)], TreeSource(tmp_path))
    assert _places(report) == [("with-open", "app.py", 3, 5)]
    assert report.hits[0].severity is Severity.WARNING
    assert report.verdict().passed


async def test_a_failing_command_is_one_hit_without_a_place(tmp_path: Path) -> None:
    write(tmp_path, {"shop/forbidden.txt": "x\n"})
    spec = CommandSpec(command="test ! -e shop/forbidden.txt", message="no forbidden files")
    report = await _scan([("forbidden", spec)], TreeSource(tmp_path))
    assert _places(report) == [("forbidden", "-", 0, 0)]
    assert "exited with 1" in report.hits[0].message
    assert report.commands == 1
    passing = await _scan([("fine", CommandSpec(command="true", message="m"))], TreeSource(tmp_path))
    assert not passing.hits


async def test_a_command_that_runs_too_long_is_a_hit(tmp_path: Path) -> None:
    report = await _scan(
        [("slow", CommandSpec(command="sleep 5", message="be fast"))], TreeSource(tmp_path), time_limit=0.3
    )
    assert "did not finish within 0.3s" in report.hits[0].message


async def test_a_command_on_a_commit_runs_in_a_checkout_that_is_removed_afterwards(
    shop: Path, tmp_path: Path
) -> None:
    write(shop, {"shop/untracked.py": "u\n"})
    where = tmp_path / "where.txt"
    spec = CommandSpec(
        command=f"test -f shop/io.py && test ! -e shop/untracked.py && pwd > {where} && false",
        message="ran in a checkout of the commit",
    )
    report = await _scan([("checkout", spec)], CommitTreeSource(shop, "base"))
    assert len(report.hits) == 1
    checkout = Path(where.read_text().strip())
    assert checkout != shop
    assert not checkout.exists()
    assert git(shop, "worktree", "list", "--porcelain").count("worktree ") == 1


async def test_lesson_checks_judge_an_attempt_by_what_it_added(shop: Path, tmp_path: Path) -> None:
    git(shop, "switch", "-q", "-c", "attempt", "base")
    head = commit(shop, {"shop/more.py": "def more(f):\n    return f.read()\n"})
    checks: tuple[tuple[str, CheckSpec], ...] = (
        ("close-files", AstGrepSpec(language="python", rule={"pattern": "$F.read()"}, message="use with")),
    )
    target = CheckTarget(worktree=shop, base="base", head=head, log_dir=tmp_path, env=scrubbed_env())
    result = await LessonChecks(checks, workers=0, command_timeout=10).run(target)
    assert not result.passed
    assert [(finding.file, finding.line, finding.what) for finding in result.findings] == [
        ("shop/more.py", 2, "close-files: use with")
    ]


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        ({"patern": "$F.read()"}, "unknown field `patern`"),
        ({"kind": "no_such_kind"}, "no_such_kind"),
        ({"pattern": "$F.read()", "regex": "("}, "unclosed group"),
    ],
)
async def test_an_invalid_ast_grep_rule_is_refused_naming_the_lesson(
    rule: dict[str, object], said: str, tmp_path: Path
) -> None:
    spec = AstGrepSpec(language="python", rule=rule, message="m")
    with pytest.raises(CheckError, match=said) as raised:
        await _scan([("bad-rule", spec)], TreeSource(tmp_path / "never-read"))
    assert "lesson bad-rule" in str(raised.value)
    assert "Stack backtrace" not in str(raised.value)


def test_an_unsupported_language_is_refused_naming_the_lesson() -> None:
    spec = AstGrepSpec.model_construct(language="cobol", rule={"pattern": "x"}, message="m")
    with pytest.raises(CheckError, match=r"lesson old-code: .*'cobol'"):
        compile_checks([("old-code", spec)])


_SNIPPETS = ["x = f.read()", "y = 1", "print(z)  # TODO", "with open(p) as g:", "    g.read()", "", "TODO"]


@settings(max_examples=4, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_SNIPPETS), max_size=8), min_size=IN_PROCESS_FILES + 1, max_size=90))
def test_a_parallel_scan_finds_what_an_in_process_scan_finds(files: list[list[str]]) -> None:
    checks: list[tuple[str, CheckSpec]] = [
        ("close-files", READ),
        ("no-print", AstGrepSpec(language="python", rule={"pattern": "print($$$A)"}, message="log")),
        ("no-todo", RegexSpec(pattern="TODO", message="no TODO")),
    ]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write(root, {f"pkg{n % 3}/m{n}.py": "\n".join(lines) + "\n" for n, lines in enumerate(files)})
        source = TreeSource(root)
        parallel = asyncio.run(_scan(checks, source, workers=2))

        async def listed() -> list:
            return [file async for file in source.files(lambda path: True)]

        alone, scanned = scan_files(compile_checks(checks).files, asyncio.run(listed()))
    assert parallel.hits == tuple(sorted(alone))
    assert parallel.files == scanned == len(files)
