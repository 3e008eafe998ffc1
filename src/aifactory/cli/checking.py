"""`factory check`: lesson checks as a linter, for a terminal, a pre-commit hook or CI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from aifactory.cli.common import Options, console, execute
from aifactory.cli.errors import EXIT_FAILED, EXIT_OK
from aifactory.service.checking import CheckRequest, CheckResult, check
from aifactory.service.project import open_project, session


def check_command(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders to check (default: the whole repository).")
    ] = None,
    *,
    diff: Annotated[
        str | None,
        typer.Option(
            "--diff", help="Check only lines added since REF (working tree included), e.g. HEAD or main."
        ),
    ] = None,
    on: Annotated[
        str | None,
        typer.Option("--on", help="RUN/ATTEMPT: check what that attempt changed since its run's base."),
    ] = None,
    run_all: Annotated[
        bool, typer.Option("--all", help="Also run the configured test and lint commands.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Run the lessons' checks like a linter (`path:line:col  lesson  message`); exit 1 when one blocks."""

    async def work(opts: Options) -> CheckResult:
        project = await open_project(opts.repo)
        request = CheckRequest(
            diff=diff, paths=[opts.path(p) for p in paths or []], commands=run_all, attempt=on
        )
        with session(project) as current:
            return await check(current, request)

    result = execute(ctx, work)
    if as_json:
        console.print_json(json.dumps(_as_json(result)))
    else:
        print_findings(result)
    raise typer.Exit(EXIT_FAILED if result.blocking else EXIT_OK)


def print_findings(result: CheckResult) -> None:
    for hit in result.report.hits:
        console.print(
            f"{escape(hit.location)}  [bold]{escape(hit.lesson)}[/]  {escape(hit.message)}"
            + ("" if hit.severity.value == "error" else f"  [dim]({hit.severity.value})[/]"),
            soft_wrap=True,
            highlight=False,
        )
    for command, verdict in result.commands:
        mark = "[green]passed[/]" if verdict.passed else "[red]failed[/]"
        console.print(f"{escape(command)}: {mark}  [dim]{escape(verdict.summary)}[/]", soft_wrap=True)
    report = result.report
    console.print(
        f"[dim]{len(report.hits)} finding(s) from {result.lessons} lesson check(s) "
        f"in {report.files} file(s), {report.seconds:.2f}s[/]",
        highlight=False,
    )


def _as_json(result: CheckResult) -> dict[str, object]:
    return {
        "passed": not result.blocking,
        "lessons": result.lessons,
        "files": result.report.files,
        "findings": [
            {
                "path": hit.path,
                "line": hit.line,
                "column": hit.column,
                "lesson": hit.lesson,
                "message": hit.message,
                "severity": hit.severity.value,
            }
            for hit in result.report.hits
        ],
        "commands": [
            {"command": command, "passed": verdict.passed, "summary": verdict.summary}
            for command, verdict in result.commands
        ],
    }
