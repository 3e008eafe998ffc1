"""Commands as checks: the project's own (test, lint) and lessons' command checks.

Exit code zero passes; anything else, or running out of time, is a failure the user reads about.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aifactory.checks.base import CheckTarget
from aifactory.checks.hits import NO_PATH, Hit
from aifactory.domain.lesson import CommandSpec
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


_LESSON_OUTPUT_CAP = 4_000
_LAST_LINE_CHARS = 200


async def run_lesson_command(
    lesson: str, spec: CommandSpec, *, cwd: Path, time_limit: float, env: Mapping[str, str]
) -> Hit | None:
    """Run a lesson's command check in `cwd`; a non-zero exit or running out of time is one hit.

    `env` is the command's whole environment (pass `scrubbed_env()`, never the factory's own).
    The hit has no location; its message ends with the command's last line of output.
    """
    result = await run_process(
        spec.command, cwd=cwd, env=env, timeout_s=time_limit, output_cap=_LESSON_OUTPUT_CAP
    )
    if result.exit_code == 0 and not result.timed_out:
        return None
    if result.timed_out:
        how = f"`{spec.command}` did not finish within {time_limit:g}s"
    else:
        how = f"`{spec.command}` exited with {result.exit_code}"
    said = [line.strip() for line in result.output.splitlines() if line.strip()]
    if said:
        how += f": {said[-1][:_LAST_LINE_CHARS]}"
    return Hit(NO_PATH, 0, 0, lesson, f"{spec.message} ({how})", spec.severity)
