"""One headless run of an agent CLI, the part every JSON-streaming agent does alike.

The CLI is spawned in the sandbox with the prompt on stdin, its stdout is fed line by line to the
agent's parser until the parser has what it needs, its exit is awaited, and the step's time limit is
enforced. What the parser concluded then becomes the step's outcome or an `AgentFailed`. Each agent
module keeps only its command line, its parser and its login advice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aifactory.agents.base import AgentFailed, Ending, StepJob, StepOutcome
from aifactory.agents.pipe import exit_code, lines
from aifactory.workspace.sandbox import open_confined


class Parser(Protocol):
    def feed(self, line: bytes | str) -> None: ...

    @property
    def finished(self) -> bool:
        """The run's final event was read: nothing more is needed from the stream."""
        ...


@dataclass(frozen=True)
class Ran:
    exited: int | None
    """None when the CLI was killed (time limit) or lingered after its last event."""
    stderr: str
    duration_ms: int


async def run_headless(
    job: StepJob,
    argv: Sequence[str],
    parser: Parser,
    *,
    prompt: str,
    env: Mapping[str, str],
    writable: Sequence[Path],
    limit_s: float,
    name: str,
) -> Ran:
    """Run `argv` in the job's worktree, `prompt` on stdin, feeding stdout to `parser` as it streams."""
    started = time.monotonic()
    exited: int | None = None
    stderr = ""
    try:
        async with asyncio.timeout(limit_s):
            async with open_confined(
                job.sandbox, list(argv), worktree=job.worktree, writable=writable, env=env, stdin=True
            ) as child:
                assert child.stdin is not None
                # A CLI that dies at start-up closes stdin early; its output says why.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    child.stdin.write(prompt.encode())
                    await child.stdin.drain()
                    child.stdin.close()
                async for line in lines(child.stdout):
                    parser.feed(line)
                    if parser.finished:
                        break
                exited = await exit_code(child.wait())
                stderr = child.errors()
    except TimeoutError:
        stderr = f"killed after the step's time limit of {limit_s:.0f}s ([agents.{name}] timeout)"
    return Ran(exited, stderr, round((time.monotonic() - started) * 1000))


def settle(
    ending: Ending,
    outcome: StepOutcome,
    *,
    who: str,
    login_fix: Callable[[str], str],
    retry_after: float | None = None,
) -> StepOutcome:
    """The outcome of a run that finished the step; otherwise `AgentFailed`, a limit or a login
    problem told apart so the relay moves on or the user learns what to set up."""
    if ending.ok:
        return outcome
    if ending.login:
        raise AgentFailed(login_fix(ending.text), outcome)
    raise AgentFailed(
        f"{who}: {ending.text}", outcome, limited=ending.limited, until=ending.until, retry_after=retry_after
    )
