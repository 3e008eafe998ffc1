"""ast-grep checks: structural rules matched on tree-sitter syntax trees through ast-grep-py.

All of a language's rules are grouped in one `AstGrepChecks`, so each file is parsed once however many
lessons look at it. A rule is validated when compiled (ast-grep-py reports a bad rule only when it is
first used, as a bare exception) and turned into a `CheckError` naming the lesson and the fix. A cheap
pre-filter skips parsing a file that cannot match: a rule whose pattern spells an identifier (`read`
in `$F.read()`) only matches files whose text holds that word.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ast_grep_py import Config, SgRoot

from aifactory.checks.base import Lines
from aifactory.checks.hits import Hit
from aifactory.domain.lesson import LANGUAGES, AstGrepSpec, language_of
from aifactory.domain.verdict import Severity
from aifactory.errors import CheckError

RULE_REFERENCE = "https://ast-grep.github.io/reference/rule.html"

_METAVARIABLE = re.compile(r"\$+[A-Z_][A-Z0-9_]*")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class AstGrepRule:
    """One lesson's rule, validated; a file must hold one of the `needles` to match (none: any file may)."""

    lesson: str
    config: Mapping[str, Any]
    needles: tuple[str, ...]
    message: str
    severity: Severity


@dataclass(frozen=True, slots=True)
class AstGrepChecks:
    """Every rule of one language: a file of that language is parsed once and all of them applied."""

    language: str
    rules: tuple[AstGrepRule, ...]

    def wants(self, path: str) -> bool:
        return language_of(path) == self.language

    def find(self, path: str, text: str, lines: Lines | None) -> Iterator[Hit]:
        applicable = [rule for rule in self.rules if _may_match(rule, text)]
        if not applicable:
            return
        root = SgRoot(text, self.language).root()
        for rule in applicable:
            for node in root.find_all(_config(rule.config)):
                start = node.range().start
                line = start.line + 1
                if lines is None or line in lines:
                    yield Hit(path, line, start.column + 1, rule.lesson, rule.message, rule.severity)


def compile_rule(lesson: str, spec: AstGrepSpec) -> AstGrepRule:
    """Validate `spec` with ast-grep itself; a `CheckError` says what is wrong with which lesson's rule."""
    if spec.language not in set(LANGUAGES.values()):
        known = ", ".join(sorted(set(LANGUAGES.values())))
        raise CheckError(
            f"lesson {lesson}: its ast-grep check names language {spec.language!r}; use one of {known}"
        )
    config = {"rule": spec.rule}
    try:
        SgRoot("", spec.language).root().find_all(_config(config))
    except Exception as error:
        said = str(error).split("\nStack backtrace:")[0].strip()
        raise CheckError(
            f"lesson {lesson}: its ast-grep rule for {spec.language} is not valid: {said}\n"
            f"Fix the rule object in the lesson's check (see {RULE_REFERENCE})."
        ) from None
    return AstGrepRule(lesson, config, needles(spec.rule), spec.message, spec.severity)


def group(rules: Mapping[str, list[AstGrepRule]]) -> tuple[AstGrepChecks, ...]:
    """One `AstGrepChecks` per language, in a stable order."""
    return tuple(AstGrepChecks(language, tuple(rules[language])) for language in sorted(rules))


def needles(rule: Mapping[str, Any]) -> tuple[str, ...]:
    """Words a file must hold (any one of them) for `rule` to match it; empty when that cannot be told.

    A plain `pattern` string must appear token by token in what it matches, so its longest identifier
    (metavariables aside) is in the file. `all` needs one of its parts' words, `any` needs one word of
    every branch; `kind`, `regex` and pattern objects (with a context or a strictness) tell nothing.
    """
    pattern = rule.get("pattern")
    if isinstance(pattern, str):
        words = _WORD.findall(_METAVARIABLE.sub(" ", pattern))
        if words:
            return (max(words, key=len),)
    for part in rule.get("all", ()):
        found = needles(part)
        if found:
            return found
    branches = [needles(part) for part in rule.get("any", ())]
    if branches and all(branches):
        return tuple(dict.fromkeys(word for branch in branches for word in branch))
    return ()


def _may_match(rule: AstGrepRule, text: str) -> bool:
    return not rule.needles or any(needle in text for needle in rule.needles)


def _config(config: Mapping[str, Any]) -> Config:
    # ast-grep-py types its config as a TypedDict; ours is validated by ast-grep itself at compile time.
    return Config(rule=config["rule"])
