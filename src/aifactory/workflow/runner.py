"""Running a workflow: instances started as soon as their needs are met, up to `[workflows] parallel`
at once, each in its workspace, each recorded in the ledger as it starts and ends.

A `shared` step has the workflow's worktree to itself while it works; an `own` step works in a new
worktree on its own branch, merged into the workflow's branch when it is done. Every writing step
ends in one commit made here, so a resume starts each unfinished step from its workspace's last one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from aifactory.domain.events import WorkflowStepChanged
from aifactory.domain.workflow import WorkflowStepState
from aifactory.errors import FactoryError
from aifactory.service.project import Session
from aifactory.workflow.kinds.base import StepJob, StepKind
from aifactory.workflow.kinds.registry import KINDS
from aifactory.workflow.model import Workflow
from aifactory.workflow.schedule import Instance, Record, next_moves, values
from aifactory.workspace.git import Git

_JINJA = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)


@dataclass(frozen=True)
class Place:
    """Where one workflow run works: its id, its branch's worktree, and where own worktrees go."""

    run_id: str
    shared: Git
    branch: str
    root: Path
    logs: Path


async def run_steps(
    session: Session,
    workflow: Workflow,
    inputs: Mapping[str, Any],
    place: Place,
    records: dict[str, Record],
) -> dict[str, Record]:
    """Run every instance not done yet; return every instance's record when nothing is left to start."""
    limit = asyncio.Semaphore(session.project.config.workflows.parallel)
    context = _Context(session, workflow, inputs, place, records, asyncio.Lock())
    running: dict[str, asyncio.Task[None]] = {}

    def note(instance: Instance, record: Record, commit: str | None = None) -> None:
        records[instance.key] = record
        session.events(
            WorkflowStepChanged(
                run_id=place.run_id,
                key=instance.key,
                step=instance.step.id,
                step_kind=instance.step.kind,
                item=instance.item,
                state=record.state,
                outputs=record.outputs,
                reason=record.reason,
                commit=commit,
            )
        )

    async def work(instance: Instance) -> None:
        async with limit:
            note(instance, Record(instance.step.id, WorkflowStepState.RUNNING, {}))
            try:
                outputs, commit = await _one(context, instance)
            except (FactoryError, OSError, jinja2.TemplateError) as error:
                note(instance, Record(instance.step.id, WorkflowStepState.FAILED, {}, str(error)))
            else:
                note(instance, Record(instance.step.id, WorkflowStepState.DONE, outputs), commit)

    try:
        while True:
            moves = next_moves(workflow, inputs, records, set(running))
            for instance, reason in moves.skip:
                note(instance, Record(instance.step.id, WorkflowStepState.SKIPPED, {}, reason))
            for instance in moves.start:
                running[instance.key] = asyncio.create_task(work(instance))
            if moves.skip:
                continue
            if not running:
                return records
            done, _ = await asyncio.wait(running.values(), return_when=asyncio.FIRST_COMPLETED)
            for key in [key for key, task in running.items() if task in done]:
                running.pop(key).result()
    finally:
        for task in running.values():
            task.cancel()
        await asyncio.gather(*running.values(), return_exceptions=True)


@dataclass(frozen=True)
class _Context:
    """What every step instance of one workflow run shares."""

    session: Session
    workflow: Workflow
    inputs: Mapping[str, Any]
    place: Place
    records: Mapping[str, Record]
    shared_lock: asyncio.Lock


async def _one(context: _Context, instance: Instance) -> tuple[dict[str, Any], str | None]:
    session, place, shared_lock = context.session, context.place, context.shared_lock
    step = instance.step
    kind = KINDS[step.kind]
    seen = values(context.workflow, context.inputs, context.records) | {"item": instance.item}
    rendered = {
        "command": _render(step.command, seen),
        "prompt": _render(step.prompt, seen),
        "ask": _render(step.ask, seen),
        "files": [_render(text, seen) for text in step.files],
        "context": [_render(text, seen) for text in step.context],
        "inputs": {name: _render(text, seen) for name, text in step.inputs.items()},
    }

    def job(worktree: Git) -> StepJob:
        return StepJob(
            session=session,
            run_id=place.run_id,
            key=instance.key,
            description=step.description,
            rendered=rendered,
            role=step.role,
            agent=step.agent,
            timeout=step.timeout,
            attempts=step.attempts,
            worktree=worktree,
            log_path=place.logs / f"{_safe(instance.key)}.log",
        )

    message = f"workflow {place.run_id}: {instance.key} ({step.kind})"
    if not kind.writes:
        return (await kind.run(job(place.shared))).outputs, None
    if step.workspace == "shared":
        async with shared_lock:
            return await _in(kind, job(place.shared), place.shared, message)
    async with _own(place, instance, shared_lock) as own:
        outputs, _ = await _in(kind, job(own), own, message)
        async with shared_lock:
            merged = await place.shared.merge(_own_branch(place, instance), message)
        return outputs, merged


async def _in(kind: StepKind, job: StepJob, worktree: Git, message: str) -> tuple[dict[str, Any], str]:
    """Run a writing kind in `worktree`, starting from its last commit; commit what it leaves."""
    await worktree.restore()
    result = await kind.run(job)
    commit = await worktree.commit_all(message, allow_empty=False)
    outputs = dict(result.outputs)
    outputs.setdefault("commit", commit)
    return outputs, commit


@contextlib.asynccontextmanager
async def _own(place: Place, instance: Instance, shared_lock: asyncio.Lock) -> AsyncIterator[Git]:
    """A new worktree on the instance's own branch from the workflow branch's last commit; a left-over
    one (a killed run's) is removed first, so the step is redone from there."""
    path = place.root / _safe(instance.key)
    branch = _own_branch(place, instance)
    async with shared_lock:
        base = await place.shared.require_head()
        if await place.shared.branch_exists(branch):
            await place.shared.remove_worktree(path)
            await place.shared.delete_branch(branch, force=True)
        own = await place.shared.add_worktree(path, branch, base)
    try:
        yield own
    finally:
        await place.shared.remove_worktree(path)


def _own_branch(place: Place, instance: Instance) -> str:
    return f"{place.branch}-{_safe(instance.key)}"


def _safe(key: str) -> str:
    return key.replace("[", "-").replace("]", "")


def _render(text: str, seen: Mapping[str, Any]) -> str:
    return _JINJA.from_string(text).render(seen) if text else ""
