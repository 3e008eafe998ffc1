"""An `agent` step: a small agent (`.factory/blueprint/agents/NAME.md`) run on files in the step's
worktree, through the service's one entry point for small agents.

`run_agent` is imported when a step needs it, so a factory without small agents still validates
and runs workflows of the other kinds; an agent step then fails saying so.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from aifactory.workflow.kinds.base import StepFailed, StepJob, StepResult

ENTRY_POINT = ("aifactory.service.small_agents", "run_agent")
"""`await run_agent(session, name, files=[...], inputs={...}, worktree=Path)`, returning a result
with `.commit` (the agent's commit, or None) and `.report` (what it did, as text)."""


class AgentKind:
    writes = True

    async def run(self, job: StepJob) -> StepResult:
        module, name = ENTRY_POINT
        try:
            run_agent = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            raise StepFailed(
                f"small agents are not available in this factory ({module}.{name} is missing), "
                f"so agent {job.agent!r} cannot run"
            ) from None
        result = await run_agent(
            job.session,
            job.agent,
            files=[Path(path) for path in job.rendered["files"]],
            inputs=dict(job.rendered["inputs"]),
            worktree=job.worktree.path,
        )
        commit = result.commit or await job.worktree.require_head()
        return StepResult(outputs={"commit": commit, "report": str(result.report)})
