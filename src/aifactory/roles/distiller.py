"""The distiller: turns a round's blocking findings into lessons, general rules for future plans.

It sees the findings, the change they were found in, and the lessons the factory already holds, so
it can say "this is lesson X again" instead of writing a near-copy. What it returns is a proposal:
the engine still decides duplicates by similarity, and proves every check before keeping it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_ai import ToolOutput

from aifactory.domain.lesson import CheckSpec, Lesson, Scope, patch_like
from aifactory.domain.run import Role
from aifactory.domain.verdict import Finding
from aifactory.providers.calls import CallScope
from aifactory.roles.consult import consult
from aifactory.roles.kit import RoleKit


@dataclass(frozen=True)
class Observed:
    """A blocking finding as the distiller sees it: which attempt, which source, what was wrong."""

    number: int
    attempt: str
    source: str
    finding: Finding


class Candidate(BaseModel):
    """One finding's lesson: a new rule, or a pointer to the held lesson it repeats or refines."""

    finding: int = Field(ge=1, description="the number of the finding this lesson comes from")
    action: Literal["new", "same-as", "refine"] = Field(
        description="new: no held lesson covers it; same-as: a held lesson already says this; "
        "refine: a held lesson covers it but its wording should change to also cover this case"
    )
    lesson: str | None = Field(default=None, description="for same-as and refine: the id of the held lesson")
    rule: str = Field(
        description="the general rule in one or two imperative sentences, written for a planner; "
        "for same-as, the held rule; for refine, the new wording"
    )
    scope: Scope = Field(
        default_factory=Scope,
        description="where the rule applies: path globs, languages, task kinds; empty means everywhere",
    )
    check: CheckSpec | None = Field(
        default=None,
        description="an optional deterministic check that flags code breaking the rule: an ast-grep rule, "
        "a regex over added lines, or a shell command; it must flag the offending change and "
        "nothing in correct code",
    )

    @field_validator("rule")
    @classmethod
    def _general(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("state the rule in one or two imperative sentences")
        problem = patch_like(value)
        if problem is not None:
            raise ValueError(f"this rule is a patch, not a lesson: {problem}")
        return value


class Distillation(BaseModel):
    lessons: list[Candidate] = Field(
        default_factory=list,
        description="one entry per finding that teaches something general; none for findings that do not",
    )


async def distill(
    kit: RoleKit,
    *,
    ask: str,
    plan_text: str,
    findings: Sequence[Observed],
    diff: str,
    held: Sequence[Lesson],
    scope: CallScope,
) -> list[Candidate]:
    """Ask the distiller for lessons; candidates naming an unknown finding are dropped by the caller."""
    prompt = kit.blueprint.prompt(
        Role.DISTILLER,
        ask=ask,
        plan_text=plan_text,
        findings=findings,
        diff=diff,
        lessons=held,
    )
    output = ToolOutput(Distillation, name="submit_lessons", description="Submit the lessons you distilled.")
    result = await consult(
        kit, Role.DISTILLER, prompt, output, root=kit.repo, scope=scope, max_turns=kit.config.verify.max_turns
    )
    return result.lessons
