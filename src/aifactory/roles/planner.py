"""The planner: clarifying questions first, then the implementation plan, from the blueprint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel, Field
from pydantic_ai import ToolOutput

from aifactory.domain.plan import CarriedLesson, OneLine, PlanSection, Question, TaskKind
from aifactory.domain.run import Role
from aifactory.providers.calls import CallScope
from aifactory.roles.consult import consult
from aifactory.roles.kit import ContextDoc, RoleKit

T = TypeVar("T")


class Clarification(BaseModel):
    questions: list[OneLine] = Field(
        default_factory=list,
        max_length=5,
        description="questions whose answers would change the plan, one sentence each; empty if none",
    )


class PlanDraft(BaseModel):
    title: OneLine = Field(description="imperative title under 70 characters")
    kind: TaskKind = Field(default=TaskKind.FEATURE, description="what kind of change this is")
    body: PlanSection = Field(description="the implementation plan in Markdown, ### and deeper headings only")


async def clarify(kit: RoleKit, ask: str, docs: Sequence[ContextDoc], run_id: str | None = None) -> list[str]:
    """The questions the planner needs answered before it can plan."""
    answer = await _call(
        kit,
        phase="clarify",
        ask=ask,
        docs=docs,
        questions=(),
        lessons=(),
        output=ToolOutput(
            Clarification, name="submit_questions", description="Submit your clarifying questions."
        ),
        run_id=run_id,
    )
    return list(answer.questions)


async def draft(
    kit: RoleKit,
    ask: str,
    docs: Sequence[ContextDoc],
    questions: Sequence[Question],
    lessons: Sequence[CarriedLesson],
    *,
    run_id: str | None = None,
) -> PlanDraft:
    """The implementation plan, following the blueprint's plan template and the lessons it receives.

    `run_id` is given when a run plans again for a later round, so the run is charged for it."""
    return await _call(
        kit,
        phase="plan",
        ask=ask,
        docs=docs,
        questions=questions,
        lessons=lessons,
        run_id=run_id,
        output=ToolOutput(PlanDraft, name="submit_plan", description="Submit the implementation plan."),
    )


async def _call(
    kit: RoleKit,
    *,
    phase: str,
    ask: str,
    docs: Sequence[ContextDoc],
    questions: Sequence[Question],
    lessons: Sequence[CarriedLesson],
    output: ToolOutput[T],
    run_id: str | None = None,
) -> T:
    prompt = kit.blueprint.prompt(
        Role.PLANNER,
        phase=phase,
        ask=ask,
        context_docs=docs,
        questions=questions,
        plan_template=kit.blueprint.plan_template(ask=ask, context=[d.path for d in docs], lessons=lessons),
        repository=kit.repo.name,
    )
    return await consult(
        kit,
        Role.PLANNER,
        prompt,
        output,
        root=kit.repo,
        scope=CallScope(role=Role.PLANNER, run_id=run_id),
        max_turns=kit.config.plan.max_turns,
    )
