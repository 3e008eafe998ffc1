"""Our ast-grep checks find what the `ast-grep scan` CLI finds, on the same tree with the same rules."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from aifactory.checks.scan import scan
from aifactory.checks.sources import TreeSource
from aifactory.domain.lesson import AstGrepSpec, CheckSpec
from tests.checks.conftest import write

RULES: dict[str, tuple[str, dict[str, Any]]] = {
    "no-print": ("python", {"pattern": "print($$$ARGS)"}),
    "with-open": (
        "python",
        {"pattern": "open($$$ARGS)", "not": {"inside": {"kind": "with_statement", "stopBy": "end"}}},
    ),
    "mutable-default": (
        "python",
        {
            "any": [{"kind": "default_parameter"}, {"kind": "typed_default_parameter"}],
            "has": {"field": "value", "any": [{"kind": "list"}, {"kind": "dictionary"}]},
        },
    ),
    "no-console": ("javascript", {"pattern": "console.log($$$A)"}),
}

TREE = {
    "app/main.py": (
        "def run(items=[], *, seen: dict = {}):\n"
        "    print('start', len(items))\n"
        "    with open('a') as f:\n"
        "        data = f.read()\n"
        "    g = open('b')\n"
        "    return data, g\n"
    ),
    "app/util.py": "def echo(x):\n    print(x); print(x, x)\n    return open(x)\n",
    "app/clean.py": "def fine(x=None):\n    return x\n",
    "web/app.js": "function f(a) {\n  console.log(a);\n  return a;\n}\nconsole.log('é', f(1));\n",
}


def _cli() -> str:
    beside = Path(sys.executable).parent / "ast-grep"
    found = str(beside) if beside.exists() else shutil.which("ast-grep")
    assert found, "the ast-grep CLI (package ast-grep-cli) is a test dependency"
    return found


def _cli_matches(project: Path, tree: Path) -> set[tuple[str, str, int, int]]:
    rules = project / "rules"
    rules.mkdir(parents=True)
    for lesson, (language, rule) in RULES.items():
        document = {
            "id": lesson,
            "language": language,
            "severity": "warning",
            "message": lesson,
            "rule": rule,
        }
        (rules / f"{lesson}.yml").write_text(json.dumps(document))
    (project / "sgconfig.yml").write_text("ruleDirs: [rules]\n")
    result = subprocess.run(
        [_cli(), "scan", "-c", str(project / "sgconfig.yml"), "--json=stream", str(tree)],
        capture_output=True,
        text=True,
        check=True,
    )
    found = set()
    for line in result.stdout.splitlines():
        match = json.loads(line)
        start = match["range"]["start"]
        path = Path(match["file"]).resolve().relative_to(tree.resolve()).as_posix()
        found.add((match["ruleId"], path, start["line"] + 1, start["column"] + 1))
    return found


async def test_our_matches_equal_the_cli_s(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    write(tree, TREE)
    checks: list[tuple[str, CheckSpec]] = [
        (lesson, AstGrepSpec(language=language, rule=rule, message=lesson))
        for lesson, (language, rule) in RULES.items()
    ]
    report = await scan(checks, TreeSource(tree), command_timeout=10, env={})
    ours = {(hit.lesson, hit.path, hit.line, hit.column) for hit in report.hits}
    assert ours == _cli_matches(tmp_path / "project", tree)
    assert {hit.lesson for hit in report.hits} == set(RULES)
