"""Small agents on their own: `factory agent list/show/run`, and the entry point workflows and the MCP
server call (`run_agent`).

On an attempt (`OnAttempt`), the agent works in the attempt's worktree and commits on its branch,
over the files the attempt changed. On files (`OnFiles`), the user's working tree is never touched:
the agent works in a new worktree on a new branch `factory/agent/NAME-STAMP` from HEAD (so it sees
the files as committed), the worktree is removed afterwards and the branch kept for the user to
merge when the agent committed, deleted when it did not (or failed). In a worktree (`InWorktree`), a
workflow step's, the agent works and commits there, over the files its caller names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aifactory.blueprint.agentfile import AgentDefinition, AgentShelf
from aifactory.domain.events import Event, ModelCalled
from aifactory.domain.usage import Usage
from aifactory.engine.small_agents import AgentJob, AgentResult, run_agent_job
from aifactory.errors import AgentFileError, NotFoundError, UserError
from aifactory.service import inspect
from aifactory.service.project import Project, Session
from aifactory.service.running import wired_factory
from aifactory.workspace.git import Git


@dataclass(frozen=True)
class OnAttempt:
    """`RUN/ATTEMPT`: the attempt's worktree and branch, over what it changed since its run's base."""

    ref: str


@dataclass(frozen=True)
class OnFiles:
    """Files of the current repository, as committed at HEAD."""

    paths: tuple[Path, ...]


@dataclass(frozen=True)
class InWorktree:
    """An existing worktree on `branch` that its caller owns (a workflow step's): the agent commits
    there, over `files` (relative to it). `run_id` and `label` name the agent's run in the ledger
    and its logs, e.g. the workflow run and the step."""

    path: Path
    branch: str
    files: tuple[str, ...] = ()
    run_id: str = ""
    label: str | None = None


AgentTarget = OnAttempt | OnFiles | InWorktree


@dataclass(frozen=True)
class AgentEntry:
    """An agent file as `factory agent list` shows it: its definition, or what is wrong with it."""

    name: str
    definition: AgentDefinition | None
    problem: str = ""


def shelf(project: Project) -> AgentShelf:
    return AgentShelf(project.blueprint_dir)


def list_agents(project: Project) -> list[AgentEntry]:
    """Every agent file of the blueprint; a malformed one is listed with its problem."""
    agents = shelf(project)
    entries = []
    for name in agents.names():
        try:
            entries.append(AgentEntry(name=name, definition=agents.load(name)))
        except AgentFileError as error:
            entries.append(AgentEntry(name=name, definition=None, problem=str(error)))
    return entries


def show_agent(project: Project, name: str) -> AgentDefinition:
    return shelf(project).load(name)


async def run_agent(
    session: Session, name: str, target: AgentTarget, inputs: Mapping[str, str] | None = None
) -> AgentResult:
    """Run the small agent `name` on an attempt or on files; its change is one commit or is dropped.

    `inputs` fills the inputs its header names beyond the factory's own (files, diff, style,
    replacements). The result carries the commit (None: no change, or dropped with the reason), the
    report lines, and the tokens and cost its model calls spent.
    """
    definition = shelf(session.project).load(name)
    if isinstance(target, OnAttempt):
        return await _on_attempt(session, definition, target.ref, inputs)
    if isinstance(target, InWorktree):
        return await _in_worktree(session, definition, target, inputs)
    return await _on_files(session, definition, target.paths, inputs)


async def _on_attempt(
    session: Session, definition: AgentDefinition, ref: str, inputs: Mapping[str, str] | None
) -> AgentResult:
    run_ref, _, name = ref.partition("/")
    if not name:
        raise UserError(f"--on {ref}: write RUN/ATTEMPT, e.g. --on add-report-3f2a/a1")
    run = inspect.show(session.project, run_ref)
    attempt = inspect.attempt_of(run, name)
    folder = Path(attempt.worktree)
    if not folder.is_dir():
        raise NotFoundError(
            f"attempt {run.id}/{name} has no worktree any more ({folder}; `factory clean` removes "
            f"them): check its branch out (`git worktree add PATH {attempt.branch}`) and run the "
            "agent on files there"
        )
    worktree = await Git.discover(folder)
    if await worktree.dirty_paths():
        raise UserError(
            f"the worktree of {run.id}/{name} ({folder}) has uncommitted changes: commit or drop them"
        )
    changed = await worktree.numstat(run.base_commit, "HEAD")
    files = tuple(stat.path for stat in changed if (folder / stat.path).is_file())
    job = AgentJob(
        definition=definition,
        worktree=worktree,
        branch=attempt.branch,
        files=files,
        base=run.base_commit,
        run_id=run.id,
        attempt=name,
        inputs=inputs,
    )
    return await _run(session, job)


async def _in_worktree(
    session: Session, definition: AgentDefinition, target: InWorktree, inputs: Mapping[str, str] | None
) -> AgentResult:
    worktree = await Git.discover(target.path)
    if await worktree.dirty_paths():
        raise UserError(f"{target.path} has uncommitted changes: commit or drop them before the agent runs")
    missing = [path for path in target.files if not (worktree.path / path).is_file()]
    if missing:
        raise UserError(f"agent {definition.name}: no such file in {target.path}: {', '.join(missing)}")
    job = AgentJob(
        definition=definition,
        worktree=worktree,
        branch=target.branch,
        files=target.files,
        base=None,
        run_id=target.run_id or f"agent-{definition.name}-{_stamp()}",
        attempt=target.label,
        inputs=inputs,
    )
    return await _run(session, job)


async def _on_files(
    session: Session, definition: AgentDefinition, paths: tuple[Path, ...], inputs: Mapping[str, str] | None
) -> AgentResult:
    project = session.project
    if not paths:
        raise UserError("name the files to work on (--files PATH ...) or an attempt (--on RUN/ATTEMPT)")
    files = tuple(_relative(project.root, path) for path in paths)
    head = await project.git.require_head()
    stamp = _stamp()
    run_id = f"agent-{definition.name}-{stamp}"
    branch = f"factory/agent/{definition.name}-{stamp}"
    folder = project.worktree_root() / run_id
    folder.parent.mkdir(parents=True, exist_ok=True)
    worktree = await project.git.add_worktree(folder, branch, head)
    job = AgentJob(
        definition=definition,
        worktree=worktree,
        branch=branch,
        files=files,
        base=None,
        run_id=run_id,
        inputs=inputs,
    )
    result: AgentResult | None = None
    try:
        result = await _run(session, job)
    finally:
        await project.git.remove_worktree(folder)
        if result is None or result.commit is None:
            await project.git.delete_branch(branch, force=True)
    return result


async def _run(session: Session, job: AgentJob) -> AgentResult:
    """Run the job, adding up what its model calls spent (they carry its run id and attempt)."""
    spent = _Spent(job.run_id, job.attempt)
    session.events.subscribe(spent)
    try:
        result = await run_agent_job(wired_factory(session), job)
    finally:
        spent.open = False
    return result.model_copy(update={"usage": spent.usage})


class _Spent:
    """A sink adding up the model calls of one agent run while it is open."""

    def __init__(self, run_id: str, attempt: str | None) -> None:
        self.run_id = run_id
        self.attempt = attempt
        self.usage = Usage()
        self.open = True

    def __call__(self, event: Event) -> None:
        mine = isinstance(event, ModelCalled) and (event.run_id, event.attempt) == (self.run_id, self.attempt)
        if self.open and mine and isinstance(event, ModelCalled):
            self.usage += event.usage


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")


def _relative(root: Path, path: Path) -> str:
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise UserError(f"{path} is outside the repository {root}; name files inside it")
    if not resolved.is_file():
        raise UserError(f"{path}: no such file")
    return resolved.relative_to(root.resolve()).as_posix()
