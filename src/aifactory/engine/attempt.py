"""One attempt: a worktree from the base commit, one commit per step, then verification.

A resumed attempt (`factory resume`) starts from its branch's last step commit instead (`restore.py`).

Every transition is emitted as an event before the engine moves on, so the ledger always tells
the truth about an attempt, including one that was interrupted or failed half-way.
"""

from __future__ import annotations

import asyncio
import functools
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aifactory.checks.base import CheckTarget
from aifactory.domain import stepcommit
from aifactory.domain.events import AttemptChanged, StepFinished, StepStarted
from aifactory.domain.lesson import CheckSpec
from aifactory.domain.plan import Plan
from aifactory.domain.run import AttemptState, Role, StepState
from aifactory.domain.stepcommit import StepCommit
from aifactory.domain.verdict import AttemptVerdict
from aifactory.engine import guard
from aifactory.engine.context import Factory
from aifactory.engine.restore import Restored, restore
from aifactory.engine.small_agents import after_execution
from aifactory.engine.verify import Subject, verify_attempt
from aifactory.errors import FactoryError, StepError
from aifactory.providers.calls import CallScope
from aifactory.roles.executor import DoneStep, StepBrief, attempt_mcp, execute_step
from aifactory.workspace.git import Git

if TYPE_CHECKING:
    from aifactory.agents.mcp import McpServers


@dataclass(frozen=True)
class AttemptJob:
    """Everything one attempt needs; plain data, so a distributed runner can ship it."""

    run_id: str
    attempt: str
    branch: str
    worktree: Path
    base_commit: str
    plan: Plan
    plan_text: str
    checks: tuple[tuple[str, CheckSpec], ...] = ()
    resume: bool = False
    """Take up a stopped attempt: its branch exists (or never got made) and holds the steps done."""
    recorded: frozenset[str] = frozenset()
    """On a resume, the step commits the ledger recorded; the branch may hold more."""
    agents_ran: frozenset[str] = frozenset()
    """On a resume, the small agents the ledger recorded as run on this attempt, committed or not."""


@dataclass(frozen=True)
class AttemptOutcome:
    attempt: str
    branch: str
    worktree: Path
    state: AttemptState
    reason: str
    verdict: AttemptVerdict | None = None
    changed_lines: int = 0
    fired: Mapping[str, int] = field(default_factory=dict)
    """Findings of each lesson's check on this attempt, by lesson id."""


async def run_attempt(factory: Factory, job: AttemptJob) -> AttemptOutcome:
    """Run one attempt to its end; failures end the attempt, never the run."""
    log_dir = factory.logs / job.run_id / job.attempt
    emit = factory.sink
    try:
        emit(AttemptChanged(run_id=job.run_id, attempt=job.attempt, state=AttemptState.EXECUTING))
        if job.resume:
            restored = await restore(factory, job)
        else:
            restored = Restored(await factory.git.add_worktree(job.worktree, job.branch, job.base_commit), [])
        worktree = restored.worktree
        async with attempt_mcp(factory.kit, job.worktree, factory.command_env) as mcp:
            steps = await _execute(factory, job, worktree, restored.done, mcp)
        await after_execution(
            factory,
            worktree,
            branch=job.branch,
            base=job.base_commit,
            run_id=job.run_id,
            attempt=job.attempt,
            ran=restored.agents | job.agents_ran,
        )
        emit(AttemptChanged(run_id=job.run_id, attempt=job.attempt, state=AttemptState.VERIFYING))
        head = await worktree.require_head()
        target = CheckTarget(
            worktree=job.worktree, base=job.base_commit, head=head, log_dir=log_dir, env=factory.command_env
        )
        subject = Subject(
            run_id=job.run_id,
            attempt=job.attempt,
            plan=job.plan,
            plan_text=job.plan_text,
            steps=steps,
            worktree=worktree,
            target=target,
            checks=job.checks,
        )
        verification = await verify_attempt(factory, subject)
        verdict = verification.verdict
        changed = sum(
            (stat.added or 0) + (stat.removed or 0) for stat in await worktree.numstat(job.base_commit, head)
        )
    except asyncio.CancelledError:
        _finish(factory, job, AttemptState.INTERRUPTED, "interrupted; the commits made so far are kept")
        raise
    except FactoryError as error:
        return _finish(factory, job, AttemptState.FAILED, str(error))
    except Exception as error:
        log_dir.mkdir(parents=True, exist_ok=True)
        (log_dir / "internal-error.log").write_text(traceback.format_exc(), encoding="utf-8")
        return _finish(factory, job, AttemptState.FAILED, f"internal error (a bug; see {log_dir}): {error!r}")
    state = AttemptState.PASSED if verdict.passed else AttemptState.REJECTED
    return _finish(
        factory,
        job,
        state,
        "; ".join(verdict.reasons),
        verdict=verdict,
        changed_lines=changed,
        fired=verification.fired,
    )


async def _execute(
    factory: Factory, job: AttemptJob, worktree: Git, earlier: Sequence[DoneStep], mcp: McpServers | None
) -> list[DoneStep]:
    """Carry out the task list from the first step not done `earlier`, one agent run and one commit each;
    the steps share the attempt's MCP servers (`mcp`), stopped once execution ends."""
    done = list(earlier)
    sessions: dict[str, str] = {}
    total = len(job.plan.steps)
    for index in range(len(done), total):
        step = job.plan.steps[index]
        number = index + 1
        factory.sink(
            StepStarted(run_id=job.run_id, attempt=job.attempt, index=number, total=total, title=step.title)
        )
        scope = CallScope(role=Role.EXECUTOR, run_id=job.run_id, attempt=job.attempt, step=number)
        brief = StepBrief(
            plan=job.plan,
            plan_text=job.plan_text,
            index=index,
            done=tuple(done),
            worktree=job.worktree,
            attempt=job.attempt,
            branch=job.branch,
            env=factory.command_env,
            sessions=dict(sessions),
            mcp=mcp,
        )
        try:
            before = await guard.mark(worktree, factory.git)
            ran = await execute_step(
                factory.kit, scope, brief, functools.partial(worktree.restore, before.head)
            )
            problem = await guard.breach(before, worktree, factory.git)
            if problem is not None:
                raise StepError(problem)
            outcome = ran.outcome
            made = StepCommit(
                number=number,
                total=total,
                title=step.title,
                summary=outcome.summary,
                run_id=job.run_id,
                attempt=job.attempt,
                executor=f"{ran.by}:{ran.model}",
            )
            commit = await worktree.commit_all(stepcommit.message(made))
        except asyncio.CancelledError:
            _step_end(factory, job, number, StepState.INTERRUPTED, "interrupted")
            raise
        except FactoryError as error:
            _step_end(factory, job, number, StepState.FAILED, str(error))
            raise StepError(f"step {number} ({step.title}) failed: {error}") from error
        if outcome.session_id:
            sessions[ran.by] = outcome.session_id
        factory.sink(
            StepFinished(
                run_id=job.run_id,
                attempt=job.attempt,
                index=number,
                state=StepState.COMMITTED,
                commit=commit,
                summary=outcome.summary,
                tool_calls=outcome.tool_calls,
                refusals=outcome.refusals,
                executor=made.executor,
            )
        )
        done.append(DoneStep(number=number, title=step.title, summary=outcome.summary, commit=commit))
    return done


def _step_end(factory: Factory, job: AttemptJob, number: int, state: StepState, reason: str) -> None:
    factory.sink(
        StepFinished(run_id=job.run_id, attempt=job.attempt, index=number, state=state, reason=reason)
    )


def _finish(
    factory: Factory,
    job: AttemptJob,
    state: AttemptState,
    reason: str,
    *,
    verdict: AttemptVerdict | None = None,
    changed_lines: int = 0,
    fired: Mapping[str, int] | None = None,
) -> AttemptOutcome:
    factory.sink(AttemptChanged(run_id=job.run_id, attempt=job.attempt, state=state, reason=reason))
    return AttemptOutcome(
        attempt=job.attempt,
        branch=job.branch,
        worktree=job.worktree,
        state=state,
        reason=reason,
        verdict=verdict,
        changed_lines=changed_lines,
        fired=fired or {},
    )
