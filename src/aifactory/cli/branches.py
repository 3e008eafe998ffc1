"""`factory merge`, `keep` and `clean`."""

from __future__ import annotations

from typing import Annotated

import typer

from aifactory.cli.common import Options, console, execute
from aifactory.service import branches
from aifactory.service.project import open_project

RunArg = Annotated[str, typer.Argument(help="Run id, or a unique prefix of it.")]
AttemptArg = Annotated[str, typer.Argument(help="Attempt name, e.g. a1.")]


def merge(
    ctx: typer.Context,
    run: RunArg,
    attempt: AttemptArg,
    force: Annotated[bool, typer.Option("--force", help="Merge even if the attempt did not pass.")] = False,
) -> None:
    """Merge an attempt into the current branch, after checking with git merge-tree that it merges cleanly."""

    async def work(opts: Options) -> branches.Merged:
        return await branches.merge(await open_project(opts.repo), run, attempt, force=force)

    merged = execute(ctx, work)
    console.print(
        f"[green]merged[/] {merged.branch} into {merged.into} as {merged.commit[:10]}; "
        "`factory clean` keeps its branch"
    )


def keep(ctx: typer.Context, run: RunArg, attempt: AttemptArg) -> None:
    """Keep an attempt's branch when `factory clean` removes the others."""

    async def work(opts: Options) -> str:
        return branches.keep(await open_project(opts.repo), run, attempt)

    console.print(f"keeping {execute(ctx, work)}")


def clean(
    ctx: typer.Context,
    run: Annotated[str | None, typer.Argument(help="Only this run (default: every finished run).")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be removed, remove nothing.")
    ] = False,
) -> None:
    """Remove the worktrees of finished runs, and their branches unless kept or merged."""

    async def work(opts: Options) -> branches.Cleaned:
        return await branches.clean(await open_project(opts.repo), run, dry_run=dry_run)

    report = execute(ctx, work)
    verb = "would remove" if dry_run else "removed"
    for path in report.worktrees:
        console.print(f"  {verb} worktree {path}")
    for branch in report.branches:
        console.print(f"  {verb} branch {branch}")
    for branch in report.kept:
        console.print(f"  kept branch {branch}")
    if not (report.worktrees or report.branches):
        console.print("nothing to clean")
