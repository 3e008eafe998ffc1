"""Regular-expression checks: a pattern searched line by line in files matching the lesson's globs.

Lines are split on `\\n` only (a trailing `\\r` dropped), so line numbers agree with git's; a line
counts once, at its first match. Globs match paths as lesson scopes do (`fnmatch`, `*` crossing
directories); no glob means every file.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass

from aifactory.checks.base import Lines
from aifactory.checks.hits import Hit
from aifactory.domain.lesson import RegexSpec
from aifactory.domain.verdict import Severity
from aifactory.errors import CheckError


@dataclass(frozen=True, slots=True)
class RegexRule:
    lesson: str
    pattern: re.Pattern[str]
    globs: tuple[str, ...]
    message: str
    severity: Severity

    def wants(self, path: str) -> bool:
        return not self.globs or any(fnmatch.fnmatchcase(path, glob) for glob in self.globs)


@dataclass(frozen=True, slots=True)
class RegexChecks:
    """Every regex rule of a scan; a file is split into lines once for all of them."""

    rules: tuple[RegexRule, ...]

    def wants(self, path: str) -> bool:
        return any(rule.wants(path) for rule in self.rules)

    def find(self, path: str, text: str, lines: Lines | None) -> Iterator[Hit]:
        rules = [rule for rule in self.rules if rule.wants(path)]
        split = text.split("\n")
        if split[-1] == "":
            split.pop()
        numbers = range(1, len(split) + 1) if lines is None else (n for n in lines if n <= len(split))
        for number in numbers:
            line = split[number - 1].removesuffix("\r")
            for rule in rules:
                found = rule.pattern.search(line)
                if found is not None:
                    yield Hit(path, number, found.start() + 1, rule.lesson, rule.message, rule.severity)


def compile_rule(lesson: str, spec: RegexSpec) -> RegexRule:
    try:
        pattern = re.compile(spec.pattern)
    except re.error as error:
        raise CheckError(
            f"lesson {lesson}: its regex check {spec.pattern!r} is not a valid regular expression "
            f"({error}); fix the pattern in the lesson's check"
        ) from None
    return RegexRule(lesson, pattern, spec.paths, spec.message, spec.severity)
