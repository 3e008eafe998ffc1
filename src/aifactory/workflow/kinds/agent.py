"""An `agent` step: a small agent (`.factory/blueprint/agents/NAME.md`) run in the step's worktree,
through the service's one entry point for small agents; its change is its own commit there.

`files` are glob patterns matched in the step's worktree, so a step can name what earlier steps
wrote (`integrations/*.py`) without knowing the names. A change the agent's checks reject fails the
step: its dependents would otherwise build on work that was silently dropped.
"""

from __future__ import annotations

from pathlib import Path

from aifactory.service.small_agents import InWorktree, run_agent
from aifactory.workflow.kinds.base import StepFailed, StepJob, StepResult


class AgentKind:
    writes = True

    async def run(self, job: StepJob) -> StepResult:
        target = InWorktree(
            path=job.worktree.path,
            branch=await job.worktree.current_branch() or await job.worktree.require_head(),
            files=_matching(job.worktree.path, job.rendered["files"]),
            run_id=job.run_id,
            label=job.key,
        )
        result = await run_agent(job.session, job.agent, target, dict(job.rendered["inputs"]))
        if result.dropped:
            raise StepFailed(f"agent {job.agent}'s change was dropped: {result.dropped}")
        report = "\n".join(result.report) or result.summary
        commit = result.commit or await job.worktree.require_head()
        return StepResult(outputs={"commit": commit, "report": report})


def _matching(root: Path, patterns: list[str]) -> tuple[str, ...]:
    """Each pattern's files, relative to `root`, in order, each once; a pattern matching nothing fails."""
    found: dict[str, None] = {}
    for pattern in patterns:
        matches = sorted(path for path in root.glob(pattern) if path.is_file())
        if not matches:
            raise StepFailed(f"files: {pattern!r} matches no file in the step's worktree")
        found |= dict.fromkeys(path.relative_to(root).as_posix() for path in matches)
    return tuple(found)
