"""The plan reviewer: checks the plan against the ask and turns it into the task list."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field
from pydantic_ai import ToolOutput

from aifactory.domain.plan import Plan, PlanSection, Step
from aifactory.domain.run import Role
from aifactory.providers.calls import CallScope
from aifactory.roles.consult import consult
from aifactory.roles.kit import ContextDoc, RoleKit


class TaskListDraft(BaseModel):
    review: PlanSection = Field(
        description="what the review found: gaps, risks, assumptions; 'No concerns.' if none"
    )
    steps: list[Step] = Field(min_length=1, description="the ordered steps; each ends in its own commit")


SUBMIT_TASK_LIST = ToolOutput(
    TaskListDraft, name="submit_task_list", description="Submit the review and task list."
)


async def review(kit: RoleKit, plan: Plan, docs: Sequence[ContextDoc], run_id: str | None = None) -> Plan:
    """The same plan with the reviewer's notes and task list filled in."""
    prompt = kit.blueprint.prompt(
        Role.PLAN_REVIEWER,
        ask=plan.ask,
        title=plan.title,
        body=plan.body,
        questions=plan.questions,
        lessons=plan.lessons,
        context_docs=docs,
        repository=kit.repo.name,
    )
    draft = await consult(
        kit,
        Role.PLAN_REVIEWER,
        prompt,
        SUBMIT_TASK_LIST,
        root=kit.repo,
        scope=CallScope(role=Role.PLAN_REVIEWER, run_id=run_id),
        max_turns=kit.config.plan.max_turns,
    )
    return plan.model_copy(update={"review": draft.review, "steps": tuple(draft.steps)})
