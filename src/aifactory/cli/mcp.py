"""`factory mcp`: serve the factory to MCP clients, and register it with them.

`factory mcp` speaks MCP on stdin/stdout, which is how Claude Code, Cursor and VS Code start a
local server; `--http PORT` serves streamable HTTP on 127.0.0.1 only, for clients that connect
to a URL. `factory mcp install claude` prints (or, with `--apply`, runs) the registration command.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from aifactory.cli.common import Options, console, err_console, execute
from aifactory.mcp.server import build
from aifactory.service.project import open_project

app = typer.Typer(
    help="Serve the factory's tools (plan, run, status, check, lessons, agents) to MCP clients.",
    invoke_without_command=True,
)

LOOPBACK = "127.0.0.1"
SERVER = "aifactory"
SERVE = ["factory", "mcp"]
"""The command a client starts; it runs in the client's project folder, the repository."""


class McpClient(StrEnum):
    CLAUDE = "claude"


class Scope(StrEnum):
    """Claude Code's scopes: this project for you, all your projects, or `.mcp.json` for the team."""

    LOCAL = "local"
    USER = "user"
    PROJECT = "project"


@app.callback()
def serve(
    ctx: typer.Context,
    http: Annotated[
        int | None,
        typer.Option(
            "--http", min=1, max=65535, metavar="PORT", help="Serve streamable HTTP on 127.0.0.1:PORT."
        ),
    ] = None,
) -> None:
    """Serve MCP on stdin/stdout (or streamable HTTP with --http) for the repository."""
    if ctx.invoked_subcommand is not None:
        return

    async def work(opts: Options) -> Path:
        return (await open_project(opts.repo)).root

    server = build(execute(ctx, work))
    if http is None:
        server.run("stdio")
        return
    err_console.print(f"aifactory MCP server on http://{LOOPBACK}:{http}/mcp", soft_wrap=True)
    server.run("streamable-http", host=LOOPBACK, port=http)


def registration(scope: Scope) -> list[str]:
    """Claude Code's command that registers the server: `claude mcp add NAME -- COMMAND...`."""
    chosen = [] if scope is Scope.LOCAL else ["--scope", scope.value]
    return ["claude", "mcp", "add", *chosen, SERVER, "--", *SERVE]


def client_config() -> str:
    """The `mcpServers` entry other clients read (`.mcp.json`, Cursor's `mcp.json`)."""
    entry = {"mcpServers": {SERVER: {"command": SERVE[0], "args": SERVE[1:]}}}
    return json.dumps(entry, indent=2)


@app.command("install")
def install(
    ctx: typer.Context,
    client: Annotated[McpClient, typer.Argument(help="The client to register with.")],
    apply: Annotated[bool, typer.Option("--apply", help="Run the command instead of printing it.")] = False,
    scope: Annotated[Scope, typer.Option("--scope", help="Claude Code's configuration scope.")] = Scope.LOCAL,
) -> None:
    """Print (or run, with --apply) the command that registers this server with Claude Code."""
    command = registration(scope)
    if not apply:
        console.print(shlex.join(command), soft_wrap=True, markup=False)
        console.print(
            f"\n[dim]Other clients (.mcp.json, Cursor's mcp.json, VS Code's mcp.json under \"servers\"):[/]\n"
            f"{escape(client_config())}",
            soft_wrap=True,
        )
        return

    async def work(opts: Options) -> Path:
        return (await open_project(opts.repo)).root

    root = execute(ctx, work)
    binary = shutil.which(client.value)
    if binary is None:
        err_console.print(
            f"[bold red]error:[/] no `{client.value}` on PATH: install Claude Code "
            "(npm install -g @anthropic-ai/claude-code), or run the printed command yourself",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    done = subprocess.run([binary, *command[1:]], cwd=root, check=False, capture_output=True, text=True)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise typer.Exit(1)
    console.print(
        f"registered [bold]{SERVER}[/] with Claude Code ({scope.value} scope) for {escape(str(root))}"
    )
