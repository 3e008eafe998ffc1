"""`factory run` and `factory resume`: attempts of a plan with live progress, then the summary and
what to do next."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from aifactory.cli.common import Options, console, err_console, execute, interactive, terminal_answers
from aifactory.cli.errors import EXIT_FAILED, EXIT_OK
from aifactory.cli.progress import Progress
from aifactory.cli.report import print_reasons, print_rounds, summary_table
from aifactory.domain.run import AttemptState, RunState
from aifactory.engine.run import RunOutcome
from aifactory.ledger.queries import RunDetail
from aifactory.service import resuming
from aifactory.service.inspect import show
from aifactory.service.planning import no_answers
from aifactory.service.project import Project, open_project, session
from aifactory.service.running import RunStart
from aifactory.service.running import run as run_service

_STOPPED = (AttemptState.FAILED, AttemptState.INTERRUPTED)
"""Attempts that ended before their verdict: `factory resume` continues them."""


def run(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A plan file (plans/x-plan.md), or an ask to plan first.")],
    *,
    attempts: Annotated[
        int | None, typer.Option("--attempts", "-n", min=1, max=64, help="Attempts to start.")
    ] = None,
    context: Annotated[
        list[Path] | None, typer.Option("--context", "-c", help="With an ask: a document the planner reads.")
    ] = None,
    rounds: Annotated[
        int | None,
        typer.Option(
            "--rounds",
            "-r",
            min=1,
            max=20,
            help="Rounds at most: when no attempt passes, findings become lessons and the plan is rewritten.",
        ),
    ] = None,
    max_cost: Annotated[
        float | None,
        typer.Option("--max-cost", min=0, help="USD the run may spend on models; new requests stop there."),
    ] = None,
    max_tokens: Annotated[
        int | None,
        typer.Option("--max-tokens", min=0, help="Tokens the run may use; new requests stop there."),
    ] = None,
    no_interactive: Annotated[
        bool, typer.Option("--no-interactive", help="With an ask: never ask questions at the terminal.")
    ] = False,
    run_id: Annotated[
        str | None, typer.Option("--run-id", hidden=True, help="Record the run under this id (launchers).")
    ] = None,
) -> None:
    """Run attempts of a plan in parallel worktrees, verify each, and report which passed."""
    answerer = terminal_answers if interactive(no_interactive) else no_answers

    async def work(opts: Options) -> tuple[Project, RunOutcome]:
        path = opts.path(Path(target))
        is_plan = path.suffix == ".md" or path.is_file()
        start = (
            RunStart(plan_path=path, run_id=run_id)
            if is_plan
            else RunStart(ask=target, context=[opts.path(c) for c in context or []], run_id=run_id)
        )
        budget = {"max_cost": max_cost, "max_tokens": max_tokens}
        overrides = {"run": {key: value for key, value in budget.items() if value is not None}}
        project = await open_project(opts.repo, overrides=overrides)
        with Progress(console) as progress, session(project, progress) as current:
            outcome = await run_service(
                current,
                start,
                attempts=attempts or project.config.run.attempts,
                rounds=rounds,
                answer=answerer,
                notice=_notice,
            )
        return project, outcome

    project, outcome = execute(ctx, work)
    print_outcome(show(project, outcome.run_id), outcome)
    raise typer.Exit(EXIT_OK if outcome.state is RunState.PASSED else EXIT_FAILED)


def resume(
    ctx: typer.Context,
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run id, or a unique prefix of it.")],
    *,
    max_cost: Annotated[
        float | None,
        typer.Option("--max-cost", min=0, help="USD the whole run may spend, counting what it spent before."),
    ] = None,
    max_tokens: Annotated[
        int | None,
        typer.Option("--max-tokens", min=0, help="Tokens the whole run may use, counting those used before."),
    ] = None,
) -> None:
    """Continue a run that stopped (a provider's limit, a budget, Ctrl-C, a crash) from its last commits."""

    async def work(opts: Options) -> tuple[Project, RunOutcome]:
        found = resuming.stopped(
            await open_project(opts.repo), run_ref, max_cost=max_cost, max_tokens=max_tokens
        )
        with Progress(console) as progress, session(found.project, progress) as current:
            outcome = await resuming.resume(current, found, notice=_notice)
        return found.project, outcome

    project, outcome = execute(ctx, work)
    print_outcome(show(project, outcome.run_id), outcome)
    raise typer.Exit(EXIT_OK if outcome.state is RunState.PASSED else EXIT_FAILED)


def _notice(message: str) -> None:
    err_console.print(f"[yellow]note:[/] {escape(message)}", soft_wrap=True)


def print_outcome(detail: RunDetail, outcome: RunOutcome) -> None:
    console.print()
    console.print(summary_table(detail))
    console.print(f"[dim]branches: factory/{detail.id}/<attempt>[/]")
    print_rounds(console, detail)
    print_reasons(console, detail)
    if outcome.ranking:
        best = outcome.ranking[0]
        order = " > ".join(outcome.ranking)
        console.print(f"\n[green]{len(outcome.ranking)} attempt(s) passed[/] (best first: {order}).")
        console.print(f"Look:  factory diff {detail.id} {best}")
        console.print(f"Merge: factory merge {detail.id} {best}")
    else:
        console.print(f"\n[red]no attempt passed[/]: {escape(outcome.reason)}", soft_wrap=True)
        console.print(f"Details: factory show {detail.id}")
        last = detail.rounds[-1].number if detail.rounds else 1
        if any(a.round == last and a.state in _STOPPED for a in detail.attempts):
            console.print(f"Resume: factory resume {detail.id}")
