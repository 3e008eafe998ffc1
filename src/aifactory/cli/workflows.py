"""`factory workflow`: validate a workflow file, run it, list its runs, resume a stopped one."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from aifactory.cli.common import Options, console, err_console, execute
from aifactory.cli.errors import EXIT_FAILED, EXIT_OK
from aifactory.cli.workflow_progress import WorkflowProgress
from aifactory.domain.workflow import WorkflowState
from aifactory.errors import UserError
from aifactory.service.project import open_project, session
from aifactory.workflow import api
from aifactory.workflow.load import workflow_names

app = typer.Typer(
    help="Workflows: DAG files of steps under .factory/workflows/NAME.toml.", no_args_is_help=True
)


@app.command()
def validate(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="A workflow's name; all of them when left out.")] = None,
) -> None:
    """Report cycles, unknown agents, missing inputs and outputs, and type mismatches, with file and line."""

    async def work(opts: Options) -> int:
        project = await open_project(opts.repo)
        names = [name] if name else workflow_names(project.root)
        if not names:
            raise UserError("no workflows: write one as .factory/workflows/NAME.toml")
        problems = 0
        for each in names:
            workflow, found = api.check(project, each)
            for problem in found:
                err_console.print(f"[red]error:[/] {escape(str(problem))}", soft_wrap=True)
            problems += len(found)
            if not found:
                console.print(f"{workflow.path}: ok ({len(workflow.spec.steps)} steps)")
        return problems

    raise typer.Exit(EXIT_FAILED if execute(ctx, work) else EXIT_OK)


@app.command()
def run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The workflow's name (.factory/workflows/NAME.toml).")],
    inputs: Annotated[
        list[str] | None, typer.Option("--input", "-i", help="KEY=VALUE; @path reads a file.")
    ] = None,
) -> None:
    """Run a workflow's steps as soon as their needs are met, in parallel, on a new branch."""

    async def work(opts: Options) -> api.WorkflowOutcome:
        project = await open_project(opts.repo)
        with WorkflowProgress(console) as progress, session(project, progress) as current:
            return await api.start(current, name, inputs or [])

    _report(execute(ctx, work))


@app.command()
def runs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many recent runs to list.")] = 20,
) -> None:
    """Workflow runs, newest first: state, step instances done of all, when each started."""

    async def work(opts: Options) -> list[api.RunLine]:
        return api.list_runs(await open_project(opts.repo), limit)

    lines = execute(ctx, work)
    if not lines:
        console.print("No workflow runs yet. Start one with: factory workflow run NAME --input KEY=VALUE")
        return
    table = Table(title="workflow runs, newest first", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("run", "workflow", "state", "steps", "started"):
        table.add_column(column, no_wrap=True)
    for line in lines:
        run = line.run
        state = "running (process gone)" if run.stale else run.state.value
        table.add_row(
            run.id,
            run.workflow,
            state,
            f"{line.done}/{line.total}",
            run.started_at.astimezone().strftime("%m-%d %H:%M"),
        )
    console.print(table)


@app.command()
def resume(
    ctx: typer.Context,
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Workflow run id, or a unique prefix.")],
) -> None:
    """Continue a stopped workflow run: done steps are kept, the others run again."""

    async def work(opts: Options) -> api.WorkflowOutcome:
        project = await open_project(opts.repo)
        with WorkflowProgress(console) as progress, session(project, progress) as current:
            return await api.resume(current, run_ref)

    _report(execute(ctx, work))


def _report(outcome: api.WorkflowOutcome) -> None:
    console.print(f"\nworkflow run {outcome.run_id}: {outcome.state.value} (branch {outcome.branch})")
    if outcome.state is WorkflowState.PASSED:
        raise typer.Exit(EXIT_OK)
    console.print(f"[red]{escape(outcome.reason)}[/]", soft_wrap=True)
    raise typer.Exit(EXIT_FAILED)
