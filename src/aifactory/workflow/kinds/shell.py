"""A `shell` step: a command in the step's worktree; its output is `stdout` and its `lines`."""

from __future__ import annotations

from aifactory.workflow.kinds.base import StepFailed, StepJob, StepResult
from aifactory.workspace.process import run_process

_OUTPUT_CAP = 200_000


class ShellKind:
    writes = True

    async def run(self, job: StepJob) -> StepResult:
        result = await run_process(
            job.rendered["command"],
            cwd=job.worktree.path,
            env=job.session.project.command_env(),
            timeout_s=job.timeout,
            output_cap=_OUTPUT_CAP,
            log_path=job.log_path,
        )
        if result.timed_out:
            raise StepFailed(f"the command ran past its timeout of {job.timeout:g}s and was killed")
        if result.exit_code != 0:
            tail = result.output.strip().splitlines()[-3:]
            raise StepFailed(f"the command exited with {result.exit_code}: {' | '.join(tail) or 'no output'}")
        lines = [line.strip() for line in result.output.splitlines() if line.strip()]
        return StepResult(outputs={"stdout": result.output, "lines": lines})
