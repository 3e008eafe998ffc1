"""The pre-filter: which words a rule's matches must contain, so files without them are not parsed."""

from __future__ import annotations

from pathlib import Path

from aifactory.checks.ast_grep import needles
from aifactory.checks.scan import scan
from aifactory.checks.sources import TreeSource
from aifactory.domain.lesson import AstGrepSpec
from tests.checks.conftest import write


def test_a_pattern_needs_its_longest_word_and_metavariables_need_none() -> None:
    assert needles({"pattern": "$FILE.read($$$ARGS)"}) == ("read",)
    assert needles({"pattern": "json.loads($S)"}) == ("loads",)
    assert needles({"pattern": "$A + $B"}) == ()


def test_all_needs_one_part_s_word_and_any_needs_a_word_from_every_branch() -> None:
    assert needles({"all": [{"kind": "call"}, {"pattern": "eval($X)"}]}) == ("eval",)
    assert needles({"any": [{"pattern": "eval($X)"}, {"pattern": "exec($X)"}]}) == ("eval", "exec")
    assert needles({"any": [{"pattern": "eval($X)"}, {"kind": "call"}]}) == ()
    assert needles({"kind": "call", "regex": "^eval"}) == ()


async def test_files_without_the_word_are_not_matched_and_files_with_it_are(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "x = 1\n", "b.py": "data = f.read()\n", "bin.py": b"f.read()\x00\n"})
    spec = AstGrepSpec(language="python", rule={"pattern": "$F.read()"}, message="m")
    report = await scan([("r", spec)], TreeSource(tmp_path), command_timeout=10, env={})
    assert [(hit.path, hit.line) for hit in report.hits] == [("b.py", 1)]
    assert report.files == 2
