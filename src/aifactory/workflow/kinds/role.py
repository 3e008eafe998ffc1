"""A `role` step: a factory role's model answers the rendered prompt with text, reading the
workflow's files as it needs; its outputs are the `text` and its non-empty `lines`."""

from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic_ai import ToolOutput

from aifactory.blueprint.store import Prompt
from aifactory.domain.run import Role
from aifactory.providers.calls import CallScope
from aifactory.roles.consult import consult
from aifactory.workflow.kinds.base import StepJob, StepResult

_SYSTEM = (
    "You are the {role} of a software factory, answering one step of a workflow. Read the repository's "
    "files as you need, then answer with `submit_answer`: plain text, one item per line when asked "
    "for a list."
)


class Answer(BaseModel):
    text: str = Field(description="The answer: plain text; one item per line when a list is asked for.")


class RoleKind:
    writes = False

    async def run(self, job: StepJob) -> StepResult:
        role = Role(job.role)
        kit = job.session.kit
        answer = await consult(
            kit,
            role,
            Prompt(system=_SYSTEM.format(role=role.value), task=job.rendered["prompt"]),
            ToolOutput(Answer, name="submit_answer", description="Submit the step's answer."),
            root=job.worktree.path,
            scope=CallScope(role=role),
            max_turns=kit.config.plan.max_turns,
        )
        lines = [line.strip() for line in answer.text.splitlines() if line.strip()]
        return StepResult(outputs={"text": answer.text, "lines": lines})
