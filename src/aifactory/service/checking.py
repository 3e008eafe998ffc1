"""`factory check`: the lesson checks (and, with --all, the project's commands) as a linter.

It runs outside any run, on the working tree or on a change since a ref, so the same checks that
hold attempts to the factory's lessons can run in a pre-commit hook or in CI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aifactory.checks.base import CheckTarget
from aifactory.checks.command import CommandCheck
from aifactory.checks.scan import ScanReport, scan
from aifactory.checks.sources import DiffSource, Limited, Source, TreeSource
from aifactory.domain.lesson import enforced_checks
from aifactory.domain.verdict import Verdict
from aifactory.errors import GitError, UserError
from aifactory.service import injection, inspect
from aifactory.service.project import FACTORY_DIR, PLANS_DIR, Session

OWN = (FACTORY_DIR, PLANS_DIR)
"""The factory's own folders: lesson files and plans quote the very code their checks flag."""


@dataclass(frozen=True)
class CheckRequest:
    diff: str | None = None
    """A ref: check only what changed since it (working tree included); None checks whole files."""
    paths: Sequence[Path] = ()
    commands: bool = False
    """Also run the configured test and lint commands in the repository."""
    attempt: str | None = None
    """`RUN/ATTEMPT`: check what that attempt changed since its run's base instead."""


@dataclass(frozen=True)
class CheckResult:
    lessons: int
    report: ScanReport
    commands: list[tuple[str, Verdict]]

    @property
    def blocking(self) -> bool:
        return not self.report.verdict().passed or any(not verdict.passed for _, verdict in self.commands)


async def check(session: Session, request: CheckRequest) -> CheckResult:
    project = session.project
    checks = enforced_checks(injection.lessons_in_view(session))
    source = await _source(session, request)
    config = project.config.checks
    report = await scan(
        checks,
        source,
        workers=config.workers,
        command_timeout=config.command_timeout,
        env=project.command_env(),
    )
    commands: list[tuple[str, Verdict]] = []
    if request.commands:
        head = await project.git.require_head()
        target = CheckTarget(
            worktree=project.root,
            base=head,
            head=head,
            log_dir=project.logs_dir / "check",
            env=project.command_env(),
        )
        configured = project.config.commands
        for label, command in (("test", configured.test), ("lint", configured.lint)):
            if command.strip():
                runner = CommandCheck(
                    label=label, command=command, timeout=configured.timeout, output_cap=configured.output_cap
                )
                commands.append((command, await runner.run(target)))
    return CheckResult(lessons=len({lesson for lesson, _ in checks}), report=report, commands=commands)


async def _source(session: Session, request: CheckRequest) -> Source:
    root = session.project.root
    paths = tuple(_relative(root, path) for path in request.paths)
    if request.attempt is not None:
        if request.diff is not None:
            raise UserError("--on and --diff both name a change; give one of them")
        ref, _, name = request.attempt.partition("/")
        if not name:
            raise UserError(f"--on {request.attempt}: write RUN/ATTEMPT, e.g. --on add-report-3f2a/a1")
        run = inspect.show(session.project, ref)
        attempt = inspect.attempt_of(run, name)
        return Limited(
            DiffSource(root, run.base_commit, attempt.branch, label=f"{run.id}/{name}"), paths, OWN
        )
    if request.diff is None:
        return Limited(TreeSource(root, paths), (), OWN)
    try:
        await session.project.git.merge_base(request.diff, "HEAD")
    except GitError:
        raise UserError(
            f"--diff {request.diff}: not a commit this branch shares history with; "
            "give a branch, tag or commit such as main, HEAD~1 or origin/main"
        ) from None
    return Limited(DiffSource(root, request.diff, None), paths, OWN)


def _relative(root: Path, path: Path) -> str:
    resolved = path.resolve()
    if not resolved.exists():
        raise UserError(f"{path}: no such file or folder")
    if not resolved.is_relative_to(root.resolve()):
        raise UserError(f"{path} is outside the repository {root}; check paths inside it")
    return resolved.relative_to(root.resolve()).as_posix() or "."
