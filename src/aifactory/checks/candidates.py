"""Where a librarian replacement's ast-grep rule matches: candidates found deterministically, so the
model rewrites the code the rule names instead of hunting for it (and a report says what was found)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ast_grep_py import Config, SgRoot

from aifactory.domain.lesson import language_of
from aifactory.errors import ConfigError

_TEXT_CHARS = 160


@dataclass(frozen=True)
class Candidate:
    """A match: the file (relative), its 1-based line, and the matched code's first line."""

    path: str
    line: int
    text: str


def find_candidates(
    root: Path, files: Iterable[str], language: str, rule: Mapping[str, Any], *, entry: int
) -> list[Candidate]:
    """Matches of `rule` in those `files` under `root` written in `language`; `entry` (1-based) names
    the `[[librarian.replacements]]` entry in errors."""
    found: list[Candidate] = []
    # ast-grep-py types a rule as a TypedDict; this one is the user's, checked by ast-grep as it runs.
    matcher: Any = dict(rule)
    for path in files:
        file = root / path
        if language_of(path) != language or not file.is_file():
            continue
        text = file.read_text(encoding="utf-8", errors="replace")
        try:
            nodes = SgRoot(text, language).root().find_all(Config(rule=matcher))
        except Exception as error:
            said = str(error).split("\nStack backtrace:")[0].strip()
            raise ConfigError(
                f"[[librarian.replacements]] entry {entry}: its ast-grep rule for {language} is not "
                f"valid: {said}; fix `rule` (https://ast-grep.github.io/reference/rule.html)"
            ) from None
        for node in nodes:
            first = node.text().splitlines()[0] if node.text() else ""
            found.append(Candidate(path, node.range().start.line + 1, first[:_TEXT_CHARS]))
    return found
