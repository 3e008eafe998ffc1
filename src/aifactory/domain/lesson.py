"""Lessons: what the factory learned from a verifier's finding, as a rule for future plans.

A lesson is an input, never an output: it changes what the planner is told (its rule) and what
every attempt is held to (its optional check), so the next run is right by construction instead
of being patched. The pure decisions about lessons live here: which ones a task receives, in what
order, and whether a new candidate repeats one the factory already holds.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from aifactory.domain.plan import OneLine, TaskKind
from aifactory.domain.verdict import Severity

LESSON_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")
"""What a lesson id looks like: it names its file, so lowercase words and dashes only."""


class LessonStatus(StrEnum):
    """`proposed` waits for the user; `active` is injected and checked; `retired` is no longer injected."""

    PROPOSED = "proposed"
    ACTIVE = "active"
    RETIRED = "retired"


LANGUAGES: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".go": "go",
    ".rs": "rust",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "tsx",
    ".java": "java",
    ".kt": "kotlin",
    ".rb": "ruby",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".cs": "csharp",
    ".swift": "swift",
    ".php": "php",
    ".scala": "scala",
    ".sh": "bash",
    ".bash": "bash",
    ".lua": "lua",
    ".ex": "elixir",
    ".exs": "elixir",
    ".hs": "haskell",
    ".html": "html",
    ".css": "css",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
}
"""File extension → language name, as ast-grep names its languages."""


def language_of(path: str) -> str | None:
    return LANGUAGES.get(PurePosixPath(path).suffix.lower())


def _glob(value: str) -> str:
    value = value.strip()
    if not value or value.startswith("/") or ".." in PurePosixPath(value).parts:
        raise ValueError(f"{value!r} is not a relative path glob (e.g. 'src/**/*.py')")
    return value


def _language(value: str) -> str:
    value = value.strip().lower()
    if value not in set(LANGUAGES.values()):
        known = ", ".join(sorted(set(LANGUAGES.values())))
        raise ValueError(f"unknown language {value!r}; known: {known}")
    return value


Glob = Annotated[str, AfterValidator(_glob)]
Language = Annotated[str, AfterValidator(_language)]


class Scope(BaseModel):
    """Where a lesson applies. An empty list means no restriction on that axis."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    paths: tuple[Glob, ...] = ()
    languages: tuple[Language, ...] = ()
    kinds: tuple[TaskKind, ...] = ()


class AstGrepSpec(BaseModel):
    """A structural rule (ast-grep's rule object: pattern, kind, inside, has, ...) for one language."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["ast-grep"] = "ast-grep"
    language: Language
    rule: dict[str, Any] = Field(description="ast-grep rule object, e.g. {pattern = '$F.read()'}")
    message: OneLine
    severity: Severity = Severity.ERROR

    @field_validator("rule")
    @classmethod
    def _has_rule(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("must hold an ast-grep rule, e.g. {pattern = '$F.read()'}")
        return value


class RegexSpec(BaseModel):
    """A regular expression over added lines (on a diff) or every line (on a tree) of matching files."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["regex"] = "regex"
    pattern: str
    paths: tuple[Glob, ...] = ()
    message: OneLine
    severity: Severity = Severity.ERROR

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"not a valid regular expression: {error}") from None
        return value


class CommandSpec(BaseModel):
    """A shell command run in the tree under check; a non-zero exit is one finding."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["command"] = "command"
    command: OneLine
    message: OneLine
    severity: Severity = Severity.ERROR


CheckSpec = Annotated[AstGrepSpec | RegexSpec | CommandSpec, Field(discriminator="kind")]
"""A deterministic, fast check a lesson carries; the factory proves it before accepting it."""


class Origin(BaseModel):
    """The finding a lesson was distilled from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run: str
    attempt: str
    finding: OneLine
    location: str = "-"


class Sighting(BaseModel):
    """A later finding on the same topic: it strengthened the lesson instead of adding a new one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run: str
    attempt: str
    finding: OneLine
    location: str = "-"
    at: datetime


class Counters(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    injected: int = Field(default=0, ge=0, description="plans that carried the lesson")
    fired: int = Field(default=0, ge=0, description="findings its check reported")
    flagged: int = Field(default=0, ge=0, description="verifier findings on its topic after the first")


def _rule(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must state the rule in one or two imperative sentences")
    return value


class Lesson(BaseModel):
    """One rule the factory learned; stored as `.factory/blueprint/lessons/<id>.md`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=f"^{LESSON_ID.pattern}$")
    rule: Annotated[str, AfterValidator(_rule)]
    status: LessonStatus = LessonStatus.PROPOSED
    scope: Scope = Scope()
    origin: Origin | None = None
    check: CheckSpec | None = None
    counters: Counters = Counters()
    seen: tuple[Sighting, ...] = ()
    created: datetime
    activated: datetime | None = None
    retirement: str | None = Field(
        default=None, description="why the factory proposes retiring it; cleared when the user decides"
    )


@dataclass(frozen=True)
class TaskProfile:
    """What lesson scopes are matched against: the files a plan touches, their languages, its kind."""

    files: tuple[str, ...] = ()
    languages: frozenset[str] = field(default_factory=frozenset)
    kind: TaskKind | None = None

    @classmethod
    def of(
        cls, files: Iterable[str], kind: TaskKind | None = None, languages: Iterable[str] = ()
    ) -> TaskProfile:
        files = tuple(dict.fromkeys(files))
        found = {language for path in files if (language := language_of(path))}
        return cls(files=files, languages=frozenset(found | set(languages)), kind=kind)


def specificity(scope: Scope, task: TaskProfile) -> int | None:
    """None when the scope excludes the task; otherwise how many axes it matched by name (0-3)."""
    matched = 0
    if scope.paths:
        if not any(fnmatch.fnmatchcase(path, glob) for path in task.files for glob in scope.paths):
            return None
        matched += 1
    if scope.languages:
        if not task.languages.intersection(scope.languages):
            return None
        matched += 1
    if scope.kinds:
        if task.kind is None or task.kind not in scope.kinds:
            return None
        matched += 1
    return matched


def select(lessons: Iterable[Lesson], task: TaskProfile, cap: int) -> list[Lesson]:
    """The active lessons whose scope matches the task, most specific and best evidenced first."""
    ranked: list[tuple[int, int, str, Lesson]] = []
    for lesson in lessons:
        if lesson.status is not LessonStatus.ACTIVE:
            continue
        matched = specificity(lesson.scope, task)
        if matched is None:
            continue
        evidence = lesson.counters.flagged + lesson.counters.fired + len(lesson.seen)
        ranked.append((-matched, -evidence, lesson.id, lesson))
    ranked.sort(key=lambda item: item[:3])
    return [item[3] for item in ranked[: max(cap, 0)]]


@dataclass(frozen=True)
class LessonTrial:
    """Lessons taken as active (`adopted`) or left out (`dropped`) for one command, without changing
    their files: how `factory replay` judges a lesson before it is accepted or retired."""

    adopted: frozenset[str] = frozenset()
    dropped: frozenset[str] = frozenset()

    def apply(self, lessons: Iterable[Lesson]) -> tuple[Lesson, ...]:
        return tuple(
            lesson.model_copy(update={"status": LessonStatus.ACTIVE}) if lesson.id in self.adopted else lesson
            for lesson in lessons
            if lesson.id not in self.dropped
        )

    def version(self, blueprint: str) -> str:
        """The blueprint version as the trial changes it, so its runs are told apart in the ledger."""
        parts = [f"+{name}" for name in sorted(self.adopted)] + [f"-{name}" for name in sorted(self.dropped)]
        return blueprint + "".join(parts)


def retirement_reason(
    lesson: Lesson, *, plans_idle: int, idle_limit: int, findings_since_active: int, checked_limit: int
) -> str | None:
    """Why the factory should propose retiring an active lesson now, or None.

    Two reasons. A lesson no plan has needed for `idle_limit` plans costs attention for nothing. A
    lesson whose proven check has stood guard over `checked_limit` plans with no finding on its
    topic since it became active has its prose made redundant by the check: retiring takes the
    prose out of the prompts while the check keeps enforcing the rule.
    """
    if lesson.status is not LessonStatus.ACTIVE or lesson.retirement is not None:
        return None
    if plans_idle >= idle_limit:
        return f"no plan carried it in the last {plans_idle} plans"
    guarded = lesson.check is not None and not findings_since_active
    if guarded and lesson.counters.injected >= checked_limit:
        carried = lesson.counters.injected
        return (
            f"its check enforces it: {carried} plans carried it with no finding on its topic since it "
            "became active; retiring takes its prose out of prompts and keeps the check"
        )
    return None


def enforced_checks(lessons: Iterable[Lesson]) -> tuple[tuple[str, CheckSpec], ...]:
    """The checks attempts are held to: active lessons' and retired ones' (retiring a lesson takes its
    prose out of the prompts; its check goes on enforcing the rule). Proposed lessons' wait."""
    return tuple(
        (lesson.id, lesson.check)
        for lesson in sorted(lessons, key=lambda item: item.id)
        if lesson.check is not None and lesson.status is not LessonStatus.PROPOSED
    )


_WORD = re.compile(r"[a-z0-9]+")
_FILLER = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "do",
        "does",
        "for",
        "from",
        "in",
        "into",
        "is",
        "it",
        "its",
        "never",
        "no",
        "not",
        "of",
        "on",
        "or",
        "so",
        "the",
        "then",
        "to",
        "use",
        "when",
        "with",
        "without",
    ]
)


def content_words(text: str) -> list[str]:
    """The words of `text` that carry meaning, lowercased, in order: what similarity and lesson ids use."""
    return [word for word in _WORD.findall(text.lower()) if word not in _FILLER]


def _words(text: str) -> frozenset[str]:
    return frozenset(content_words(text))


def similarity(first: str, second: str) -> float:
    """Jaccard similarity of the rules' content words: 1.0 for the same rule in other words' order."""
    a, b = _words(first), _words(second)
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def closest(rule: str, lessons: Sequence[Lesson]) -> tuple[Lesson, float] | None:
    """The held lesson most like `rule`, with its similarity; retired lessons count too."""
    scored = [(lesson, similarity(rule, lesson.rule)) for lesson in lessons]
    return max(scored, key=lambda pair: pair[1], default=None)


_PATCH_LIKE = re.compile(r"\bline\s+\d+\b|:\d+\b", re.IGNORECASE)


def patch_like(rule: str) -> str | None:
    """Why a candidate rule is a patch rather than a lesson, or None: rules never name line numbers."""
    found = _PATCH_LIKE.search(rule)
    if found:
        return (
            f"it names a line ({found.group(0)!r}); a lesson states a general rule for future plans, "
            "not a fix to one place in one file"
        )
    return None
