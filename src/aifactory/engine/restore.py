"""Taking a stopped attempt up again: its worktree back at its last commit, and the steps it holds.

The branch is the truth, not the ledger: a factory killed between a step's commit and the ledger's
record of it leaves the commit, so the steps done are read from the branch's history, and the ledger
is told about any commit it missed. Whatever the stopped step left uncommitted is dropped and that
step is done again from its start, so no step is lost and none is committed twice. After the last
step, the branch may hold small agents' commits (`agent: NAME`): they are kept, and those agents
are not run again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aifactory.domain import stepcommit
from aifactory.domain.events import StepFinished
from aifactory.domain.run import StepState
from aifactory.engine.context import Factory
from aifactory.errors import UserError
from aifactory.roles.executor import DoneStep
from aifactory.workspace.git import Git
from aifactory.workspace.gitdata import Commit

if TYPE_CHECKING:
    from aifactory.engine.attempt import AttemptJob

RECOVERED = "recovered from the branch: the factory stopped before the ledger recorded this commit"


@dataclass(frozen=True)
class Restored:
    """A stopped attempt taken up: its worktree, the steps its branch holds, and the small agents
    that already committed on it after its steps (they are not run again)."""

    worktree: Git
    done: list[DoneStep]
    agents: frozenset[str] = frozenset()


async def restore(factory: Factory, job: AttemptJob) -> Restored:
    """The attempt's worktree with nothing uncommitted, and what its branch holds, in order."""
    if not await factory.git.branch_exists(job.branch):
        # Stopped before its worktree was made: it starts from the base commit like a new attempt.
        return Restored(await factory.git.add_worktree(job.worktree, job.branch, job.base_commit), [])
    worktree = await _checkout(factory.git, job)
    done: list[DoneStep] = []
    agents: set[str] = set()
    for commit in await worktree.log(job.base_commit, "HEAD"):
        if len(done) == len(job.plan.steps) and (agent := _agent(commit, job)):
            agents.add(agent)
            continue
        step = _step(commit, job, len(done) + 1)
        if commit.sha not in job.recorded:
            factory.sink(
                StepFinished(
                    run_id=job.run_id,
                    attempt=job.attempt,
                    index=step.number,
                    state=StepState.COMMITTED,
                    commit=commit.sha,
                    summary=step.summary,
                    reason=RECOVERED,
                    at=commit.committed_at,
                )
            )
        done.append(DoneStep(number=step.number, title=step.title, summary=step.summary, commit=commit.sha))
    return Restored(worktree, done, frozenset(agents))


def _agent(commit: Commit, job: AttemptJob) -> str | None:
    """The small agent that made `commit` on this attempt after its steps, or None."""
    made = stepcommit.parse_agent(commit.message)
    if made is None or made.attempt != job.attempt or made.run_id != job.run_id:
        return None
    return made.agent


async def _checkout(git: Git, job: AttemptJob) -> Git:
    """The attempt's worktree reset to its branch's last commit; made again if its folder is gone."""
    if not await asyncio.to_thread((job.worktree / ".git").exists):
        return await git.add_worktree(job.worktree, job.branch)
    worktree = Git(job.worktree)
    checked_out = await worktree.current_branch()
    if checked_out != job.branch:
        raise UserError(
            f"{job.worktree} has {checked_out or 'a detached HEAD'} checked out instead of {job.branch}: "
            f"switch it back (`git -C {job.worktree} switch {job.branch}`), then resume"
        )
    await worktree.discard_changes()
    return worktree


def _step(commit: Commit, job: AttemptJob, number: int) -> stepcommit.StepCommit:
    """The step `commit` made, which must be step `number` of this attempt's plan."""
    steps = job.plan.steps
    expected = steps[number - 1].title.strip() if number <= len(steps) else None
    step = stepcommit.parse(commit.message)
    if (
        step is not None
        and (step.number, step.total, step.title) == (number, len(steps), expected)
        and (step.run_id, step.attempt) == (job.run_id, job.attempt)
    ):
        return step
    subject = commit.message.partition("\n")[0]
    wanted = (
        f"step {number}/{len(steps)} ({expected})" if expected else f"no step (the plan has {len(steps)})"
    )
    raise UserError(
        f"{job.branch} holds {commit.sha[:10]} ({subject!r}) where the plan has {wanted}: the branch or "
        "the plan changed since the run stopped; put them back as they were, or start a new run"
    )
