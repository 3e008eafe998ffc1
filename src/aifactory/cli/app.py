"""The `factory` command: global options, and one module per command group registered here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pydantic_ai
import typer

from aifactory import __version__
from aifactory.cli import (
    branches,
    checking,
    demo,
    inspecting,
    lessons,
    planning,
    replay,
    running,
    setup,
    stats,
)
from aifactory.cli.common import Options, console

app = typer.Typer(
    name="factory",
    help="aifactory: turns an ask into verified code: planners, executors and verifiers in git worktrees.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        console.print(f"aifactory {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    repo: Annotated[
        Path, typer.Option("--repo", "-C", help="Work on the repository at PATH instead of the current one.")
    ] = Path(),
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    ctx.obj = Options(repo=repo, debug=debug)


app.command("init")(setup.init)
app.command("plan")(planning.plan)
app.command("run")(running.run)
app.command("status")(inspecting.status)
app.command("show")(inspecting.show)
app.command("diff", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
    inspecting.diff
)
app.command("merge")(branches.merge)
app.command("keep")(branches.keep)
app.command("clean")(branches.clean)
app.add_typer(lessons.app, name="lessons")
app.command("check")(checking.check_command)
app.command("stats")(stats.stats)
app.command("replay")(replay.replay_command)
app.command("demo")(demo.demo)


def main() -> None:
    # The factory owns its terminal: no library banners between its progress lines.
    pydantic_ai.BANNER_ENABLED = False
    app()
