"""What front ends call for workflows: validate one, run it, resume a stopped run of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aifactory.domain.events import WorkflowFinished, WorkflowStarted
from aifactory.domain.run import new_run_id
from aifactory.domain.workflow import WorkflowState, WorkflowStepState
from aifactory.errors import NotFoundError, UserError
from aifactory.ledger.store import Ledger
from aifactory.ledger.workflow_queries import WorkflowRunRow, recent_workflow_runs, workflow_run
from aifactory.service.project import Project, Session
from aifactory.workflow.inputs import read_inputs
from aifactory.workflow.load import WorkflowError, load_workflow, workflow_path
from aifactory.workflow.model import StepSpec, Workflow
from aifactory.workflow.runner import Place, run_steps
from aifactory.workflow.schedule import Record
from aifactory.workflow.validate import validate
from aifactory.workspace.git import Git

AGENTS_DIR = Path("blueprint") / "agents"


@dataclass(frozen=True)
class WorkflowOutcome:
    run_id: str
    state: WorkflowState
    reason: str
    branch: str
    records: dict[str, Record]


@dataclass(frozen=True)
class RunLine:
    """One workflow run as `factory workflow runs` lists it."""

    run: WorkflowRunRow
    done: int
    total: int
    """Step instances: a fan-out counts its items once they are known, else as one."""


def agent_names(project: Project) -> set[str] | None:
    """The small agents' names (`.factory/blueprint/agents/NAME.md`); None when there is no folder."""
    folder = project.factory_dir / AGENTS_DIR
    return {path.stem for path in folder.glob("*.md")} if folder.is_dir() else None


def check(project: Project, name: str) -> tuple[Workflow, list[WorkflowError]]:
    """The workflow `name` and every problem `factory workflow validate` reports about it."""
    workflow = load_workflow(workflow_path(project.root, name))
    return workflow, validate(workflow, agent_names(project))


def checked(project: Project, name: str) -> Workflow:
    workflow, problems = check(project, name)
    if problems:
        more = (
            f" (and {len(problems) - 1} more: `factory workflow validate {name}`)"
            if len(problems) > 1
            else ""
        )
        raise WorkflowError(f"{problems[0]}{more}")
    return workflow


async def start(session: Session, name: str, given: Sequence[str]) -> WorkflowOutcome:
    """Run workflow `name` from HEAD on a new branch `factory/workflow/RUN`, in its own worktree."""
    project = session.project
    workflow = checked(project, name)
    inputs = read_inputs(workflow, given, project.root)
    base = await project.git.require_head()
    run_id = new_run_id(workflow.name)
    branch = f"factory/workflow/{run_id}"
    root = project.worktree_root() / "workflows" / run_id
    shared = await project.git.add_worktree(root / "shared", branch, base)
    session.events(
        WorkflowStarted(
            run_id=run_id,
            workflow=workflow.name,
            file=str(workflow.path),
            inputs=inputs,
            branch=branch,
            worktree=str(shared.path),
            base_commit=base,
        )
    )
    place = Place(run_id=run_id, shared=shared, branch=branch, root=root, logs=project.logs_dir / run_id)
    return await _finish(session, workflow, inputs, place, {})


async def resume(session: Session, ref: str) -> WorkflowOutcome:
    """Continue a stopped workflow run: done steps keep their outputs; the rest run again from the
    last commit of their workspace."""
    project = session.project
    with Ledger.open(project.ledger_path) as ledger:
        row = workflow_run(ledger, ref)
    if row.state is WorkflowState.PASSED:
        raise UserError(f"workflow run {row.id} passed: there is nothing to resume")
    if row.live:
        raise UserError(
            f"workflow run {row.id} is still running in process {row.pid}; let it finish, or stop it "
            f"(Ctrl-C) and then run `factory workflow resume {row.id}`"
        )
    workflow = checked(project, row.file)
    path = Path(row.worktree)
    shared = (
        await project.git.add_worktree(path, row.branch) if not path.is_dir() else await Git.discover(path)
    )
    records = {
        step.key: Record(step.step, step.state, step.outputs)
        for step in row.steps
        if step.state is WorkflowStepState.DONE
    }
    session.events(
        WorkflowStarted(
            run_id=row.id,
            workflow=row.workflow,
            file=row.file,
            inputs=row.inputs,
            branch=row.branch,
            worktree=row.worktree,
            base_commit=row.base_commit,
            resumed=True,
        )
    )
    place = Place(row.id, shared, row.branch, path.parent, project.logs_dir / row.id)
    return await _finish(session, workflow, row.inputs, place, records)


def list_runs(project: Project, limit: int = 20) -> list[RunLine]:
    """Recent workflow runs, newest first, with how many of their step instances are done."""
    with Ledger.open(project.ledger_path) as ledger:
        runs = recent_workflow_runs(ledger, limit)
    return [_line(project, run) for run in runs]


def _line(project: Project, run: WorkflowRunRow) -> RunLine:
    done = sum(step.state is WorkflowStepState.DONE for step in run.steps)
    try:
        steps: tuple[StepSpec, ...] = load_workflow(workflow_path(project.root, run.file)).spec.steps
    except (WorkflowError, NotFoundError):
        return RunLine(run, done, len(run.steps))
    recorded = [sum(row.step == step.id for row in run.steps) for step in steps]
    return RunLine(run, done, sum(max(count, 1) for count in recorded))


async def _finish(
    session: Session, workflow: Workflow, inputs: dict[str, Any], place: Place, records: dict[str, Record]
) -> WorkflowOutcome:
    place.logs.mkdir(parents=True, exist_ok=True)
    await place.shared.restore()
    records = await run_steps(session, workflow, inputs, place, records)
    broken = sorted(key for key, record in records.items() if record.state is not WorkflowStepState.DONE)
    missing = [pattern for pattern in workflow.spec.outputs.files if not any(place.shared.path.glob(pattern))]
    if broken:
        reason = (
            f"step(s) {', '.join(broken)} did not finish; "
            f"`factory workflow resume {place.run_id}` redoes them"
        )
    elif missing:
        reason = f"outputs missing on {place.branch}: {', '.join(missing)}"
    else:
        reason = ""
    state = WorkflowState.FAILED if reason else WorkflowState.PASSED
    session.events(WorkflowFinished(run_id=place.run_id, state=state, reason=reason))
    return WorkflowOutcome(place.run_id, state, reason, place.branch, records)
