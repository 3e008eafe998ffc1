"""`factory status`, `show` and `diff`."""

from __future__ import annotations

from typing import Annotated

import typer

from aifactory.cli.common import Options, console, execute
from aifactory.cli.report import print_run, status_table
from aifactory.domain.run import Role
from aifactory.domain.usage import Usage
from aifactory.ledger.queries import RunDetail, RunSummary
from aifactory.service import inspect
from aifactory.service.project import open_project


def status(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many recent runs to list.")] = 20,
) -> None:
    """Runs in progress and recent ones, newest first."""

    async def work(opts: Options) -> list[RunSummary]:
        return inspect.status(await open_project(opts.repo), limit=limit)

    runs = execute(ctx, work)
    if not runs:
        console.print('No runs yet. Start one with: factory run "your ask"')
        return
    console.print(status_table(runs))


def show(
    ctx: typer.Context, run: Annotated[str, typer.Argument(help="Run id, or a unique prefix of it.")]
) -> None:
    """A run's attempts, steps with commits, findings, verdicts, tokens and cost."""

    async def work(opts: Options) -> tuple[RunDetail, dict[Role, Usage]]:
        project = await open_project(opts.repo)
        detail = inspect.show(project, run)
        return detail, inspect.role_usage(project, detail.id)

    detail, by_role = execute(ctx, work)
    print_run(console, detail, by_role)


def diff(
    ctx: typer.Context,
    run: Annotated[str, typer.Argument(help="Run id, or a unique prefix of it.")],
    attempt: Annotated[str, typer.Argument(help="Attempt name, e.g. a1.")],
) -> None:
    """An attempt's change against the run's base commit (extra arguments go to git diff, e.g. --stat)."""

    async def work(opts: Options) -> int:
        return inspect.show_diff(await open_project(opts.repo), run, attempt, ctx.args)

    raise typer.Exit(execute(ctx, work))
