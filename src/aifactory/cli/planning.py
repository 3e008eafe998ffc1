"""`factory plan`: plan an ask, or complete a plan whose questions were open."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from aifactory.cli.common import Options, console, execute, interactive, terminal_answers
from aifactory.errors import UserError
from aifactory.service.planning import PlanResult, answer_plan, no_answers, plan_ask
from aifactory.service.project import open_project, session


def plan(
    ctx: typer.Context,
    ask: Annotated[str | None, typer.Argument(help="What you want built, in your words.")] = None,
    context: Annotated[
        list[Path] | None,
        typer.Option("--context", "-c", help="A document the planner should read (repeatable)."),
    ] = None,
    answer: Annotated[
        Path | None,
        typer.Option("--answer", help="Complete PLAN_FILE: answer its open questions, then plan."),
    ] = None,
    no_interactive: Annotated[
        bool,
        typer.Option("--no-interactive", help="Never ask at the terminal; leave questions open in the file."),
    ] = False,
) -> None:
    """Plan an ask: clarifying questions, implementation plan, reviewed task list, in plans/<slug>-plan.md."""
    answerer = terminal_answers if interactive(no_interactive) else no_answers

    async def work(opts: Options) -> PlanResult:
        project = await open_project(opts.repo)
        with session(project) as current:
            if answer is not None and ask is None:
                return await answer_plan(current, opts.path(answer), answerer)
            if ask is not None and answer is None:
                return await plan_ask(current, ask, [opts.path(c) for c in context or []], answerer)
        raise UserError('give either an ask (factory plan "ASK") or --answer PLAN_FILE, not both or neither')

    result = execute(ctx, work)
    report(result)


def report(result: PlanResult) -> None:
    plan = result.plan
    if plan.open_questions:
        console.print(
            f"[yellow]{len(plan.open_questions)} open question(s)[/] in {escape(str(result.path))}:"
        )
        for number, question in enumerate(plan.questions, start=1):
            if question.is_open:
                console.print(f"  Q{number}. {escape(question.text)}")
        console.print(
            f"Answer them in the file, or run [bold]factory plan --answer {escape(str(result.path))}[/]."
        )
        raise typer.Exit(0)
    console.print(f"[green]plan ready[/]: {escape(str(result.path))}  ({escape(plan.title)})")
    for number, step in enumerate(plan.steps, start=1):
        console.print(f"  {number}. {escape(step.title)}  [dim]({step.complexity.value})[/]")
    console.print(f"Next: [bold]factory run {escape(str(result.path))}[/]")
