"""`factory agent`: list, show and run the small agents of `.factory/blueprint/agents/`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from aifactory.cli.common import Options, console, err_console, execute
from aifactory.cli.errors import EXIT_FAILED, EXIT_OK
from aifactory.errors import UserError
from aifactory.service.project import open_project, session
from aifactory.service.small_agents import (
    AgentEntry,
    AgentTarget,
    OnAttempt,
    OnFiles,
    list_agents,
    run_agent,
    show_agent,
)

app = typer.Typer(help="Small agents: one file each under .factory/blueprint/agents/.", no_args_is_help=True)


@app.command("list")
def list_command(ctx: typer.Context) -> None:
    """Each agent: its name and what it does (a malformed file is listed with its problem)."""

    async def work(opts: Options) -> list[AgentEntry]:
        return list_agents(await open_project(opts.repo))

    entries = execute(ctx, work)
    if not entries:
        console.print("No agents. `factory init` installs the shipped ones under .factory/blueprint/agents/.")
    for entry in entries:
        if entry.definition is None:
            err_console.print(
                f"[bold]{escape(entry.name)}[/]  [red]{escape(entry.problem)}[/]", soft_wrap=True
            )
        else:
            console.print(
                f"[bold]{escape(entry.name)}[/]  {escape(entry.definition.spec.description)}", soft_wrap=True
            )


@app.command()
def show(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The agent's name.")]) -> None:
    """One agent's header: what it takes, produces, may use, plays on and must pass."""

    async def work(opts: Options) -> str:
        definition = show_agent(await open_project(opts.repo), name)
        spec = definition.spec
        return "\n".join(
            [
                f"{definition.name}  ({definition.path})",
                spec.description,
                f"inputs: {', '.join(spec.inputs) or 'none'}",
                f"output: {spec.output.value}",
                f"tools: {', '.join(spec.tools) or 'none'}",
                f"models: {', '.join(spec.models) or 'the provider choices of the executor'}",
                f"checks: {', '.join(spec.checks) or 'none'}",
            ]
        )

    console.print(escape(execute(ctx, work)), soft_wrap=True)


@app.command()
def run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The agent's name (`factory agent list`).")],
    on: Annotated[
        str | None, typer.Option("--on", help="RUN/ATTEMPT: work on that attempt's branch and changed files.")
    ] = None,
    files: Annotated[
        list[Path] | None,
        typer.Option("--files", help="Files of this repository (as at HEAD); repeat for more."),
    ] = None,
    given: Annotated[
        list[str] | None, typer.Option("--input", help="KEY=VALUE for an input the agent takes; repeatable.")
    ] = None,
) -> None:
    """Run one agent: its change becomes one commit on the attempt's branch, or on a new branch
    `factory/agent/NAME-STAMP` for --files (your working tree is not touched)."""

    async def work(opts: Options) -> tuple[str, int]:
        target = _target(on, [opts.path(path) for path in files or []])
        inputs = _inputs(given or [])
        project = await open_project(opts.repo)
        with session(project) as current:
            result = await run_agent(current, name, target, inputs)
        lines = [f"agent {result.agent}: {result.summary}"]
        lines += [f"  {line}" for line in result.report]
        if result.dropped:
            lines.append(f"dropped: {result.dropped}")
        elif result.commit:
            lines.append(f"committed {result.commit[:10]} on {result.branch}")
        else:
            lines.append("no change")
        return "\n".join(lines), EXIT_FAILED if result.dropped else EXIT_OK

    text, code = execute(ctx, work)
    console.print(escape(text), soft_wrap=True)
    raise typer.Exit(code)


def _target(on: str | None, files: list[Path]) -> AgentTarget:
    if on is not None and files:
        raise UserError("--on and --files both say what to work on; give one of them")
    if on is not None:
        return OnAttempt(on)
    return OnFiles(tuple(files))


def _inputs(given: list[str]) -> dict[str, str]:
    inputs = {}
    for item in given:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--input {item!r}: write KEY=VALUE")
        inputs[key.strip()] = value
    return inputs
