"""What every command shares: the console, the repository option, and one way to report errors."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt

from aifactory.cli.errors import exit_code
from aifactory.errors import FactoryError

T = TypeVar("T")

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@dataclass(frozen=True)
class Options:
    """Global options, given before the command: `factory --repo PATH run …`."""

    repo: Path
    debug: bool

    def path(self, given: Path) -> Path:
        """A path given on the command line, read relative to --repo as git -C does."""
        return given if given.is_absolute() else self.repo / given


def options(ctx: typer.Context) -> Options:
    found = ctx.find_object(Options)
    if found is None:
        raise RuntimeError("the factory callback did not run")
    return found


def execute(ctx: typer.Context, work: Callable[[Options], Coroutine[Any, Any, T]]) -> T:
    """Run an async command body; errors become a message and an exit code, tracebacks only with --debug."""
    opts = options(ctx)
    try:
        return asyncio.run(work(opts))
    except (FactoryError, KeyboardInterrupt) as error:
        if opts.debug:
            raise
        fail(error)


def fail(error: BaseException) -> NoReturn:
    code = exit_code(error)
    if isinstance(error, KeyboardInterrupt):
        err_console.print(
            "[yellow]interrupted[/]: work stopped; commits made so far are kept on their branches, and "
            "`factory resume RUN` continues a run from them (`factory status` lists runs)"
        )
    else:
        err_console.print(f"[bold red]error:[/] {escape(str(error))}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


def terminal_answers(questions: Sequence[str]) -> list[str | None]:
    """Ask the planner's questions at the terminal; an empty answer leaves the question open."""
    answers: list[str | None] = []
    for number, question in enumerate(questions, start=1):
        console.print(f"[bold]Q{number}.[/] {escape(question)}")
        answer = Prompt.ask(
            "  answer (empty leaves it open)", default="", show_default=False, console=console
        )
        answers.append(answer.strip() or None)
    return answers


def interactive(no_interactive: bool) -> bool:
    return not no_interactive and sys.stdin.isatty()


def money(cost: Decimal | None) -> str:
    return "—" if cost is None else f"${cost:.4f}"
