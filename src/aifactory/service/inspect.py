"""`factory status`, `show` and `diff`: reading the ledger and the attempts' branches."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from aifactory.domain.run import Role
from aifactory.domain.usage import Usage
from aifactory.errors import NotFoundError
from aifactory.ledger import queries
from aifactory.ledger.queries import AttemptDetail, RunDetail, RunSummary
from aifactory.ledger.store import Ledger
from aifactory.service.project import Project


def status(project: Project, *, limit: int = 20) -> list[RunSummary]:
    with Ledger.open(project.ledger_path) as ledger:
        return queries.list_runs(ledger, limit=limit)


def show(project: Project, ref: str) -> RunDetail:
    """The run named by `ref`: its id or a unique prefix of it."""
    with Ledger.open(project.ledger_path) as ledger:
        return queries.run_detail(ledger, queries.resolve_run(ledger, ref))


def role_usage(project: Project, run_id: str) -> dict[Role, Usage]:
    """Tokens and cost of a run split by role: what planning, execution and verification each cost."""
    with Ledger.open(project.ledger_path) as ledger:
        return queries.usage_by_role(ledger, run_id)


def attempt_of(run: RunDetail, name: str) -> AttemptDetail:
    for attempt in run.attempts:
        if attempt.name == name:
            return attempt
    known = ", ".join(a.name for a in run.attempts) or "none"
    raise NotFoundError(f"run {run.id} has no attempt {name!r} (its attempts: {known})")


def show_diff(project: Project, ref: str, attempt: str, git_args: Sequence[str] = ()) -> int:
    """Let git print the attempt's change against its base, straight to the terminal (pager, colour)."""
    run = show(project, ref)
    found = attempt_of(run, attempt)
    if found.cleaned and not found.kept:
        raise NotFoundError(f"the branch of {run.id}/{attempt} was removed by `factory clean`")
    branch = found.branch
    command = ["git", "-C", str(project.root), "diff", *git_args, f"{run.base_commit}...{branch}"]
    return subprocess.run(command, check=False).returncode
