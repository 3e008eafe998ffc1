"""The plan: the contract between planner, reviewer, executors and verifiers.

A plan carries the ask verbatim, the clarifying questions and their answers, the implementation
plan and the task list. It is rendered to and parsed from `plans/<slug>-plan.md`; the validators
here keep every value representable in that file, so the two round-trip.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from aifactory.domain.markdown import first_heading_at_or_above, unclosed_fence


class TaskKind(StrEnum):
    """What kind of change a plan makes, as the planner judges it; lessons may apply to some kinds only."""

    FEATURE = "feature"
    FIX = "fix"
    REFACTOR = "refactor"
    TEST = "test"
    DOCS = "docs"
    CHORE = "chore"


class Complexity(StrEnum):
    """How hard a step is; the agent mix may route simple and complex steps to different models."""

    SIMPLE = "simple"
    COMPLEX = "complex"


def _one_line(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("must not be empty")
    return value


OneLine = Annotated[str, AfterValidator(_one_line)]
"""A non-empty single line: whitespace runs, newlines included, collapse to one space."""

_FILE_EDGES = re.compile(r"\A[\s`]+|[\s`]+\Z")


def _section_text(value: str, *, deepest_reserved: int) -> str:
    """Strip blank edges; refuse headings that would end the section and fences that would swallow it."""
    value = value.strip("\n").rstrip()
    found = first_heading_at_or_above(value, deepest_reserved)
    if found is not None:
        line, title = found
        depth = "#" * deepest_reserved
        raise ValueError(
            f"line {line + 1} is a heading ({title!r}); headings up to {depth} delimit the plan file, "
            f"use {'#' * (deepest_reserved + 1)} or deeper inside this text"
        )
    fence = unclosed_fence(value)
    if fence is not None:
        raise ValueError(
            f"line {fence.start + 1} opens a code fence ({fence.marker}) that is never closed; "
            f"close it with a line of {fence.marker}"
        )
    return value


def _plan_section(value: str) -> str:
    return _section_text(value, deepest_reserved=2)


PlanSection = Annotated[str, AfterValidator(_plan_section)]
"""Text that fits under a `##` section of the plan file: no `#` or `##` headings outside fences."""


class Question(BaseModel):
    """A clarifying question; `answer` is None while the question is open."""

    model_config = ConfigDict(frozen=True)

    text: OneLine
    answer: str | None = None

    @field_validator("answer")
    @classmethod
    def _answer(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = _section_text(value, deepest_reserved=3)
        return value or None

    @property
    def is_open(self) -> bool:
        return self.answer is None


class Step(BaseModel):
    """One entry of the task list; executing it ends in exactly one commit."""

    model_config = ConfigDict(frozen=True)

    title: OneLine
    description: str = ""
    files: tuple[str, ...] = ()
    complexity: Complexity = Complexity.SIMPLE

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        return _section_text(value, deepest_reserved=3)

    @field_validator("files")
    @classmethod
    def _files(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Paths share one `- Files:` line, so they lose Markdown backticks and may not hold `,` or breaks."""
        cleaned = tuple(name for name in (_FILE_EDGES.sub("", name) for name in value) if name)
        for name in cleaned:
            if "," in name:
                raise ValueError(f"file name {name!r} contains a comma; list one path per entry")
            if "\n" in name or "\r" in name:
                raise ValueError(f"file name {name!r} spans several lines; list one path per entry")
        return cleaned


class CarriedLesson(BaseModel):
    """A lesson as a plan carries it: the rule every role working on the plan is held to."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    rule: OneLine


class Plan(BaseModel):
    """Everything a run needs to know about what to build and how."""

    model_config = ConfigDict(frozen=True)

    title: OneLine
    ask: str
    context: tuple[OneLine, ...] = ()
    questions: tuple[Question, ...] = ()
    kind: TaskKind | None = None
    lessons: tuple[CarriedLesson, ...] = ()
    body: PlanSection = ""
    review: PlanSection = ""
    steps: tuple[Step, ...] = ()

    @field_validator("ask")
    @classmethod
    def _ask(cls, value: str) -> str:
        value = value.strip("\n").rstrip()
        if not value.strip():
            raise ValueError("the ask must not be empty")
        return value

    @property
    def open_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.is_open)

    @property
    def is_ready(self) -> bool:
        """A plan can be run once no question is open and it has a task list."""
        return not self.open_questions and bool(self.steps)


def slugify(text: str, *, max_length: int = 48) -> str:
    """A lowercase, dash-separated name for files and branches, cut at a word boundary."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_length:
            break
        slug = candidate
    return slug or "task"
