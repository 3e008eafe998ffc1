"""`factory merge`, `keep` and `clean`: what happens to attempts' branches and worktrees afterwards."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aifactory.domain.run import AttemptState
from aifactory.errors import UserError
from aifactory.ledger import queries
from aifactory.ledger.queries import AttemptDetail
from aifactory.ledger.store import Ledger
from aifactory.service.inspect import attempt_of
from aifactory.service.project import Project


@dataclass(frozen=True)
class Merged:
    run_id: str
    attempt: str
    branch: str
    into: str
    commit: str


async def merge(project: Project, ref: str, attempt: str, *, force: bool = False) -> Merged:
    """Merge an attempt's branch into the current branch, after proving it merges cleanly."""
    git = project.git
    with Ledger.open(project.ledger_path) as ledger:
        run = queries.run_detail(ledger, queries.resolve_run(ledger, ref))
        found = attempt_of(run, attempt)
        if found.state is not AttemptState.PASSED and not force:
            raise UserError(
                f"{run.id}/{attempt} did not pass ({found.state.value}: {found.reason}); "
                "merge it anyway with --force, or pick a passing attempt (factory show)"
            )
        if found.cleaned and not found.kept:
            raise UserError(f"the branch of {run.id}/{attempt} was removed by `factory clean`")
        into = await git.current_branch()
        if into is None:
            raise UserError(
                "HEAD is detached: check out the branch to merge into (e.g. git switch main), then merge"
            )
        dirty = await git.dirty_paths(untracked=False)
        if dirty:
            shown = ", ".join(dirty[:5])
            raise UserError(
                f"the working tree has uncommitted changes ({shown}); commit or stash them first: "
                "factory merge never touches a dirty working tree"
            )
        check = await git.merge_check("HEAD", found.branch)
        if not check.clean:
            files = ", ".join(check.conflicts) or "see git's message"
            raise UserError(
                f"{found.branch} conflicts with {into} in: {files}. Nothing was changed. "
                f"Resolve by hand (git merge {found.branch}) or run the plan again from the new HEAD"
            )
        commit = await git.merge(
            found.branch, f"Merge {found.branch}: {run.title}\n\nFactory-Run: {run.id}\n"
        )
        ledger.mark_kept(run.id, attempt)
    return Merged(run_id=run.id, attempt=attempt, branch=found.branch, into=into, commit=commit)


def keep(project: Project, ref: str, attempt: str) -> str:
    """Protect an attempt's branch from `factory clean`; returns the branch."""
    with Ledger.open(project.ledger_path) as ledger:
        run = queries.run_detail(ledger, queries.resolve_run(ledger, ref))
        found = attempt_of(run, attempt)
        ledger.mark_kept(run.id, attempt)
    return found.branch


@dataclass
class Cleaned:
    worktrees: list[Path] = field(default_factory=list)
    branches: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


async def clean(project: Project, ref: str | None = None, *, dry_run: bool = False) -> Cleaned:
    """Remove worktrees of finished runs, and their branches unless kept (merged or `factory keep`)."""
    report = Cleaned()
    with Ledger.open(project.ledger_path) as ledger:
        run_id = queries.resolve_run(ledger, ref) if ref is not None else None
        if run_id is not None:
            run = queries.run_detail(ledger, run_id)
            if not run.state.finished and not run.stale:
                raise UserError(f"run {run_id} is still running; wait for it or stop it before cleaning it")
        for attempt in queries.cleanable(ledger, run_id):
            await _clean_attempt(project, attempt, report, dry_run=dry_run)
            if not dry_run:
                ledger.mark_cleaned(attempt.run_id, attempt.name)
    return report


async def _clean_attempt(project: Project, attempt: AttemptDetail, report: Cleaned, *, dry_run: bool) -> None:
    git = project.git
    worktree = Path(attempt.worktree)
    if worktree.exists():
        report.worktrees.append(worktree)
        if not dry_run:
            await git.remove_worktree(worktree, force=True)
    if attempt.kept:
        report.kept.append(attempt.branch)
    elif await git.branch_exists(attempt.branch):
        report.branches.append(attempt.branch)
        if not dry_run:
            await git.delete_branch(attempt.branch, force=True)
