"""`factory replay`: earlier asks against the blueprint as it is now, side by side with how they fared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from aifactory.cli.common import Options, console, err_console, execute
from aifactory.cli.errors import EXIT_FAILED, EXIT_OK
from aifactory.cli.progress import Progress
from aifactory.domain.lesson import LessonTrial
from aifactory.service.project import open_project, session
from aifactory.service.replay import ReplayReport, replay, tasks_from_file, tasks_from_ledger


def replay_command(
    ctx: typer.Context,
    *,
    tasks: Annotated[
        Path | None,
        typer.Option(
            "--tasks", help="A TOML file of [[tasks]] (ask, context, answers) instead of the ledger's asks."
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="From the ledger: how many asks, latest first.")
    ] = 10,
    attempts: Annotated[int | None, typer.Option("--attempts", "-n", min=1, max=64)] = None,
    adopt: Annotated[
        list[str] | None, typer.Option("--with", help="Treat this proposed lesson as active for the replay.")
    ] = None,
    drop: Annotated[
        list[str] | None, typer.Option("--without", help="Leave this active lesson out for the replay.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """Run earlier asks again (one round, learning off) and compare first-round results then and now."""

    async def work(opts: Options) -> ReplayReport:
        project = await open_project(opts.repo)
        trial = LessonTrial(adopted=frozenset(adopt or ()), dropped=frozenset(drop or ()))
        # With --json, stdout carries the JSON alone; progress goes to stderr.
        shown = err_console if as_json else console
        with Progress(shown) as progress, session(project, progress, trial=trial) as current:
            chosen = tasks_from_file(opts.path(tasks)) if tasks else tasks_from_ledger(current, limit=limit)
            if not chosen:
                return ReplayReport()
            return await replay(
                current,
                chosen,
                attempts=attempts or project.config.run.attempts,
                notice=lambda message: err_console.print(
                    f"[yellow]note:[/] {escape(message)}", soft_wrap=True
                ),
            )

    report = execute(ctx, work)
    if as_json:
        console.print_json(json.dumps(_as_json(report)))
    elif not report.results:
        console.print('Nothing to replay yet: run an ask first (factory run "..."), or pass --tasks FILE.')
    else:
        _print(report)
    raise typer.Exit(EXIT_OK if report.passed_now >= report.passed_then else EXIT_FAILED)


def _print(report: ReplayReport) -> None:
    table = Table(title="replay: first round then and now", box=box.SIMPLE_HEAD)
    for column in ("ask", "then (blueprint)", "now (blueprint)", "run"):
        table.add_column(column, overflow="ellipsis", no_wrap=True)
    for result in report.results:
        task = result.task
        then = "-" if task.first_passed is None else ("pass" if task.first_passed else "fail")
        table.add_row(
            task.ask.splitlines()[0][:60],
            f"{then} ({task.first_blueprint or 'tasks file'})",
            f"{'pass' if result.passed else 'fail'} ({result.blueprint or '-'})",
            result.run_id or escape(result.reason),
        )
    console.print(table)
    known = [result for result in report.results if result.task.first_passed is not None]
    console.print(
        f"first-round passes: then {report.passed_then}/{len(known)}, "
        f"now {report.passed_now}/{len(report.results)}"
    )


def _as_json(report: ReplayReport) -> dict[str, object]:
    return {
        "passed_then": report.passed_then,
        "passed_now": report.passed_now,
        "results": [
            {
                "ask": result.task.ask,
                "first_run": result.task.first_run,
                "first_blueprint": result.task.first_blueprint,
                "first_passed": result.task.first_passed,
                "run_id": result.run_id,
                "blueprint": result.blueprint,
                "passed": result.passed,
                "reason": result.reason,
            }
            for result in report.results
        ],
    }
