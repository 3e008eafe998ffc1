"""A `run` step: `factory run` of an ask rendered from the workflow (plan, then attempts verified
like any run) from the step's worktree; the best passing attempt is merged into that worktree."""

from __future__ import annotations

from aifactory.domain.run import RunState, branch_name
from aifactory.service.planning import no_answers
from aifactory.service.running import RunStart, run
from aifactory.workflow.kinds.base import StepFailed, StepJob, StepResult


class RunKind:
    writes = True

    async def run(self, job: StepJob) -> StepResult:
        root = job.session.project.root
        start = RunStart(
            ask=job.rendered["ask"],
            context=[root / path for path in job.rendered["context"]],
            base=await job.worktree.require_head(),
        )
        notes: list[str] = []
        outcome = await run(job.session, start, attempts=job.attempts, answer=no_answers, notice=notes.append)
        if outcome.state is not RunState.PASSED or not outcome.ranking:
            raise StepFailed(f"run {outcome.run_id} did not pass: {outcome.reason}")
        branch = branch_name(outcome.run_id, outcome.ranking[0])
        commit = await job.worktree.merge(branch, f"{job.key}: merge {branch}")
        return StepResult(outputs={"run_id": outcome.run_id, "branch": branch, "commit": commit})
