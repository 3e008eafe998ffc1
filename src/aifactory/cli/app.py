"""The `factory` command: global options, and one module per command group, imported when it runs.

A command's module is loaded only for that command (or for `--help`, which lists them all): running
models needs pydantic-ai and the provider SDKs, most of the start-up time, and `factory check` in a
pre-commit hook or CI runs none.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer
from typer.core import TyperGroup

from aifactory import __version__
from aifactory.cli.common import Options, console

if TYPE_CHECKING:
    # typer's own (vendored) click: the types TyperGroup's methods take and return.
    from typer._click import Command, Context

COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("aifactory.cli.setup", "init"),
    "plan": ("aifactory.cli.planning", "plan"),
    "run": ("aifactory.cli.running", "run"),
    "resume": ("aifactory.cli.running", "resume"),
    "status": ("aifactory.cli.inspecting", "status"),
    "show": ("aifactory.cli.inspecting", "show"),
    "diff": ("aifactory.cli.inspecting", "diff"),
    "merge": ("aifactory.cli.branches", "merge"),
    "keep": ("aifactory.cli.branches", "keep"),
    "clean": ("aifactory.cli.branches", "clean"),
    "check": ("aifactory.cli.checking", "check_command"),
    "models": ("aifactory.cli.models", "models"),
    "stats": ("aifactory.cli.stats", "stats"),
    "usage": ("aifactory.cli.usage", "usage"),
    "replay": ("aifactory.cli.replay", "replay_command"),
    "demo": ("aifactory.cli.demo", "demo"),
    "lessons": ("aifactory.cli.lessons", "app"),
    "agent": ("aifactory.cli.small_agents", "app"),
    "workflow": ("aifactory.cli.workflows", "app"),
    "mcp": ("aifactory.cli.mcp", "app"),
}
"""Each command, in the order `--help` lists them: (module, function, or a `typer.Typer` group)."""

CONTEXT_SETTINGS: dict[str, dict[str, Any]] = {
    "diff": {"allow_extra_args": True, "ignore_unknown_options": True},
}
"""`factory diff` passes its unknown options on to `git diff`."""

MARKUP: Final = "rich"


class LazyCommands(TyperGroup):
    """The top-level group: a command is built from its module when it is first asked for."""

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        # An unknown name loads every command, so typer can suggest the nearest ("did you mean").
        for name in [cmd_name] if cmd_name in COMMANDS else COMMANDS:
            if name not in self.commands:
                self.add_command(_load(name), name)
        return self.commands.get(cmd_name)


def _load(name: str) -> Command:
    """The command typer makes of `name`'s function or group, as `app.command`/`app.add_typer` would."""
    module, attribute = COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    holder = typer.Typer(rich_markup_mode=MARKUP, add_completion=False)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name, context_settings=CONTEXT_SETTINGS.get(name))(target)
    return typer.main.get_group(holder).commands[name]


app = typer.Typer(
    name="factory",
    help="aifactory: turns an ask into verified code: planners, executors and verifiers in git worktrees.",
    cls=LazyCommands,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=MARKUP,
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


def main() -> None:
    app()
