"""A reading role's model call: its prompt, its typed answer, the repository's files to read."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic_ai import ToolOutput

from aifactory.agents.loop import run_model
from aifactory.agents.tools import READ_TOOLS, Workspace
from aifactory.blueprint.store import Prompt
from aifactory.domain.run import Role
from aifactory.providers.calls import CallScope
from aifactory.roles.kit import RoleKit

T = TypeVar("T")


async def consult(
    kit: RoleKit,
    role: Role,
    prompt: Prompt,
    output: ToolOutput[T],
    *,
    root: Path,
    scope: CallScope,
    max_turns: int,
) -> T:
    """A reading role's (planner, reviewer, verifier) typed answer; it may read the files under `root`."""
    return await run_model(
        kit.catalog.model(role, scope),
        who=f"the {role.value.replace('-', ' ')}",
        instructions=prompt.system,
        task=prompt.task,
        stable=prompt.stable,
        output=output,
        tools=READ_TOOLS,
        workspace=Workspace(root=root),
        settings=kit.catalog.settings(role),
        max_turns=max_turns,
        output_retries=kit.output_retries,
    )
