"""A project command (test, lint) as a check: exit code zero passes, anything else rejects."""

from __future__ import annotations

from dataclasses import dataclass

from aifactory.checks.base import CheckTarget
from aifactory.domain.verdict import Finding, Severity, Verdict
from aifactory.workspace.process import run_process

_TAIL_LINES = 40


@dataclass(frozen=True)
class CommandCheck:
    """Runs `command` through the shell in the attempt's worktree, logging its whole output."""

    label: str
    command: str
    timeout: float
    output_cap: int

    @property
    def source(self) -> str:
        return f"command:{self.label}"

    async def run(self, target: CheckTarget) -> Verdict:
        log = target.log_dir / f"{self.label}.log"
        result = await run_process(
            self.command,
            cwd=target.worktree,
            env=target.env,
            timeout_s=self.timeout,
            output_cap=self.output_cap,
            log_path=log,
        )
        if result.exit_code == 0 and not result.timed_out:
            return Verdict(source=self.source, passed=True, summary=f"`{self.command}` passed")
        if result.timed_out:
            what = f"`{self.command}` did not finish within {self.timeout:.0f}s"
        else:
            what = f"`{self.command}` failed with exit code {result.exit_code}"
        tail = "\n".join(result.output.rstrip().splitlines()[-_TAIL_LINES:])
        finding = Finding(
            severity=Severity.ERROR, what=what, why=f"last lines of its output (full log: {log}):\n{tail}"
        )
        return Verdict(source=self.source, passed=False, summary=what, findings=(finding,))
